/// 统一社会信用代码 (GB 32100-2015): 18 characters from a 31-character alphabet (no I, O, S, V, Z);
/// the last is a check character over the first 17 (weights 3^i mod 31).
public enum CreditCode {
    static let alphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    /// The check character for the first 17 characters, or nil if one is outside the alphabet.
    public static func checkCharacter(for body: String) -> Character? {
        let chars = Array(body)
        guard chars.count == 17 else { return nil }
        var sum = 0
        for (i, c) in chars.enumerated() {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            sum += v * weights[i]
        }
        let check = (31 - sum % 31) % 31
        return alphabet[check]
    }

    public static func isValid(_ code: String) -> Bool {
        let chars = Array(code)
        guard chars.count == 18, let c = checkCharacter(for: String(chars[0..<17])) else { return false }
        return c == chars[17]
    }
}
