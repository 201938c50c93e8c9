import Foundation
import HuiqiCalendar
import HuiqiRules
import HuiqiStore

/// The platform without HTTP: one store, one engine, one calendar, one clock, and every service built on them.
/// `huiqi serve` puts routes on top of it; the command-line jobs (monitor, screen, remind) and the service tests
/// use it as it is, so all of them run the same code with the same wiring.
public struct Services: Sendable {
    public let store: Store
    public let engine: Engine
    public let deadlines: FilingDeadlines
    public let now: @Sendable () -> Date
    public let access: Access
    public let filing: FilingService
    public let registry: RegistryService
    public let auth: AuthService
    public let monitoring: MonitoringService
    public let screening: ScreeningService
    public let ledger: LedgerService
    public let reminders: ReminderService
    public let statistics: StatisticsService
    public let supervision: SupervisionService
    public let rectification: RectificationService
    public let comparison: RegistryComparisonService
    public let reports: ReportService
    public let knowledge: KnowledgeService
    /// nil when the complaint desk's rules file cannot be read (the desk then refuses; a test reads the file).
    public let complaints: ComplaintService?

    /// `webhook`: where reminders are delivered (nil: in the portal only). `tokenDays`: API token lifetime.
    /// `monitoringSnapshotSeconds`: serve monitoring from a snapshot this old at most (0: live figures).
    public init(store: Store, engine: Engine, deadlines: FilingDeadlines, now: @escaping @Sendable () -> Date,
                webhook: String? = nil, tokenDays: Int = 30, monitoringSnapshotSeconds: Int = 0) {
        self.store = store; self.engine = engine; self.deadlines = deadlines; self.now = now
        access = Access(store: store)
        auth = AuthService(store: store, access: access, now: now, tokenDays: tokenDays)
        filing = FilingService(store: store, access: access, auth: auth, engine: engine, deadlines: deadlines, now: now)
        registry = RegistryService(store: store, access: access, now: now)
        monitoring = MonitoringService(store: store, deadlines: deadlines, now: now, snapshotSeconds: monitoringSnapshotSeconds)
        statistics = StatisticsService(store: store, monitoring: monitoring, now: now, snapshotSeconds: monitoringSnapshotSeconds)
        // A weights file that cannot be read makes supervision refuse (never a default score); a test reads it.
        let weights = try? EvaluationWeights.bundled()
        supervision = SupervisionService(statistics: statistics, monitoring: monitoring, weights: weights)
        reports = ReportService(store: store, statistics: statistics, monitoring: monitoring, deadlines: deadlines, weights: weights, now: now)
        rectification = RectificationService(store: store, deadlines: deadlines, now: now)
        comparison = RegistryComparisonService(store: store, now: now)
        screening = ScreeningService(store: store, engine: engine, deadlines: deadlines, now: now)
        ledger = LedgerService(store: store, access: access, now: now)
        reminders = ReminderService(store: store, deadlines: deadlines, now: now, webhook: webhook)
        knowledge = KnowledgeService(store: store, parameters: engine.parameters, now: now)
        let access = self.access
        complaints = (try? ComplaintRules.bundled()).map { ComplaintService(store: store, access: access, calendar: deadlines.calendar, rules: $0, now: now) }
    }
}
