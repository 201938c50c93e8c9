/// A JSON value that keeps number literals as their text, so amounts are never rounded through binary floating
/// point (CASES.md: "They are exact"). Objects keep their key order; duplicate keys are rejected by the parser.
public indirect enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (l: JSON, r: JSON) -> Bool {
        switch (l, r) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)), let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The text of a string value; nil for any other kind of value.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }

    public subscript(key: String) -> JSON? {
        if case .object(let kv) = self { return kv.first { $0.0 == key }?.1 }
        return nil
    }
    public subscript(index: Int) -> JSON? {
        if case .array(let list) = self, list.indices.contains(index) { return list[index] }
        return nil
    }

    /// Serialises with the keys in the order given; `indent` nil gives one line.
    public func serialized(indent: Int? = 2) -> String {
        var out = ""
        write(to: &out, indent: indent, level: 0)
        return out
    }

    private func write(to out: inout String, indent: Int?, level: Int) {
        let nl = indent == nil ? "" : "\n"
        func pad(_ l: Int) -> String { indent.map { String(repeating: " ", count: $0 * l) } ?? "" }
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSON.quote(s, into: &out)
        case .array(let a):
            if a.isEmpty { out += "[]"; return }
            // Arrays of scalars stay on one line: easier to read for `failed`, `employees`, `rules` lists of numbers.
            let scalars = a.allSatisfy { if case .array = $0 { return false }; if case .object = $0 { return false }; return true }
            if scalars && a.allSatisfy({ if case .string = $0 { return false }; return true }) {
                out += "["; for (i, v) in a.enumerated() { if i > 0 { out += ", " }; v.write(to: &out, indent: nil, level: 0) }; out += "]"; return
            }
            out += "[" + nl
            for (i, v) in a.enumerated() {
                out += pad(level + 1); v.write(to: &out, indent: indent, level: level + 1)
                out += (i < a.count - 1 ? "," : "") + nl
            }
            out += pad(level) + "]"
        case .object(let kv):
            if kv.isEmpty { out += "{}"; return }
            out += "{" + nl
            for (i, (k, v)) in kv.enumerated() {
                out += pad(level + 1); JSON.quote(k, into: &out); out += indent == nil ? ":" : ": "
                v.write(to: &out, indent: indent, level: level + 1)
                out += (i < kv.count - 1 ? "," : "") + nl
            }
            out += pad(level) + "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        // Most text needs no escape: it is appended whole (bytes of multi-byte characters are all 0x80 and above).
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += s
            out += "\""
            return
        }
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else { out.unicodeScalars.append(u) }
            }
        }
        out += "\""
    }
}

/// Why a document is not JSON: the byte offset and what was expected.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    public let offset: Int
    public let problem: String
    public var description: String { "invalid JSON at byte \(offset): \(problem)" }
}

/// A strict RFC 8259 parser over UTF-8 bytes. Numbers are validated and kept as text.
public struct JSONParser {
    private let b: [UInt8]
    private var i = 0
    private var depth = 0

    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSON {
        var p = JSONParser(b: Array(text.utf8))
        p.skipSpace()
        let v = try p.value()
        p.skipSpace()
        guard p.i == p.b.count else { throw JSONSyntaxError(offset: p.i, problem: "unexpected text after the document") }
        return v
    }

    private init(b: [UInt8]) { self.b = b }

    private mutating func skipSpace() { while i < b.count, [0x20, 0x0A, 0x0D, 0x09].contains(b[i]) { i += 1 } }
    private func err(_ m: String) -> JSONSyntaxError { JSONSyntaxError(offset: i, problem: m) }

    private mutating func value() throws(JSONSyntaxError) -> JSON {
        guard i < b.count else { throw err("unexpected end of document") }
        switch b[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    private mutating func literal(_ word: String) throws(JSONSyntaxError) {
        let w = Array(word.utf8)
        guard i + w.count <= b.count, Array(b[i..<i + w.count]) == w else { throw err("expected \(word)") }
        i += w.count
    }

    private mutating func object() throws(JSONSyntaxError) -> JSON {
        depth += 1; defer { depth -= 1 }
        guard depth < 64 else { throw err("nesting too deep") }
        i += 1; skipSpace()
        var kv: [(String, JSON)] = []
        if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(kv) }
        while true {
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw err("expected a key in quotes") }
            let k = try string()
            if kv.contains(where: { $0.0 == k }) { throw err("duplicate key \"\(k)\"") }
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw err("expected ':'") }
            i += 1; skipSpace()
            kv.append((k, try value()))
            skipSpace()
            guard i < b.count else { throw err("unterminated object") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; return .object(kv) }
            throw err("expected ',' or '}'")
        }
    }

    private mutating func array() throws(JSONSyntaxError) -> JSON {
        depth += 1; defer { depth -= 1 }
        guard depth < 64 else { throw err("nesting too deep") }
        i += 1; skipSpace()
        var a: [JSON] = []
        if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
        while true {
            skipSpace()
            a.append(try value())
            skipSpace()
            guard i < b.count else { throw err("unterminated array") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            throw err("expected ',' or ']'")
        }
    }

    private mutating func string() throws(JSONSyntaxError) -> String {
        i += 1
        var bytes: [UInt8] = []
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return String(decoding: bytes, as: UTF8.self) }
            if c < 0x20 { throw err("control character in string") }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < b.count else { break }
                switch b[i] {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C)
                case UInt8(ascii: "/"): bytes.append(0x2F)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard i + 2 < b.count, b[i + 1] == UInt8(ascii: "\\"), b[i + 2] == UInt8(ascii: "u") else { throw err("lone surrogate") }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw err("bad surrogate pair") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let s = Unicode.Scalar(code) else { throw err("bad \\u escape") }
                    bytes.append(contentsOf: Array(String(s).utf8))
                default: throw err("bad escape")
                }
                i += 1
            } else { bytes.append(c); i += 1 }
        }
        throw err("unterminated string")
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard i + 4 < b.count, let v = UInt32(String(decoding: b[(i + 1)...(i + 4)], as: UTF8.self), radix: 16) else { throw err("bad \\u escape") }
        i += 4
        return v
    }

    private mutating func number() throws(JSONSyntaxError) -> String {
        let start = i
        func digit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, digit(b[i]) else { throw err("unexpected character") }
        if b[i] == 0x30 { i += 1 } else { while i < b.count, digit(b[i]) { i += 1 } }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard i < b.count, digit(b[i]) else { throw err("digit expected after '.'") }
            while i < b.count, digit(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, digit(b[i]) else { throw err("digit expected in exponent") }
            while i < b.count, digit(b[i]) { i += 1 }
        }
        return String(decoding: b[start..<i], as: UTF8.self)
    }
}
