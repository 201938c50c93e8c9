import Foundation
import HuiqiRules
import HuiqiStore
import Metrics

/// What the platform does, as metrics (swift-metrics; the server bootstraps a Prometheus backend, command-line jobs
/// leave them as no-ops). One place names every series, so that a name always comes with the same labels (Prometheus
/// refuses a series whose label names change) and operators find the list in one file (docs/deploy.md lists them).
///
/// Labels are small closed sets: a section, an outcome, a code. Never a taxpayer, user or free text.
public enum DomainMetrics {
    /// A filing attempt's end: `filed`, `replayed` (an idempotent retry answered from the first), or `refused` with
    /// the error's code (`invalid`, `conflict`, `forbidden`, …).
    public static func filing(section: String, outcome: String, code: String = "") {
        Counter(label: "huiqi_filings_total", dimensions: [("section", section), ("outcome", outcome), ("code", code)]).increment()
    }

    /// The engine's time for one determination (a filing, a preview, a portal self-check).
    public static func engine(section: String, nanoseconds: UInt64) {
        Metrics.Timer(label: "huiqi_engine_duration_seconds", dimensions: [("section", section)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// A refused password check (`password`: wrong login or password; `throttled`: too many recent failures).
    public static func loginFailure(reason: String) {
        Counter(label: "huiqi_login_failures_total", dimensions: [("reason", reason)]).increment()
    }

    /// A background job's progress (0…1) while it runs, and its duration when it ends (`succeeded`, `failed`).
    public static func jobProgress(kind: String, done: Int64, total: Int64) {
        Gauge(label: "huiqi_job_progress_ratio", dimensions: [("kind", kind)]).record(total > 0 ? Double(done) / Double(total) : 0)
    }
    public static func jobEnded(kind: String, outcome: String, nanoseconds: UInt64) {
        Metrics.Timer(label: "huiqi_job_duration_seconds", dimensions: [("kind", kind), ("outcome", outcome)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// Reminders waiting in the outbox for the webhook, and each delivery attempt's outcome (`delivered`, `failed`).
    public static func reminderOutbox(depth: Int) {
        Gauge(label: "huiqi_reminder_outbox_depth").record(Double(depth))
    }
    public static func reminderDelivery(outcome: String) {
        Counter(label: "huiqi_reminder_deliveries_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// The statements that write filings' versions on PostgreSQL (`StatementBatcher`): `alone` (one filing), `together`
    /// (several in one statement and commit), `apart` (the database refused a statement of several, and each was then
    /// written alone) or `failed` (a statement of several failed otherwise, as when no connection came in time);
    /// and the versions written by each kind. Versions ÷ statements is the mean group under load.
    public static func filingWrite(_ written: BatchedStatement) {
        let (kind, versions): (String, Int64) = switch written {
        case .alone: ("alone", 1)
        case .together(let n): ("together", Int64(n))
        case .apart(let n): ("apart", Int64(n))
        case .failed(let n): ("failed", Int64(n))
        }
        Counter(label: "huiqi_filing_write_statements_total", dimensions: [("kind", kind)]).increment()
        Counter(label: "huiqi_filing_write_versions_total", dimensions: [("kind", kind)]).increment(by: versions)
    }

    /// Audit entries written but not yet placed in the chain (PostgreSQL places them after commit): a backlog that
    /// grows means no chainer runs.
    public static func auditUnchained(_ count: Int) {
        Gauge(label: "huiqi_audit_unchained_entries").record(Double(count))
    }

    /// One knowledge-base search, ranking and snippets.
    public static func search(nanoseconds: UInt64) {
        Metrics.Timer(label: "huiqi_kb_search_duration_seconds", preferredDisplayUnit: .seconds).recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// A database round trip through the pool (`SELECT 1`): the time includes waiting for a free connection, so it
    /// rises when the pool runs short. `outcome`: `ok` or `failed`.
    public static func databaseProbe(outcome: String, nanoseconds: UInt64) {
        Metrics.Timer(label: "huiqi_db_probe_duration_seconds", dimensions: [("outcome", outcome)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// The code of a refusal, for the `code` label: the engine's CASES.md code (`invalid_input`, `missing_fact`,
    /// `no_rule`, …), or the platform's (`invalid`, `conflict`, `forbidden`, …); `error` for anything else.
    public static func code(of error: any Error) -> String {
        if let r = error as? Refusal { return r.code.rawValue }
        guard let e = error as? ServiceError else { return "error" }
        switch e {
        case .invalid: return "invalid"
        case .unprocessable: return "unprocessable"
        case .conflict: return "conflict"
        case .forbidden: return "forbidden"
        case .notFound: return "not_found"
        case .unauthenticated: return "unauthenticated"
        case .tooManyRequests: return "too_many_requests"
        }
    }

    static func since(_ start: UInt64) -> UInt64 { DispatchTime.now().uptimeNanoseconds - start }
}
