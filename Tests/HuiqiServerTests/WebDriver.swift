import Foundation
import Vapor

/// A minimal W3C WebDriver client for the browser tests: Debian's `chromedriver` drives headless `chromium`.
/// Only what the tests use: navigate, find, type, click, read text and the current URL.
final class WebDriver: @unchecked Sendable {
    let base: String
    let driver: Process
    /// Vapor's HTTP client (AsyncHTTPClient) talks to chromedriver.
    let client: any Client
    var session = ""

    /// Starts chromedriver on a free port and opens a headless Chromium session; nil when chromedriver is absent.
    static func start(client: any Client) async throws -> WebDriver? {
        let binary = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else { return nil }
        let port = 9515 + Int.random(in: 0..<2000)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["--port=\(port)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let d = WebDriver(base: "http://127.0.0.1:\(port)", driver: p, client: client)
        for _ in 0..<100 {
            if let status = try? await d.call("GET", "/status"), ((status["value"] as? [String: Any])?["ready"] as? Bool) == true { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let chromium = FileManager.default.isExecutableFile(atPath: "/usr/lib/chromium/chromium") ? "/usr/lib/chromium/chromium" : "/usr/bin/chromium"
        let caps: [String: Any] = ["capabilities": ["alwaysMatch": ["browserName": "chrome", "goog:chromeOptions": [
            "binary": chromium, "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=zh-CN"]]]]]
        let reply = try await d.call("POST", "/session", caps)
        guard let id = (reply["value"] as? [String: Any])?["sessionId"] as? String else {
            d.driver.terminate()
            throw DriverError.protocolError("no session: \(reply)")
        }
        d.session = id
        // Finding an element waits up to 10 s for it: a click that submits a form returns before the next page loads.
        try await d.call("POST", "/session/\(id)/timeouts", ["implicit": 10_000])
        return d
    }

    init(base: String, driver: Process, client: any Client) { self.base = base; self.driver = driver; self.client = client }

    func quit() async {
        _ = try? await call("DELETE", "/session/\(session)")
        kill(driver.processIdentifier, SIGKILL)  // chromedriver may ignore SIGTERM
        driver.waitUntilExit()
    }

    enum DriverError: Error { case protocolError(String) }

    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        var headers = HTTPHeaders()
        var buffer: ByteBuffer?
        if let body {
            buffer = ByteBuffer(data: try JSONSerialization.data(withJSONObject: body))
            headers.contentType = .json
        }
        let response = try await client.send(HTTPMethod(rawValue: method), headers: headers, to: URI(string: base + path)) { $0.body = buffer }
        let data = response.body.map { Data(buffer: $0) } ?? Data()
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        if let value = object["value"] as? [String: Any], let error = value["error"] as? String {
            throw DriverError.protocolError("\(method) \(path): \(error): \(value["message"] ?? "")")
        }
        return object
    }

    func open(_ url: String) async throws { try await call("POST", "/session/\(session)/url", ["url": url]) }

    func element(_ css: String) async throws -> String {
        let r = try await call("POST", "/session/\(session)/element", ["using": "css selector", "value": css])
        guard let v = r["value"] as? [String: Any], let id = v.values.first as? String else { throw DriverError.protocolError("no element \(css)") }
        return id
    }

    func type(_ css: String, _ text: String) async throws {
        let e = try await element(css)
        try await call("POST", "/session/\(session)/element/\(e)/clear", [:])
        try await call("POST", "/session/\(session)/element/\(e)/value", ["text": text])
    }

    func click(_ css: String) async throws {
        try await call("POST", "/session/\(session)/element/\(try await element(css))/click", [:])
    }

    func text(_ css: String) async throws -> String {
        let r = try await call("GET", "/session/\(session)/element/\(try await element(css))/text")
        return r["value"] as? String ?? ""
    }

    /// Whether the element's text comes to contain `expected` within 5 s (a click's navigation may still be under
    /// way: the element may be the old page's, or gone).
    func eventually(_ css: String, contains expected: String) async -> Bool {
        for _ in 0..<50 {
            if let t = try? await text(css), t.contains(expected) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Signs in through the login form and waits for the landing list (officers land on /taxpayers; a taxpayer
    /// account is sent there too when it opens /login directly).
    func signIn(_ site: String, _ login: String, _ password: String) async throws {
        try await open(site + "/login")
        try await type("#login", login)
        try await type("#password", password)
        try await click("#submit")
        for _ in 0..<30 where !(try await currentURL().hasSuffix("/taxpayers")) { try await Task.sleep(for: .milliseconds(100)) }
    }

    /// The visible text of the whole page, for failure messages.
    func pageText() async -> String { (try? await text("body")) ?? "" }

    /// Resizes the window (CSS pixels): phone width is 390.
    func resize(width: Int, height: Int) async throws {
        try await call("POST", "/session/\(session)/window/rect", ["width": width, "height": height])
    }

    /// Runs a script in the page; `async`: the script calls its last argument with the result.
    func execute(_ script: String, async: Bool = false) async throws -> Any? {
        try await call("POST", "/session/\(session)/execute/\(async ? "async" : "sync")", ["script": script, "args": []])["value"]
    }

    /// The id of the element that has the focus.
    func focusedID() async throws -> String { (try await execute("return document.activeElement ? document.activeElement.id : ''")) as? String ?? "" }

    func currentURL() async throws -> String {
        (try await call("GET", "/session/\(session)/url"))["value"] as? String ?? ""
    }
}
