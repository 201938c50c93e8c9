import Foundation
import HuiqiStore

/// Who is asking: a user, their role, and the taxpayers and offices within their reach, resolved once per request.
public struct Actor: Sendable {
    public enum Role: String, Sendable, CaseIterable { case taxpayer, officer, supervisor, administrator }
    public let userID: String
    public let login: String
    public let role: Role
    /// The user's office and every office below it (officers and supervisors).
    public let offices: Set<String>
    /// The taxpayers bound to a taxpayer user.
    public let boundTaxpayers: Set<String>
    public init(userID: String, login: String, role: Role, offices: Set<String>, boundTaxpayers: Set<String>) {
        self.userID = userID; self.login = login; self.role = role; self.offices = offices; self.boundTaxpayers = boundTaxpayers
    }
}

/// Why a service refuses, independent of HTTP (the server maps these to 401/403/404/409).
public enum ServiceError: Error, Equatable, Sendable {
    /// Not found, or outside the actor's reach: the two are indistinguishable on purpose (reveals nothing).
    case notFound
    /// Within reach but not allowed (a supervisor filing a return).
    case forbidden(String)
    case unauthenticated
    case invalid(field: String, zh: String, en: String)
    /// The request contradicts what is stored (a credit code registered twice, a frequency fixed for the year).
    case conflict(field: String, zh: String, en: String)
    /// Well formed but refused as it stands (an idempotency key reused with another request): 422.
    case unprocessable(field: String, zh: String, en: String)
    /// Too many attempts (failed logins): try again after the given seconds (429).
    case tooManyRequests(retryAfter: Int)
}

/// A stored user whose role this version does not know: an error, never a taxpayer by default.
public enum AccessError: Error { case unknownRole(String) }

/// The one place that decides who may see and do what (ARCHITECTURE: authorization lives in the services).
public struct Access: Sendable {
    public let store: Store
    public init(store: Store) { self.store = store }

    /// Builds the actor of a user row.
    public func actor(for user: UserRow) async throws -> Actor {
        guard let role = Actor.Role(rawValue: user.role) else { throw AccessError.unknownRole(user.role) }
        var offices: Set<String> = []
        if let office = user.office_id, role == .officer || role == .supervisor { offices = try await store.officeSubtree(office) }
        let bound = role == .taxpayer ? Set(try await store.boundTaxpayers(user: user.id)) : []
        return Actor(userID: user.id, login: user.login, role: role, offices: offices, boundTaxpayers: bound)
    }

    /// The taxpayer, if the actor may see it; otherwise `notFound` whether or not it exists.
    public func readableTaxpayer(_ id: String, by actor: Actor) async throws -> TaxpayerRow {
        try TextInput.check(id, field: "taxpayer", maxLength: TextInput.maxIdentifier)
        return try readable(try await store.taxpayer(id), by: actor)
    }

    /// The taxpayer, if the actor may file for it: its bound users and officers of its office subtree.
    public func fileableTaxpayer(_ id: String, by actor: Actor) async throws -> TaxpayerRow {
        try TextInput.check(id, field: "taxpayer", maxLength: TextInput.maxIdentifier)
        return try fileable(try await store.taxpayer(id), by: actor)
    }

    /// `fileableTaxpayer` for a row already read (nil: no taxpayer has the id asked): filing reads the taxpayer
    /// together with the rest of what it needs (`Store.filingContext`).
    public func fileable(_ row: TaxpayerRow?, by actor: Actor) throws -> TaxpayerRow {
        let t = try readable(row, by: actor)
        guard actor.role == .taxpayer || actor.role == .officer else {
            throw ServiceError.forbidden("\(actor.role.rawValue) accounts are read-only for returns / 该账号只能查看申报表，不能申报")
        }
        return t
    }

    /// The row, if the actor may see it; otherwise `notFound`, whether or not it exists.
    func readable(_ row: TaxpayerRow?, by actor: Actor) throws -> TaxpayerRow {
        guard let t = row else { throw ServiceError.notFound }
        switch actor.role {
        case .administrator: return t
        case .taxpayer: if actor.boundTaxpayers.contains(t.id) { return t }
        case .officer, .supervisor: if actor.offices.contains(t.office_id) { return t }
        }
        throw ServiceError.notFound
    }

    /// The offices whose taxpayers the actor may list (nil = all, for administrators).
    public func listableOffices(_ actor: Actor) -> Set<String>? {
        switch actor.role {
        case .administrator: return nil
        case .officer, .supervisor: return actor.offices
        case .taxpayer: return []
        }
    }

    /// The taxpayers the actor may see, filtered by a credit-code prefix or a name fragment, in credit-code order:
    /// a taxpayer user's bound taxpayers; an officer's or supervisor's office subtree; everything for administrators.
    public func visibleTaxpayers(_ actor: Actor, search: String?, limit: Int = 100) async throws -> [TaxpayerRow] {
        let search = search?.trimmingCharacters(in: .whitespaces)
        try TextInput.check(search, field: "q", maxLength: TextInput.maxName)
        if actor.role == .taxpayer {
            let rows = try await store.taxpayers(ids: Array(actor.boundTaxpayers))
            guard let search, !search.isEmpty else { return rows }
            return rows.filter { $0.id.hasPrefix(search) || $0.name.contains(search) }
        }
        let offices = listableOffices(actor)
        if offices?.isEmpty == true { return [] }
        return try await store.taxpayers(inOffices: offices, search: search, limit: limit)
    }

    /// Whether the actor may file returns for a taxpayer it can see (taxpayer users and officers).
    public func mayFile(_ actor: Actor) -> Bool { actor.role == .taxpayer || actor.role == .officer }
}
