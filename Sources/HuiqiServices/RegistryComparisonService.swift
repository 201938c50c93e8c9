import Foundation
import HuiqiDates
import HuiqiStore
import Synchronization

/// What an import did. A refused file wrote nothing; a file imported before (same source, same SHA-256) wrote
/// nothing either and names the earlier import.
public struct RegistryImportOutcome: Sendable {
    public enum State: String, Sendable, Codable { case imported, alreadyImported = "already_imported", refused }
    public let state: State
    public let record: RegistryImportRow?
    public let rowsRead: Int
    /// The errors of the bad rows, at most `RegistryComparisonService.maxListedErrors`; `errorCount` counts the bad rows.
    public let errors: [RegistryRowError]
    public let errorCount: Int
}

/// A finding of a comparison, with the office responsible for it (nil: no office of the tree covers its region).
public struct ComparisonFinding: Sendable {
    public let kind: ComparisonKind
    public let row: ComparisonRow
    public let office: String?
    /// For `mismatch`: the attributes that differ (`region`, `industry`, `type`, `status`).
    public let differences: [String]
}

/// The comparison of tax records with other departments' registries (部门数据比对): imports of their files and the
/// four reports. Policy for a file with bad rows: the whole file is refused and every bad row is listed (row
/// number, column, both languages); nothing is written. A registry extract is taken whole or not at all, because
/// a partly loaded extract would make "unknown to tax" findings wrong for the rows left out.
public struct RegistryComparisonService: Sendable {
    public let store: Store
    public let now: @Sendable () -> Date
    public init(store: Store, now: @escaping @Sendable () -> Date) { self.store = store; self.now = now }

    public static let maxListedErrors = 1000

    /// Who may import: supervisors and administrators (data exchange with other departments is a city- or
    /// province-level task). A supervisor's market rows must lie in the regions of its subtree.
    func checkImporter(_ actor: Actor) throws {
        guard actor.role == .supervisor || actor.role == .administrator else {
            throw ServiceError.forbidden("registry files are imported by supervisors and administrators / 部门数据由督导人员或管理员导入")
        }
    }

    /// Imports the file at `path`. `progress` is called from another thread with the rows read so far.
    public func importFile(by actor: Actor, source: RegistrySource, path: String, fileName: String, remote: String?,
                           progress: (@Sendable (Int) -> Void)? = nil) async throws -> RegistryImportOutcome {
        try checkImporter(actor)
        // The name as sent by a browser or client, kept for the record: control characters dropped (PostgreSQL
        // cannot store NUL), 200 characters at most.
        let name = String(String.UnicodeScalarView(fileName.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }).prefix(200))
        let sha = try TextDigest.sha256Hex(file: path)
        if let earlier = try await store.registryImport(source: source.rawValue, sha256: sha) {
            return RegistryImportOutcome(state: .alreadyImported, record: earlier, rowsRead: earlier.rows_read, errors: [], errorCount: 0)
        }
        let regions: Set<String>? = actor.role == .administrator ? nil
            : Set(try await store.officesByRegion().filter { actor.offices.contains($0.id) }.map(\.region))
        let at = now().formatted(.iso8601)
        let id = UUID().uuidString.lowercased()
        let reader = RegistryFileReader(source: source, today: FilingService.chinaDay(now()))
        let audit = AuditRow(id: UUID().uuidString, at: at, user_id: actor.userID, action: "import_registry", object: id,
                             detail: "\(source.rawValue) file \(name), sha256 \(sha)", remote: remote)
        let tally = Mutex((read: 0, changed: 0))
        do {
            try await store.writeAudited(audit) { db in
                let tx = Store(sql: db)
                // The import row first: the rows written point to it.
                try await tx.insert(registryImport: RegistryImportRow(id: id, source: source.rawValue, sha256: sha, file_name: name, rows_read: 0,
                                                                      rows_changed: 0, imported_at: at, imported_by: actor.userID))
                let (read, errors, count) = try await Self.stream(reader, path: path, chunk: tx.registryChunk, regions: regions, progress: progress) { records in
                    let n: Int
                    switch source {
                    case .market: n = try await tx.upsert(market: records.compactMap { if case .market(let m) = $0 { m } else { nil } }[...], importID: id)
                    case .sme: n = try await tx.upsert(sme: records.compactMap { if case .sme(let s) = $0 { s } else { nil } }[...], importID: id)
                    }
                    tally.withLock { $0.changed += n }
                }
                guard count == 0 else { throw Refused(errors: errors, count: count, read: read) }
                let changed = tally.withLock { t in t.read = read; return t.changed }
                try await tx.finish(registryImport: id, rowsRead: read, rowsChanged: changed)
            }
        } catch let r as Refused {
            return RegistryImportOutcome(state: .refused, record: nil, rowsRead: r.read, errors: r.errors, errorCount: r.count)
        }
        let t = tally.withLock { $0 }
        return RegistryImportOutcome(state: .imported, record: RegistryImportRow(id: id, source: source.rawValue, sha256: sha, file_name: name,
                                                                                 rows_read: t.read, rows_changed: t.changed, imported_at: at,
                                                                                 imported_by: actor.userID),
                                     rowsRead: t.read, errors: [], errorCount: 0)
    }

    struct Refused: Error { let errors: [RegistryRowError], count: Int, read: Int }

    /// Reads the file on a thread of its own and hands valid rows to `write` in chunks, at most two chunks ahead
    /// (memory stays bounded whatever the file's size). After the first bad row nothing more is written, but the
    /// whole file is still read so that every bad row is reported. Returns (rows read, listed errors, error count).
    static func stream(_ reader: RegistryFileReader, path: String, chunk: Int, regions: Set<String>?, progress: (@Sendable (Int) -> Void)?,
                       write: @Sendable ([RegistryRecord]) async throws -> Void) async throws -> (Int, [RegistryRowError], Int) {
        enum Message: Sendable { case rows([RegistryRecord]), done(read: Int, errors: [RegistryRowError], count: Int), failed(any Error) }
        let (messages, continuation) = AsyncStream.makeStream(of: Message.self)
        let room = DispatchSemaphore(value: 2)
        let cancelled = Mutex(false)
        /// Waits for the writer to take a chunk; once the writer has stopped, passes the wake-up on and stops reading.
        @Sendable func waitForRoom() throws {
            room.wait()
            if cancelled.withLock({ $0 }) { room.signal(); throw CancellationError() }
        }
        Thread.detachNewThread {
            var batch: [RegistryRecord] = [], errors: [RegistryRowError] = [], count = 0, read = 0
            var seen = Set<String>()
            func bad(_ e: [RegistryRowError]) {  // the errors of one row
                count += 1
                errors.append(contentsOf: e.prefix(max(0, maxListedErrors - errors.count)))
            }
            do {
                guard let input = InputStream(fileAtPath: path) else {
                    throw ServiceError.invalid(field: "file", zh: "无法打开文件", en: "the file cannot be opened")
                }
                try reader.read(input) { row, outcome in
                    read += 1
                    if read % 10_000 == 0 {
                        progress?(read)
                        if cancelled.withLock({ $0 }) { throw CancellationError() }
                    }
                    switch outcome {
                    case .bad(let e): bad(e)
                    case .row(let r):
                        let key: String
                        switch r {
                        case .market(let m): key = m.credit_code
                        case .sme(let s): key = "\(s.credit_code)/\(s.year)"
                        }
                        guard seen.insert(key).inserted else {
                            return bad([RegistryRowError(row: row, field: "credit_code", zh: "统一社会信用代码在本文件中重复出现", en: "the credit code appears twice in this file")])
                        }
                        if let regions, case .market(let m) = r, !regions.contains(m.region) {
                            return bad([RegistryRowError(row: row, field: "region", zh: "行政区划不在您的管辖范围内", en: "the region is not within your reach")])
                        }
                        guard count == 0 else { return }
                        batch.append(r)
                        if batch.count == chunk {
                            try waitForRoom()
                            continuation.yield(.rows(batch))
                            batch = []
                        }
                    }
                }
                if count == 0, !batch.isEmpty { try waitForRoom(); continuation.yield(.rows(batch)) }
                progress?(read)
                continuation.yield(.done(read: read, errors: errors, count: count))
            } catch {
                continuation.yield(.failed(error))
            }
            continuation.finish()
        }
        // However this ends (done, or writing failed), the reader is told to stop and woken if it waits for room.
        defer { cancelled.withLock { $0 = true }; room.signal() }
        for await message in messages {
            switch message {
            case .rows(let records):
                try await write(records)
                room.signal()
            case let .done(read, errors, count): return (read, errors, count)
            case .failed(let error): throw error
            }
        }
        throw CancellationError()
    }

    // MARK: findings

    /// The office an actor compares for (its own, or one asked for within reach; administrators: the root).
    func root(by actor: Actor, office: String?) async throws -> OfficeRow {
        try await MonitoringService.office(office, for: actor, store: store)
    }

    /// The findings of one comparison under `office` (default: the actor's own), at most `limit` from `offset`,
    /// and their total count.
    public func findings(by actor: Actor, kind: ComparisonKind, office: String?, year: Int, limit: Int = 200, offset: Int = 0) async throws
        -> (office: OfficeRow, total: Int, findings: [ComparisonFinding])
    {
        let root = try await root(by: actor, office: office)
        guard (2011...2100).contains(year) else {
            throw ServiceError.invalid(field: "year", zh: "年度无效", en: "the year is not valid")
        }
        async let total = store.comparisonCount(kind, root: root.id, year: year)
        async let rows = store.comparison(kind, root: root.id, year: year, limit: limit, offset: offset)
        async let offices = store.officesByRegion()
        let byRegion = Self.responsibleOffices(try await offices.filter { actor.role == .administrator || actor.offices.contains($0.id) })
        return (root, try await total, try await rows.map { r in
            ComparisonFinding(kind: kind, row: r, office: r.office_id ?? r.region.flatMap { byRegion[$0] }, differences: Self.differences(r))
        })
    }

    /// The counts of every comparison under `office`.
    public func counts(by actor: Actor, office: String?, year: Int) async throws -> [ComparisonKind: Int] {
        let root = try await root(by: actor, office: office)
        var out: [ComparisonKind: Int] = [:]
        for k in ComparisonKind.allCases { out[k] = try await store.comparisonCount(k, root: root.id, year: year) }
        return out
    }

    /// For each region, the office that answers for enterprises there: a district office where one has the code,
    /// else the deepest office that has it.
    static func responsibleOffices(_ offices: [(id: String, level: String, region: String)]) -> [String: String] {
        let rank = ["district": 0, "branch": 1, "city": 2, "province": 3, "national": 4]
        var best: [String: (rank: Int, id: String)] = [:]
        for o in offices {
            let r = rank[o.level] ?? 5
            if let b = best[o.region], (b.rank, b.id) <= (r, o.id) { continue }
            best[o.region] = (r, o.id)
        }
        return best.mapValues(\.id)
    }

    static func differences(_ r: ComparisonRow) -> [String] {
        guard let kind = r.tax_kind, let section = r.industry_section else { return [] }
        var out: [String] = []
        if let region = r.region, let tax = r.tax_region, region != tax { out.append("region") }
        if let industry = r.tax_industry, (["B", "C", "D"].contains(section) ? "industrial" : "other") != industry { out.append("industry") }
        if (r.entity_type == "individual_business") != (kind == "individual_business") { out.append("type") }
        if r.deregistered_on == nil, r.tax_deregistered_on != nil { out.append("status") }
        return out
    }
}
