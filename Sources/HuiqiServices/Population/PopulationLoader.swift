import Foundation
import HuiqiRules
import HuiqiStore
import SQLKit

/// Loads a `NationalPopulation` into an empty database: the offices first, then the taxpayers in chunks, each
/// chunk's rows streamed with COPY (PostgreSQL) or multi-row inserts (SQLite) while the next chunk is generated.
/// A chunk's tables are committed one by one; a load that stops half-way leaves whole chunks behind, and is
/// started again on a new database.
public enum PopulationLoader {
    public struct Progress: Sendable {
        public var taxpayers = 0, rows = 0, returns = 0
        public let total: Int
        public let started: Date
    }
    public struct Summary: Sendable {
        public var offices = 0, taxpayers = 0, frequencies = 0, returns = 0, rows = 0
        /// Wall time in all, and until the last row was written (the rest builds indexes, checks foreign keys, analyses).
        public var seconds = 0.0, loadSeconds = 0.0
        public var rowsPerSecond: Double { seconds > 0 ? Double(rows) / seconds : 0 }
    }

    /// More than the nation's market entities (about 1.9 亿); a larger count is a typing error, not a population.
    public static let maxTaxpayers = 500_000_000

    public static func load(_ population: NationalPopulation, divisions: Divisions, taxpayers: Int, engine: Engine, into store: Store,
                            chunkSize: Int = 20_000, progress: @Sendable (Progress) -> Void = { _ in }) async throws -> Summary {
        guard (1...maxTaxpayers).contains(taxpayers) else { throw PopulationError("--taxpayers: from 1 to \(maxTaxpayers)") }
        guard try await store.count("taxpayers") == 0, try await store.count("offices") == 0 else {
            throw PopulationError("--database: the database already holds offices or taxpayers; generate into a new one")
        }
        let evaluators = try population.quarters.map { try BatchEvaluator(engine: engine, vatPeriod: $0, eitYear: $0.year) }
        let started = Date()
        var summary = Summary()
        try await store.insert(users: [UserRow(id: NationalPopulation.filer, login: "generator", password_hash: "-", role: "administrator",
                                               office_id: nil, display_name: "合成数据生成器 (huiqi generate)")])
        let offices = population.offices(divisions)
        try await store.load(table: "offices", columns: ["id", "parent_id", "name", "level", "region_code"], rows: offices)
        summary.offices = offices.count
        summary.rows = offices.count
        var state = Progress(total: taxpayers, started: started)
        let ranges = stride(from: 0, to: taxpayers, by: max(1, chunkSize)).map { $0 ..< min($0 + max(1, chunkSize), taxpayers) }
        // The next chunk is generated on another thread while this one is written.
        var pending: Task<NationalPopulation.Chunk, Never>? = ranges.first.map { r in Task.detached { population.chunk(r, evaluators: evaluators) } }
        let tables = NationalPopulation.columns
        try await store.withPlainIndexesDropped(on: tables.map(\.table)) {
            for n in ranges.indices {
                guard let current = await pending?.value else { break }
                pending = n + 1 < ranges.count ? { let r = ranges[n + 1]; return Task.detached { population.chunk(r, evaluators: evaluators) } }() : nil
                // The tables side by side (on PostgreSQL, each on its own connection and backend).
                try await store.load([(tables[0].table, tables[0].columns, current.taxpayers), (tables[1].table, tables[1].columns, current.frequencies),
                                      (tables[2].table, tables[2].columns, current.versions), (tables[3].table, tables[3].columns, current.current)])
                summary.taxpayers += current.taxpayers.count; summary.frequencies += current.frequencies.count
                summary.returns += current.versions.count; summary.rows += current.rowCount
                state.taxpayers = summary.taxpayers; state.rows = summary.rows; state.returns = summary.returns
                progress(state)
            }
            summary.loadSeconds = Date().timeIntervalSince(started)
        }
        // Screening reads the returns and taxpayers through covering indexes (migration 021), which skip the table
        // only for pages the visibility map marks all-visible: on PostgreSQL those two are vacuumed now, not when
        // autovacuum comes to them, so the first screening after a load reads the indexes alone.
        let vacuumed = store.db.dialect.name == "postgresql" ? ["taxpayers", "current_returns"] : []
        for table in ["offices"] + tables.map(\.table) {
            try await store.db.raw((vacuumed.contains(table) ? "VACUUM (ANALYZE) " : "ANALYZE ") + "\(ident: table)").run()
        }
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }
}
