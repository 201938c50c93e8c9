import Foundation
@testable import HuiqiServer
import HuiqiStore
import SQLKit
import Testing
import Vapor

/// The database's collation is read for the operator's note (docs/deploy.md): a byte-order collation needs no
/// advice, any other gets one naming it, and SQLite has none to give.
@Suite struct CollationTests {
    @Test func adviceOnlyForCollationsThatAreNotByteOrder() throws {
        #expect(Store.collationAdvice(nil) == nil)
        #expect(Store.collationAdvice("C") == nil)
        #expect(Store.collationAdvice("POSIX") == nil)
        for locale in ["C.UTF-8", "en_US.UTF-8", "zh_CN.UTF-8"] {
            let advice = try #require(Store.collationAdvice(locale))
            #expect(advice.contains(locale) && advice.contains("LC_COLLATE 'C'"), "\(locale)")
        }
    }

    @Test(arguments: Backend.allCases)
    func theDatabasesCollationIsRead(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let collation = try await store.textCollation()
            switch backend {
            case .sqlite: #expect(collation == nil)
            case .postgres:
                let db = try #require(app.db as? any SQLDatabase)
                let shown = try await db.raw("SHOW lc_collate").first()?.decode(column: "lc_collate", as: String.self)
                #expect(collation != nil && collation == shown)
            }
        }
    }
}
