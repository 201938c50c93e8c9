import Fluent
import SQLKit

/// The complaint desk (投诉专席, issue 11 §2): complaints, every step taken on them, and every read of one by staff.
/// All three are append-only: a complaint's state is the sum of its events.
struct M017Complaints: AsyncMigration {
    var name: String { "017_complaints" }
    func prepare(on database: any Database) async throws {
        let db = sql(database)
        // `due_on` is NULL when the official calendar of the due year is not on record: undetermined, never guessed.
        try await db.raw("""
            CREATE TABLE complaints (
              id TEXT PRIMARY KEY,
              taxpayer_id TEXT NOT NULL REFERENCES taxpayers(id),
              office_id TEXT NOT NULL REFERENCES offices(id),
              category TEXT NOT NULL CHECK (category IN ('relief_not_received', 'wrong_answer', 'service', 'other')),
              channel TEXT NOT NULL CHECK (channel IN ('web', 'api', 'phone')),
              text TEXT NOT NULL,
              contact TEXT NOT NULL,
              received_at TEXT NOT NULL,
              clock_from TEXT,
              due_on TEXT,
              created_by TEXT NOT NULL
            )
            """).run()
        try await db.raw("CREATE INDEX complaints_office ON complaints(office_id)").run()
        try await db.raw("CREATE INDEX complaints_taxpayer ON complaints(taxpayer_id)").run()
        try await db.raw("""
            CREATE TABLE complaint_events (
              complaint_id TEXT NOT NULL REFERENCES complaints(id),
              seq INTEGER NOT NULL CHECK (seq >= 1),
              kind TEXT NOT NULL CHECK (kind IN ('received', 'warned', 'escalated', 'resolved', 'confirmed', 'reopened')),
              at TEXT NOT NULL,
              actor TEXT NOT NULL,
              office_id TEXT REFERENCES offices(id),
              due_on TEXT,
              outcome TEXT CHECK (outcome IS NULL OR outcome IN ('upheld', 'partly_upheld', 'not_upheld')),
              satisfaction INTEGER CHECK (satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5),
              note TEXT NOT NULL,
              PRIMARY KEY (complaint_id, seq)
            )
            """).run()
        try await db.raw("CREATE INDEX complaint_events_office ON complaint_events(office_id)").run()
        try await db.raw("""
            CREATE TABLE complaint_reads (
              complaint_id TEXT NOT NULL REFERENCES complaints(id),
              user_id TEXT NOT NULL,
              at TEXT NOT NULL
            )
            """).run()
        try await db.raw("CREATE INDEX complaint_reads_complaint ON complaint_reads(complaint_id)").run()
        try await M010Administration.appendOnly(["complaints", "complaint_events", "complaint_reads"], on: db)
    }
    func revert(on database: any Database) async throws {
        for t in ["complaint_reads", "complaint_events", "complaints"] { try await sql(database).raw("DROP TABLE \(unsafeRaw: t)").run() }
    }
}

public struct ComplaintRow: Codable, Sendable, Equatable {
    public var id: String, taxpayer_id: String, office_id: String, category: String, channel: String, text: String, contact: String
    public var received_at: String, clock_from: String?, due_on: String?, created_by: String
    public init(id: String, taxpayer_id: String, office_id: String, category: String, channel: String, text: String, contact: String,
                received_at: String, clock_from: String?, due_on: String?, created_by: String) {
        self.id = id; self.taxpayer_id = taxpayer_id; self.office_id = office_id; self.category = category; self.channel = channel
        self.text = text; self.contact = contact; self.received_at = received_at; self.clock_from = clock_from; self.due_on = due_on
        self.created_by = created_by
    }
}

public struct ComplaintEventRow: Codable, Sendable, Equatable {
    public var taxpayer_id: String, complaint_id: String, seq: Int, kind: String, at: String, actor: String
    public var office_id: String?, due_on: String?, outcome: String?, satisfaction: Int?, note: String
    public init(taxpayer_id: String, complaint_id: String, seq: Int, kind: String, at: String, actor: String, office_id: String? = nil, due_on: String? = nil,
                outcome: String? = nil, satisfaction: Int? = nil, note: String) {
        self.taxpayer_id = taxpayer_id; self.complaint_id = complaint_id; self.seq = seq; self.kind = kind; self.at = at; self.actor = actor; self.office_id = office_id
        self.due_on = due_on; self.outcome = outcome; self.satisfaction = satisfaction; self.note = note
    }
}

public struct ComplaintReadRow: Codable, Sendable, Equatable {
    public var taxpayer_id: String, complaint_id: String, user_id: String, at: String
    public init(taxpayer_id: String, complaint_id: String, user_id: String, at: String) {
        self.taxpayer_id = taxpayer_id; self.complaint_id = complaint_id; self.user_id = user_id; self.at = at
    }
}

extension Store {
    public func complaint(_ id: String) async throws -> ComplaintRow? {
        try await db.select().columns("*").from("complaints").where("id", .equal, id).first(decoding: ComplaintRow.self)
    }
    public func complaintEvents(_ id: String) async throws -> [ComplaintEventRow] {
        try await db.select().columns("*").from("complaint_events").where("complaint_id", .equal, id).orderBy("seq").all(decoding: ComplaintEventRow.self)
    }
    public func complaintReads(_ id: String) async throws -> [ComplaintReadRow] {
        try await db.select().columns("*").from("complaint_reads").where("complaint_id", .equal, id).orderBy("at").all(decoding: ComplaintReadRow.self)
    }
    /// Complaints of some taxpayers, or with some offices (original or escalated to); nil: all. Newest first.
    public func complaints(taxpayers: [String]?, offices: Set<String>?, limit: Int) async throws -> [ComplaintRow] {
        var q: SQLQueryString = "SELECT c.* FROM complaints c WHERE 1 = 1"
        if let taxpayers {
            guard !taxpayers.isEmpty else { return [] }
            q = q + " AND c.taxpayer_id IN " + Self.list(taxpayers)
        }
        if let offices {
            guard !offices.isEmpty else { return [] }
            let list = Self.list(offices.sorted())
            q = q + " AND (c.office_id IN " + list + " OR EXISTS (SELECT 1 FROM complaint_events e WHERE e.complaint_id = c.id AND e.kind = 'escalated' AND e.office_id IN " + list + "))"
        }
        return try await db.raw(q + " ORDER BY c.received_at DESC, c.id LIMIT \(bind: limit)").all(decoding: ComplaintRow.self)
    }
    /// Every event of the given complaints, in order.
    public func complaintEvents(of ids: [String]) async throws -> [String: [ComplaintEventRow]] {
        guard !ids.isEmpty else { return [:] }
        var out: [String: [ComplaintEventRow]] = [:]
        for chunk in ids.chunked(500) {
            for e in try await db.raw("SELECT * FROM complaint_events WHERE complaint_id IN " + Self.list(Array(chunk)) + " ORDER BY complaint_id, seq")
                .all(decoding: ComplaintEventRow.self) { out[e.complaint_id, default: []].append(e) }
        }
        return out
    }
    /// Appends an event with the next sequence number (inside `writeAudited`; two writers collide on the key).
    /// `expectingLast`: append only if the complaint's last event is still that one (the desk's sweep decided on what
    /// it read); otherwise another writer came first and `StoreError.constraint` is thrown.
    public static func appendComplaintEvent(_ e: ComplaintEventRow, on db: any SQLDatabase, expectingLast: Int? = nil) async throws -> Int {
        let last = try await db.raw("SELECT COALESCE(MAX(seq), 0) AS n FROM complaint_events WHERE complaint_id = \(bind: e.complaint_id)").first()?
            .decode(column: "n", as: Int.self) ?? 0
        if let expectingLast, last != expectingLast { throw StoreError.constraint }
        var row = e
        row.seq = last + 1
        try await db.insert(into: "complaint_events").model(row, nilEncodingStrategy: .asNil).run()
        return row.seq
    }
}
