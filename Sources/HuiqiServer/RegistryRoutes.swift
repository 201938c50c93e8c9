import Foundation
import HuiqiServices
import HuiqiStore
import Vapor

/// Comparison with other departments' registries in the JSON API (issue 10 §4): a file is posted as `text/csv`
/// and answered with what was imported or with every bad row; findings are read a page at a time.
func registryRoutes(_ api: any RoutesBuilder) {
    api.on(.POST, "registries", ":source", "imports", body: .collect(maxSize: ByteCount(value: RegistryPages.maxUploadMB << 20)), use: registryImportAPI)
    api.get("registries", "findings", use: registryFindingsAPI)
}

public struct RegistryImportBody: Content {
    public let state: String
    public let id: String?, source: String, rows_read: Int, rows_changed: Int?, imported_at: String?
    public let error_count: Int
    public let errors: [RegistryRowError]
    init(_ o: RegistryImportOutcome, source: RegistrySource) {
        state = o.state.rawValue; id = o.record?.id; self.source = source.rawValue; rows_read = o.rowsRead
        rows_changed = o.state == .imported ? o.record?.rows_changed : (o.state == .alreadyImported ? 0 : nil)
        imported_at = o.record?.imported_at; error_count = o.errorCount; errors = o.errors
    }
}

public struct RegistryFindingBody: Content {
    public let credit_code: String, name: String, office_id: String?, detail: String
    /// For `mismatch`: which attributes differ.
    public let differences: [String]
}

public struct RegistryFindingsBody: Content {
    public let kind: String, year: Int, office_id: String, total: Int, offset: Int
    public let findings: [RegistryFindingBody]
}

@Sendable func registryImportAPI(_ req: Request) async throws -> Response {
    let actor = try actor(req)
    guard let source = req.parameters.get("source").flatMap(RegistrySource.init(rawValue:)) else {
        throw ServiceError.invalid(field: "source", zh: "数据来源应为 market 或 sme", en: "the source must be market or sme")
    }
    guard let body = req.body.data, body.readableBytes > 0 else {
        throw ServiceError.invalid(field: "body", zh: "请求内容应为 CSV 文件", en: "the body must be the CSV file")
    }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-upload-\(UUID().uuidString).csv").path
    try await req.fileio.writeFile(body, at: path)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let name = req.headers.first(name: "Huiqi-File-Name") ?? "\(source.rawValue).csv"
    let o = try await req.application.platform.services.comparison.importFile(by: actor, source: source, path: path, fileName: name,
                                                                             remote: req.clientAddress)
    let status: HTTPStatus = o.state == .imported ? .created : o.state == .alreadyImported ? .ok : .unprocessableEntity
    return try jsonResponse(status, RegistryImportBody(o, source: source))
}

@Sendable func registryFindingsAPI(_ req: Request) async throws -> Response {
    let actor = try actor(req)
    guard let kind = ComparisonKind(rawValue: try requiredQuery(req, "kind")) else {
        throw ServiceError.invalid(field: "kind", zh: "比对类别无效", en: "unknown comparison kind")
    }
    guard let year = Int(try requiredQuery(req, "year")) else { throw ServiceError.invalid(field: "year", zh: "年度无效", en: "the year is not valid") }
    let limit = req.query[Int.self, at: "limit"] ?? 200, offset = req.query[Int.self, at: "offset"] ?? 0
    guard (1...1000).contains(limit) else { throw ServiceError.invalid(field: "limit", zh: "limit 应为 1 至 1000", en: "limit must be 1 to 1000") }
    guard (0...10_000_000).contains(offset) else { throw ServiceError.invalid(field: "offset", zh: "offset 无效", en: "offset is not valid") }
    let x = try await req.application.platform.services.comparison.findings(by: actor, kind: kind, office: req.query[String.self, at: "office"],
                                                                           year: year, limit: limit, offset: offset)
    return try jsonResponse(.ok, RegistryFindingsBody(kind: kind.rawValue, year: year, office_id: x.office.id, total: x.total, offset: offset,
                                                      findings: x.findings.map {
        RegistryFindingBody(credit_code: $0.row.credit_code, name: $0.row.name, office_id: $0.office, detail: RegistryPages.detail($0, .zh),
                            differences: $0.differences)
    }))
}
