import Foundation
import HuiqiRules
import HuiqiStore
import Testing
import Vapor

/// The registry through the API: officers register taxpayers in their offices and record each year's VAT filing
/// frequency; every change is audited and every bad field named.
@Suite struct RegistryTests {
    static func taxpayer(_ id: String, office: String = "13101150100", kind: String = "enterprise") -> String {
        #"{"id":"\#(id)","name":"浦东测试商贸有限公司","kind":"\#(kind)","vat_status":"small_scale","industry":"other","restricted_industry":false,"region":"310115","office_id":"\#(office)","registered_on":"2024-03-01"}"#
    }

    @Test(arguments: Backend.allCases)
    func officersRegisterTaxpayersAndFrequencies(_ backend: Backend) async throws {
        try await withHuiqi(backend) { app in
            let store = Store(app.db)
            let body = "91310115MA9WXYTR0"
            let id = body + String(CreditCode.checkCharacter(for: body)!)
            let officer = try await token(app, "pudong", "huiqi-officer")
            // A wrong check character, a missing field, an office of another district: each names its field.
            let wrongCheck = String(id.dropLast()) + (id.last == "0" ? "1" : "0")
            let bad = try await call(app, .POST, "/api/v1/taxpayers", token: officer, body: Self.taxpayer(wrongCheck))
            #expect(bad.status == .badRequest && bad.json?["error"]?["field"] == .string("id"))
            let missing = try await call(app, .POST, "/api/v1/taxpayers", token: officer, body: Self.taxpayer(id).replacingOccurrences(of: #","region":"310115""#, with: ""))
            #expect(missing.status == .badRequest && missing.json?["error"]?["field"] == .string("region"))
            let elsewhere = try await call(app, .POST, "/api/v1/taxpayers", token: officer, body: Self.taxpayer(id, office: "13101010100"))
            #expect(elsewhere.status == .badRequest && elsewhere.json?["error"]?["field"] == .string("office_id"))
            let supervisor = try await token(app, "shanghai", "huiqi-supervisor")
            #expect(try await call(app, .POST, "/api/v1/taxpayers", token: supervisor, body: Self.taxpayer(id)).status == .forbidden)
            #expect(try await store.taxpayer(id) == nil)
            // Registered once; a second time is a conflict.
            #expect(try await call(app, .POST, "/api/v1/taxpayers", token: officer, body: Self.taxpayer(id)).status == .created)
            #expect(try await call(app, .POST, "/api/v1/taxpayers", token: officer, body: Self.taxpayer(id)).status == .conflict)
            // Without a frequency for 2026 the return is undetermined; recorded once, it cannot change within the year.
            let vat = #"{"vat":{"period":"2026-Q1","sales":[{"kind":"goods","amount":"1000.00","rate":"0.03"}]}}"#
            let undetermined = try await call(app, .POST, "/api/v1/taxpayers/\(id)/returns", token: officer, body: vat)
            #expect(undetermined.status == .badRequest && undetermined.body.contains("filing frequency"))
            let path = "/api/v1/taxpayers/\(id)/vat-frequencies/2026"
            #expect(try await call(app, .PUT, path, token: officer, body: #"{"frequency":"weekly"}"#).json?["error"]?["field"] == .string("frequency"))
            #expect(try await call(app, .PUT, path, token: officer, body: #"{"frequency":"quarterly"}"#).status == .created)
            #expect(try await call(app, .PUT, path, token: officer, body: #"{"frequency":"monthly"}"#).status == .conflict)
            let huangpu = try await token(app, "huangpu", "huiqi-officer")
            #expect(try await call(app, .PUT, "/api/v1/taxpayers/\(id)/vat-frequencies/2025", token: huangpu, body: #"{"frequency":"monthly"}"#).status == .notFound)
            #expect(try await call(app, .POST, "/api/v1/taxpayers/\(id)/returns", token: officer, body: vat).status == .created)
            let registered = try await store.auditCount(action: "register_taxpayer"), frequencies = try await store.auditCount(action: "set_vat_frequency")
            #expect(registered == 1 && frequencies == 1)
        }
    }
}
