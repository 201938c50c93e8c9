import Foundation
import HuiqiRules
import HuiqiServices
import Vapor

struct ActorBox: Authenticatable { let actor: Actor }

/// Resolves `Authorization: Bearer …` into the actor; a missing or unknown token is 401.
struct BearerActor: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let token = request.headers.bearerAuthorization?.token else { throw ServiceError.unauthenticated }
        request.auth.login(ActorBox(actor: try await request.application.platform.auth.actor(token: token)))
        return try await next.respond(to: request)
    }
}

/// Maps the domain's errors to HTTP: refusals to 400/422 with the CASES.md error object; reach to 404/403.
struct ErrorMapping: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do { return try await next.respond(to: request) }
        catch let r as Refusal {
            return rawJSON(r.code == .invalidInput ? .badRequest : .unprocessableEntity, r.json.serialized(indent: nil))
        } catch let e as ServiceError {
            switch e {
            case .notFound: return try jsonResponse(.notFound, ["error": "not found / 未找到"])
            case .forbidden(let why): return try jsonResponse(.forbidden, ["error": why])
            case .unauthenticated: return try jsonResponse(.unauthorized, ["error": "a valid bearer token is required / 需要有效的令牌"])
            case let .invalid(field, zh, en):
                return rawJSON(.badRequest, Refusal.invalid(field, zh: zh, en: en).json.serialized(indent: nil))
            case let .conflict(field, zh, en):
                return rawJSON(.conflict, Refusal.invalid(field, zh: zh, en: en).json.serialized(indent: nil))
            }
        }
    }
}

struct RequestCounter: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        request.application.platform.requests.increment()
        return try await next.respond(to: request)
    }
}
