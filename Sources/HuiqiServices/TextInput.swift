/// Limits on text that reaches the database or a page: no NUL (PostgreSQL refuses it with 22021) nor any other
/// control character, and a length in characters. A refusal names the field in Chinese and English, so such
/// input is a 400, never a database error.
public enum TextInput {
    /// Identifiers: credit codes, office and user ids, return ids, path segments.
    public static let maxIdentifier = 64
    /// Names of taxpayers and offices, login names, search strings.
    public static let maxName = 200
    /// Passwords (bcrypt reads the first 72 bytes; longer input is refused rather than silently truncated by others).
    public static let maxPassword = 128
    /// `Idempotency-Key`: visible ASCII, as HTTP tokens are; the unique index holds it comfortably.
    public static let maxIdempotencyKey = 200

    /// A C0 control character (NUL among them) or DEL.
    public static func hasControlCharacter(_ value: String) -> Bool {
        value.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    public static func check(_ value: String, field: String, maxLength: Int, allowNewlines: Bool = false) throws {
        if allowNewlines ? value.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\n" && $0 != "\r" && $0 != "\t") || $0.value == 0x7F })
                         : hasControlCharacter(value) {
            throw ServiceError.invalid(field: field, zh: "\(field) 含有控制字符（如空字符）", en: "\(field) contains a control character (such as NUL)")
        }
        if value.count > maxLength {
            throw ServiceError.invalid(field: field, zh: "\(field) 最多 \(maxLength) 个字符", en: "\(field) must have at most \(maxLength) characters")
        }
    }

    public static func check(_ value: String?, field: String, maxLength: Int) throws {
        if let value { try check(value, field: field, maxLength: maxLength) }
    }

    /// An `Idempotency-Key`: 1 to 200 visible ASCII characters.
    public static func idempotencyKey(_ key: String?) throws -> String? {
        guard let key else { return nil }
        guard (1...maxIdempotencyKey).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw ServiceError.invalid(field: "Idempotency-Key", zh: "Idempotency-Key 应为 1 至 \(maxIdempotencyKey) 个可见 ASCII 字符",
                                       en: "Idempotency-Key must be 1 to \(maxIdempotencyKey) visible ASCII characters")
        }
        return key
    }
}
