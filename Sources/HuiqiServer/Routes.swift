import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

/// The HTTP surface, by area. Handlers parse, call one service function, and return JSON.
func routes(_ app: Application) throws {
    // Operations
    app.get("health", use: health)
    app.get("ready", use: ready)
    app.get("metrics", use: metrics)
    app.get("openapi.json", use: openAPIDocument)

    // JSON API for accounting software (bearer tokens)
    let api = app.grouped("api", "v1")
    api.post("login", use: login)
    let authed = api.grouped(BearerActor())
    authed.post("logout", use: logout)
    authed.post("users", ":user", "revoke", use: revokeCredentials)
    authed.post("calc", use: calc)
    authed.get("taxpayers", use: listTaxpayers)
    authed.post("taxpayers", use: registerTaxpayer)
    authed.put("taxpayers", ":taxpayer", "vat-frequencies", ":year", use: setVATFrequency)
    authed.get("taxpayers", ":taxpayer", use: showTaxpayer)
    // Checks its own bearer token: on PostgreSQL in the statement that reads what filing needs (`FilingService.file(token:…)`).
    api.post("taxpayers", ":taxpayer", "returns", use: fileReturn)
    authed.post("taxpayers", ":taxpayer", "returns", "preview", use: previewReturn)
    authed.get("taxpayers", ":taxpayer", "returns", use: listReturns)
    authed.get("taxpayers", ":taxpayer", "returns", ":return", use: showReturn)
    administrationRoutes(authed)
    statisticsRoutes(authed)
    registryRoutes(authed)
    reportRoutes(authed)
    supervisionRoutes(authed)
    knowledgeRoutes(public: api, authed: authed)
}

struct LoginBody: Content { let login: String; let password: String }

@Sendable func login(_ req: Request) async throws -> Response {
    guard let body = try? req.content.decode(LoginBody.self) else {
        throw ServiceError.invalid(field: "login", zh: "请提供 login 和 password", en: "give login and password")
    }
    guard let (token, actor) = try await req.application.platform.auth.login(body.login, password: body.password, remote: req.clientAddress) else {
        return try jsonResponse(.unauthorized, ["error": "invalid login or password / 用户名或密码错误"])
    }
    let reply: [String: String] = ["token": token, "role": actor.role.rawValue]
    return try jsonResponse(.ok, reply)
}

/// Ends the token of the request (the API's logout).
@Sendable func logout(_ req: Request) async throws -> Response {
    if let token = req.headers.bearerAuthorization?.token { try await req.application.platform.auth.logout(token: token) }
    return Response(status: .noContent)
}

/// An administrator ends every token and web session of a user, at once.
@Sendable func revokeCredentials(_ req: Request) async throws -> Response {
    let actor = try req.auth.require(ActorBox.self).actor
    try await req.application.platform.auth.revokeCredentials(of: req.parameters.get("user") ?? "", by: actor, remote: req.clientAddress)
    return Response(status: .noContent)
}

@Sendable func calc(_ req: Request) async throws -> Response {
    let text = req.body.string ?? ""
    let d = try req.application.platform.engine.determine(json: text)
    return rawJSON(.ok, d.json.serialized(indent: nil))
}

@Sendable func listTaxpayers(_ req: Request) async throws -> Response {
    let actor = try req.auth.require(ActorBox.self).actor
    return try jsonResponse(.ok, try await req.application.platform.access.visibleTaxpayers(actor, search: req.query[String.self, at: "q"]))
}

@Sendable func showTaxpayer(_ req: Request) async throws -> Response {
    let actor = try req.auth.require(ActorBox.self).actor
    let p = req.application.platform
    let t = try await p.access.readableTaxpayer(req.parameters.get("taxpayer") ?? "", by: actor)
    let frequencies = try await p.store.vatFrequencies(taxpayer: t.id)
    return try jsonResponse(.ok, TaxpayerRecord(registry: t, vatFrequencies: Dictionary(uniqueKeysWithValues: frequencies.map { ("\($0.key)", $0.value) })))
}

@Sendable func registerTaxpayer(_ req: Request) async throws -> Response {
    let actor = try req.auth.require(ActorBox.self).actor
    let row: TaxpayerRow
    do { row = try req.content.decode(TaxpayerRow.self) } catch let DecodingError.keyNotFound(key, _) {
        throw ServiceError.invalid(field: key.stringValue, zh: "缺少字段 \(key.stringValue)", en: "\(key.stringValue) is required")
    } catch let DecodingError.typeMismatch(_, context) {
        let field = context.codingPath.map(\.stringValue).joined(separator: ".")
        throw ServiceError.invalid(field: field, zh: "字段 \(field) 的类型不正确", en: "\(field) has the wrong type")
    } catch {
        throw ServiceError.invalid(field: "", zh: "请提供纳税人登记信息（JSON 对象）", en: "give the taxpayer's registration as a JSON object")
    }
    let t = try await req.application.platform.registry.register(by: actor, row, remote: req.clientAddress)
    return try jsonResponse(.created, t)
}

struct FrequencyBody: Content { let frequency: String }

@Sendable func setVATFrequency(_ req: Request) async throws -> Response {
    let actor = try req.auth.require(ActorBox.self).actor
    guard let body = try? req.content.decode(FrequencyBody.self) else {
        throw ServiceError.invalid(field: "frequency", zh: "请提供 frequency（monthly 或 quarterly）", en: "give frequency (monthly or quarterly)")
    }
    guard let year = req.parameters.get("year", as: Int.self) else {
        throw ServiceError.invalid(field: "year", zh: "年度应为整数", en: "year must be a whole number")
    }
    try await req.application.platform.registry.setVATFrequency(by: actor, taxpayerID: req.parameters.get("taxpayer") ?? "", year: year,
                                                                 frequency: body.frequency, remote: req.clientAddress)
    return try jsonResponse(.created, ["year": "\(year)", "frequency": body.frequency])
}

@Sendable func openAPIDocument(_ req: Request) async throws -> Response {
    rawJSON(.ok, req.application.platform.openAPI)
}

/// The optional `Huiqi-Declared-Tax` header: the tax the taxpayer declares, checked against the computed one.
func declaredTax(_ req: Request) throws -> Money? {
    try req.headers.first(name: "Huiqi-Declared-Tax").map { try FilingService.declaredTax($0, field: "Huiqi-Declared-Tax") }
}

@Sendable func fileReturn(_ req: Request) async throws -> Response {
    guard let token = req.headers.bearerAuthorization?.token else { throw ServiceError.unauthenticated }
    let s = req.application.platform
    let filed = try await s.filing.file(token: token, taxpayerID: req.parameters.get("taxpayer") ?? "", caseJSON: req.body.string ?? "",
                                        declaredTax: try declaredTax(req), idempotencyKey: req.headers.first(name: "Idempotency-Key"),
                                        remote: req.clientAddress, authenticated: { req.auth.login(ActorBox(actor: $0)) })
    guard filed.replayed else {
        // A new version's prompts and determination were written by this process a moment ago: their stored text
        // is spliced into the answer, not parsed and written again.
        return rawJSON(.created, "{\"return\":" + ReturnView.freshText(filed.row) + ",\"replayed\":false,\"prompts\":"
                                   + filed.row.prompts_json + "}")
    }
    let filers = try await s.filing.filers(of: [filed.row], for: try req.auth.require(ActorBox.self).actor)
    let out = JSON.object([("return", ReturnView.json(filed.row, filers: filers)), ("replayed", .bool(filed.replayed)), ("prompts", Prompt.json(filed.prompts))])
    return rawJSON(.ok, out.serialized(indent: nil))
}

@Sendable func previewReturn(_ req: Request) async throws -> Response {
    let actor = try req.auth.require(ActorBox.self).actor
    let a = try await req.application.platform.filing.preview(by: actor, taxpayerID: req.parameters.get("taxpayer") ?? "",
                                                              caseJSON: req.body.string ?? "", declaredTax: try declaredTax(req))
    let out = JSON.object([("section", .string(a.section)), ("return_id", .string(a.returnID)), ("period", .string(a.period)),
                           ("tax", .string(a.tax.description)), ("relief", .string(a.relief.description)),
                           ("determination", a.determination.json), ("prompts", Prompt.json(a.prompts))])
    return rawJSON(.ok, out.serialized(indent: nil))
}

@Sendable func listReturns(_ req: Request) async throws -> Response {
    let actor = try req.auth.require(ActorBox.self).actor
    let filing = req.application.platform.filing
    let rows = try await filing.currentReturns(by: actor, taxpayerID: req.parameters.get("taxpayer") ?? "")
    return rawJSON(.ok, ReturnView.list(rows, filers: try await filing.filers(of: rows, for: actor)))
}

@Sendable func showReturn(_ req: Request) async throws -> Response {
    let actor = try req.auth.require(ActorBox.self).actor
    let filing = req.application.platform.filing
    let rows = try await filing.versions(by: actor, taxpayerID: req.parameters.get("taxpayer") ?? "", returnID: req.parameters.get("return") ?? "")
    return rawJSON(.ok, ReturnView.list(rows, filers: try await filing.filers(of: rows, for: actor)))
}

/// A taxpayer as the API shows it: the registry row and its VAT filing frequency by year (`vat_frequencies`).
struct TaxpayerRecord: Encodable {
    let registry: TaxpayerRow
    let vatFrequencies: [String: String]
    enum Keys: String, CodingKey { case vatFrequencies = "vat_frequencies" }
    func encode(to encoder: any Encoder) throws {
        try registry.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(vatFrequencies, forKey: .vatFrequencies)
    }
}

/// A stored return version as the API shows it, with the engine's determination embedded as JSON (built with
/// the engine's own JSON type, so exact decimals stay strings and nothing goes through Double).
enum ReturnView {
    /// `filers`: what to show as `filed_by` for each user id (FilingService.filers); absent: the id.
    static func json(_ r: ReturnVersionRow, filers: [String: String] = [:]) -> JSON {
        .object(fields(r, filers: filers) + [("prompts", (try? JSONParser.parse(r.prompts_json)) ?? .array([])),
                                             ("determination", (try? JSONParser.parse(r.determination_json)) ?? .null)])
    }
    /// `json` of a version this process has just stored, as text: the same keys in the same order, with the stored
    /// prompts and determination appended as JSON text (the determination with its parameter list, as
    /// `FilingService` returns it and every read of the version shows it).
    static func freshText(_ r: ReturnVersionRow) -> String {
        String(JSON.object(fields(r, filers: [:])).serialized(indent: nil).dropLast())
            + ",\"prompts\":" + r.prompts_json + ",\"determination\":" + r.determination_json + "}"
    }
    private static func fields(_ r: ReturnVersionRow, filers: [String: String]) -> [(String, JSON)] {
        [("taxpayer_id", .string(r.taxpayer_id)), ("return_id", .string(r.return_id)), ("version", .number("\(r.version)")),
         ("section", .string(r.section)), ("period", .string(r.period)),
         ("tax", .string(Money(fen: r.computed_tax_fen).description)), ("relief", .string(Money(fen: r.relief_fen).description)),
         ("declared_tax", r.declared_tax_fen.map { .string(Money(fen: $0).description) } ?? .null),
         ("filed_at", .string(r.filed_at)), ("filed_by", .string(filers[r.filed_by] ?? r.filed_by))]
    }
    static func list(_ rows: [ReturnVersionRow], filers: [String: String]) -> String {
        JSON.array(rows.map { json($0, filers: filers) }).serialized(indent: nil)
    }
}

func encode<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try e.encode(value), as: UTF8.self)
}

func jsonResponse<T: Encodable>(_ status: HTTPResponseStatus, _ value: T) throws -> Response {
    rawJSON(status, try encode(value))
}

func rawJSON(_ status: HTTPResponseStatus, _ text: String) -> Response {
    var headers = HTTPHeaders()
    headers.contentType = .json
    return Response(status: status, headers: headers, body: .init(string: text))
}

