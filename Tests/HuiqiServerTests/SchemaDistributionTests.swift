import Foundation
import HuiqiServer
import HuiqiStore
import SQLKit
import Testing

/// The schema, read from the migrations, against the rules a distributed PostgreSQL (Citus) needs when per-taxpayer
/// tables are distributed by taxpayer (docs/scaling.md): the distribution column in every per-taxpayer table, in
/// its primary key and every unique key, and on both sides of every foreign key between per-taxpayer tables.
///
/// A per-taxpayer table is one with a `taxpayer_id` column, `taxpayers` itself (by `id`), or one with a foreign key
/// to a per-taxpayer table (a complaint's events belong to the complaint's taxpayer).
@Suite struct SchemaDistributionTests {
    struct ForeignKey: Hashable { let from: String, to: String, columns: [String: String] }

    /// What the schema breaks today, each with the migration that will mend it in docs/scaling.md ("Schema debt").
    /// The test fails on anything new, and on an entry mended without being taken off this list.
    static let knownDebt: Set<String> = [
        "complaints: primary key (id) lacks taxpayer_id",
        "notices: primary key (id) lacks taxpayer_id",
        "notices: unique key (office_id, year, number) lacks taxpayer_id",
        "refund_requests: primary key (id) lacks taxpayer_id",
        "reminders: primary key (id) lacks taxpayer_id",
        "complaint_events: no taxpayer_id column",
        "complaint_events: primary key (complaint_id, seq) lacks taxpayer_id",
        "complaint_events: foreign key to complaints lacks taxpayer_id",
        "complaint_reads: no taxpayer_id column",
        "complaint_reads: foreign key to complaints lacks taxpayer_id",
        "delivery_attempts: no taxpayer_id column",
        "delivery_attempts: primary key (reminder_id, attempt) lacks taxpayer_id",
        "delivery_attempts: foreign key to reminders lacks taxpayer_id",
        "ledger_entries: foreign key to notices lacks taxpayer_id",
    ]

    @Test func perTaxpayerKeysHoldTheTaxpayer() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("huiqi-schema-\(UUID()).sqlite").path
        let problems = try await withStore(.sqlite(path: path)) { store -> Set<String> in
            let db = store.db
            func strings(_ sql: String, _ column: String) async throws -> [String] {
                try await db.raw(SQLQueryString(sql)).all().map { try $0.decode(column: column, as: String.self) }
            }
            // Tables of the platform (FTS5's shadow tables and SQLite's own are not part of the schema's design).
            let tables = try await strings("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kb_fts%' AND name <> '_fluent_migrations'", "name")
            var columns: [String: [String]] = [:], primary: [String: [String]] = [:], unique: [String: [[String]]] = [:], foreign: [String: [ForeignKey]] = [:]
            for t in tables {
                let info = try await db.raw(SQLQueryString("SELECT name, pk FROM pragma_table_info('\(t)') ORDER BY pk")).all()
                columns[t] = try info.map { try $0.decode(column: "name", as: String.self) }
                primary[t] = try info.filter { try $0.decode(column: "pk", as: Int.self) > 0 }.map { try $0.decode(column: "name", as: String.self) }
                for index in try await db.raw(SQLQueryString("SELECT name, origin FROM pragma_index_list('\(t)') WHERE \"unique\" = 1")).all()
                    where try index.decode(column: "origin", as: String.self) != "pk" {
                    let name = try index.decode(column: "name", as: String.self)
                    unique[t, default: []].append(try await strings("SELECT name FROM pragma_index_info('\(name)') ORDER BY seqno", "name"))
                }
                var byID: [Int: ForeignKey] = [:]
                for fk in try await db.raw(SQLQueryString("SELECT id, \"table\" AS parent, \"from\" AS child_column, \"to\" AS parent_column FROM pragma_foreign_key_list('\(t)')")).all() {
                    let id = try fk.decode(column: "id", as: Int.self)
                    var columns = byID[id]?.columns ?? [:]
                    columns[try fk.decode(column: "child_column", as: String.self)] = try fk.decode(column: "parent_column", as: String.self)
                    byID[id] = ForeignKey(from: t, to: try fk.decode(column: "parent", as: String.self), columns: columns)
                }
                foreign[t] = Array(byID.values)
            }
            // Per-taxpayer tables: a taxpayer_id column, the taxpayers, and (to a fixpoint) what references them.
            func key(_ t: String) -> String { t == "taxpayers" ? "id" : "taxpayer_id" }
            var distributed = Set(tables.filter { $0 == "taxpayers" || (columns[$0] ?? []).contains("taxpayer_id") })
            var grew = true
            while grew {
                grew = false
                for t in tables where !distributed.contains(t) && (foreign[t] ?? []).contains(where: { distributed.contains($0.to) }) {
                    distributed.insert(t); grew = true
                }
            }
            #expect(distributed.isSuperset(of: ["taxpayers", "return_versions", "current_returns", "findings", "ledger_entries", "notices", "reminders", "complaints"]))
            #expect(distributed.isDisjoint(with: ["offices", "users", "jobs", "kb_entries", "kb_blocks", "market_entities"]), "reference tables stay reference tables")

            var problems = Set<String>()
            for t in distributed.sorted() {
                let k = key(t)
                if !(columns[t] ?? []).contains(k) { problems.insert("\(t): no taxpayer_id column") }
                if let pk = primary[t], !pk.isEmpty, !pk.contains(k) { problems.insert("\(t): primary key (\(pk.joined(separator: ", "))) lacks taxpayer_id") }
                for u in unique[t] ?? [] where !u.contains(k) { problems.insert("\(t): unique key (\(u.joined(separator: ", "))) lacks taxpayer_id") }
                for fk in foreign[t] ?? [] where distributed.contains(fk.to) && fk.columns[k] != key(fk.to) {
                    problems.insert("\(t): foreign key to \(fk.to) lacks taxpayer_id")
                }
            }
            return problems
        }
        try? FileManager.default.removeItem(atPath: path)
        #expect(problems.subtracting(Self.knownDebt).isEmpty, "new: \(problems.subtracting(Self.knownDebt).sorted())")
        #expect(Self.knownDebt.subtracting(problems).isEmpty, "mended, take off the list: \(Self.knownDebt.subtracting(problems).sorted())")
    }
}
