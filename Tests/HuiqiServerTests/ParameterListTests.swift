import Foundation
@testable import HuiqiServer
import HuiqiStore
import SQLKit
import Testing
import Vapor

/// A version's list of parameter versions in force, stored apart (migration 025): read back into its determination,
/// versions written before read as they were, a missing list is found by the check, and a list cannot be changed.
@Suite struct ParameterListTests {
    @Test(arguments: Backend.allCases)
    func listsStoredApartReadAsBefore(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let db = try #require(app.db as? any SQLDatabase)
            let company = "91310115MA0000001Y"
            let list = #"[{"version":"vat.x@2026-01-01","value":"1","cite":"公告","grade":"A"}]"#
            let id = ParameterList.id(of: list)
            #expect(id.count == 64)
            try await store.saveParameterList(id: id, json: list)
            try await store.saveParameterList(id: id, json: list)  // again: a no-op, as for two concurrent filers
            // Three versions of one return: the list inline (written before migration 025), the list apart, and an
            // empty determination with the list apart.
            func version(_ n: Int, _ determination: String, _ parameters: String?) -> ReturnVersionRow {
                var r = ReturnVersionRow(taxpayer_id: company, return_id: "vat:2019-Q1", version: n, section: "vat", period: "2019-Q1",
                                         case_json: "{}", determination_json: determination, computed_tax_fen: 0, relief_fen: 0, declared_tax_fen: nil,
                                         idempotency_key: "p-\(n)", filed_by: "user-company", filed_at: "2026-05-28T00:00:00Z")
                r.parameters_id = parameters
                return r
            }
            let inline = #"{"vat":{"tax":"0.00"},"parameters":\#(list)}"#
            try await db.insert(into: "return_versions").models([version(1, inline, nil), version(2, #"{"vat":{"tax":"0.00"}}"#, id),
                                                                 version(3, "{}", id)], nilEncodingStrategy: .asNil).run()
            let read = try await store.versions(taxpayer: company, returnID: "vat:2019-Q1")
            #expect(read.map(\.determination_json) == [inline, inline, #"{"parameters":\#(list)}"#])
            #expect(try await store.version(taxpayer: company, idempotencyKey: "p-2")?.determination_json == inline)
            #expect(try await store.check().filter { $0.what.contains("parameter list") }.isEmpty)

            // A version naming a list the database does not hold: reading it fails (never shows a determination
            // without its list), and the check names it.
            let missing = String(repeating: "0", count: 64)
            try await db.insert(into: "return_versions").model(version(4, "{}", missing), nilEncodingStrategy: .asNil).run()
            await #expect(throws: StoreError.missingParameterList(missing)) { try await store.versions(taxpayer: company, returnID: "vat:2019-Q1") }
            let problems = try await store.check().map(\.what)
            #expect(problems.contains { $0.contains("vat:2019-Q1/v4") && $0.contains(missing) })

            // A stored list cannot be changed.
            await #expect(throws: (any Error).self) { try await db.raw("UPDATE parameter_lists SET list_json = '[]'").run() }
            await #expect(throws: (any Error).self) { try await db.raw("DELETE FROM parameter_lists").run() }
        }
    }

    /// The list goes in as the object's last member, after a comma unless the object is empty; text that is not an
    /// object ending in "}" is left as it is. Chinese text before it is kept byte for byte.
    @Test func listIsInlinedAsTheLastMember() {
        let list = #"[{"name":"vat.small_scale.limit","citation":"财政部 税务总局公告2023年第19号"}]"#
        #expect(ParameterList.inline(list, into: #"{"outcome":"免征","note":"小规模纳税人"}"#)
                == #"{"outcome":"免征","note":"小规模纳税人","parameters":"# + list + "}")
        #expect(ParameterList.inline(list, into: "{}") == #"{"parameters":"# + list + "}")
        #expect(ParameterList.inline(list, into: "{ \n }") == #"{ \#n "parameters":"# + list + "}")
        #expect(ParameterList.inline(list, into: "[1]") == "[1]")
        #expect(ParameterList.inline(list, into: "") == "")
    }
}
