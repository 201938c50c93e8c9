/// 统一社会信用代码 (GB 32100-2015): 18 characters from a 31-character alphabet (no I, O, S, V, Z);
/// the last is a check character over the first 17 (weights 3^i mod 31).
public enum CreditCode {
    static let alphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    /// The value of each ASCII byte in the alphabet, −1 outside it: codes are checked by the million when other
    /// departments' registries are imported, so no character search per character.
    static let values: [Int8] = {
        var v = [Int8](repeating: -1, count: 128)
        for (i, c) in alphabet.enumerated() { v[Int(c.asciiValue!)] = Int8(i) }
        return v
    }()

    /// The check value of 17 ASCII bytes, nil if one is outside the alphabet.
    static func check<C: Collection>(_ bytes: C) -> Int? where C.Element == UInt8 {
        guard bytes.count == 17 else { return nil }
        var sum = 0
        for (i, b) in bytes.enumerated() {
            guard b < 128, case let v = values[Int(b)], v >= 0 else { return nil }
            sum += Int(v) * weights[i]
        }
        return (31 - sum % 31) % 31
    }

    /// The check character for the first 17 characters, or nil if one is outside the alphabet.
    public static func checkCharacter(for body: String) -> Character? {
        check(body.utf8).map { alphabet[$0] }
    }

    public static func isValid(_ code: String) -> Bool {
        let bytes = code.utf8
        guard bytes.count == 18, let c = check(bytes.prefix(17)), let last = bytes.last else { return false }
        return alphabet[c].asciiValue == last
    }
}
