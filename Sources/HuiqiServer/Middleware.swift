import AsyncKit
import Foundation
import HuiqiRules
import HuiqiServices
import HuiqiStore
import Vapor

struct ActorBox: Authenticatable { let actor: Actor }

/// Resolves `Authorization: Bearer …` into the actor; a missing, unknown, expired or revoked token is 401.
struct BearerActor: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let token = request.headers.bearerAuthorization?.token else { throw ServiceError.unauthenticated }
        request.auth.login(ActorBox(actor: try await request.application.platform.auth.actor(token: token)))
        return try await next.respond(to: request)
    }
}

/// Maps every error to its HTTP answer in a documented shape (OpenAPI `Error` or `Message`): refusals to 400/422
/// with the CASES.md error object; reach to 404/403; races on a unique key to 409; a route that exists for
/// other methods to 405; no database connection in time to 503 with Retry-After; Vapor's own errors (bad
/// bodies, 413) keep their status with a message. Nothing else is a 500, and a 500 says only that it is one
/// (the cause goes to the log).
struct ErrorMapping: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do { return try await next.respond(to: request) }
        catch let r as Refusal {
            return rawJSON(r.code == .invalidInput ? .badRequest : .unprocessableEntity, r.json.serialized(indent: nil))
        } catch let e as ServiceError {
            switch e {
            case .notFound: return message(.notFound, "not found / 未找到")
            case .forbidden(let why): return message(.forbidden, why)
            case .unauthenticated: return message(.unauthorized, "a valid bearer token is required / 需要有效的令牌")
            case let .invalid(field, zh, en):
                return rawJSON(.badRequest, Refusal.invalid(field, zh: zh, en: en).json.serialized(indent: nil))
            case let .conflict(field, zh, en):
                return rawJSON(.conflict, Refusal.invalid(field, zh: zh, en: en).json.serialized(indent: nil))
            case let .unprocessable(field, zh, en):
                return rawJSON(.unprocessableEntity, Refusal.invalid(field, zh: zh, en: en).json.serialized(indent: nil))
            case .tooManyRequests(let seconds):
                let r = message(.tooManyRequests, "too many failed logins; wait \(seconds / 60) minutes / 登录失败次数过多，请\(seconds / 60)分钟后再试")
                r.headers.replaceOrAdd(name: .retryAfter, value: "\(seconds)")
                return r
            }
        } catch StoreError.constraint {
            return message(.conflict, "the request conflicts with a concurrent change; read again and retry / 与同时进行的修改冲突，请刷新后重试")
        } catch LedgerError.insufficientBalance {
            return message(.conflict, "the balance changed meanwhile; read again and retry / 余额已变化，请刷新后重试")
        } catch let abort as any AbortError {
            if abort.status == .notFound {
                let allowed = request.application.allowedMethods(path: request.url.path)
                if !allowed.isEmpty {
                    let r = message(.methodNotAllowed, "method \(request.method.rawValue) not allowed here / 不支持该请求方法")
                    r.headers.replaceOrAdd(name: .allow, value: allowed.map(\.rawValue).joined(separator: ", "))
                    return r
                }
                if isPage(request) { return await notFoundPage(request) }
                return message(.notFound, "not found / 未找到")
            }
            if abort.status == .payloadTooLarge {
                return message(.payloadTooLarge, "the request body is too large (at most \(Platform.maxBodyText)) / 请求内容过大")
            }
            if (300..<400).contains(abort.status.code) { return Response(status: abort.status, headers: abort.headers) }  // the pages' redirects
            return message(abort.status, "\(abort.reason) / 请求无效")
        } catch ConnectionPoolTimeoutError.connectionRequestTimeout {
            // Every database connection stayed busy for the pool's whole wait (10 s): the server is overloaded or
            // the database unreachable. Nothing was written; the client may retry (a filing with the same
            // Idempotency-Key is answered once).
            request.logger.warning("no database connection within the pool's timeout; answered 503")
            let r = message(.serviceUnavailable, "the service is busy; retry shortly / 服务繁忙，请稍后重试")
            r.headers.replaceOrAdd(name: .retryAfter, value: "5")
            return r
        } catch let e as DecodingError {
            return message(.badRequest, "the request body could not be read: \(e.localizedDescription) / 请求内容无法解析")
        } catch {
            request.logger.error("unexpected error: \(String(reflecting: error))")
            return message(.internalServerError, "internal error; it has been logged / 服务器内部错误，已记录")
        }
    }

    func message(_ status: HTTPResponseStatus, _ text: String) -> Response { (try? jsonResponse(status, ["error": text])) ?? Response(status: status) }
}

/// Refuses before any handler what no handler should see: a NUL or other control character in the path, the
/// query or a header (PostgreSQL cannot store NUL: 22021), bad percent-encoding, and paths or queries beyond any
/// real use. The error names the part: `path`, the query parameter, or the header.
struct InputGuard: AsyncMiddleware {
    static let maxPath = 2048, maxQuery = 2048

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let path = request.url.path
        guard path.utf8.count <= Self.maxPath, let decoded = path.removingPercentEncoding, !TextInput.hasControlCharacter(decoded) else {
            throw ServiceError.invalid(field: "path", zh: "路径无效（含控制字符、编码错误或过长）", en: "invalid path (a control character, bad percent-encoding or too long)")
        }
        if let query = request.url.query {
            guard query.utf8.count <= Self.maxQuery else {
                throw ServiceError.invalid(field: "query", zh: "查询字符串过长", en: "the query string is too long")
            }
            for pair in query.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
                let name = parts.first.flatMap { $0 } ?? "query"
                if parts.contains(where: { $0 == nil || TextInput.hasControlCharacter($0!) }) {
                    throw ServiceError.invalid(field: name, zh: "查询参数 \(name) 无效（含控制字符或编码错误）", en: "query parameter \(name) is invalid (a control character or bad percent-encoding)")
                }
            }
        }
        for (name, value) in request.headers where value.unicodeScalars.contains(where: { $0.value == 0 }) {
            throw ServiceError.invalid(field: name, zh: "请求头 \(name) 含空字符", en: "header \(name) contains a NUL character")
        }
        return try await next.respond(to: request)
    }
}

/// Security headers on every response, pages and API alike; HSTS when the platform is served over HTTPS.
struct SecurityHeaders: AsyncMiddleware {
    let https: Bool
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        let h = response.headers
        var add: [(String, String)] = [("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"),
                                       ("Cross-Origin-Opener-Policy", "same-origin"), ("Cross-Origin-Resource-Policy", "same-origin")]
        if !h.contains(name: "Content-Security-Policy") { add.append(("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")) }
        if https { add.append(("Strict-Transport-Security", "max-age=31536000")) }
        for (name, value) in add where !h.contains(name: name) { response.headers.add(name: name, value: value) }
        return response
    }
}

extension Application {
    /// The methods of the routes whose path matches `path` (parameters match any segment): for 405 and `Allow`.
    func allowedMethods(path: String) -> [HTTPMethod] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var methods: [HTTPMethod] = []
        for route in routes.all where route.path.count == segments.count || route.path.last == .catchall {
            let matches = zip(route.path, segments).allSatisfy { component, segment in
                switch component {
                case .constant(let c): return c == segment.removingPercentEncoding
                case .parameter, .anything, .catchall: return true
                }
            }
            if matches && !methods.contains(route.method) { methods.append(route.method) }
        }
        return methods
    }
}
