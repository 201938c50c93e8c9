/// A determination's list of parameter versions in force, stored apart from the version (migration 025).
public enum ParameterList {
    /// The list's id: the SHA-256 of its JSON text, so the same list always has the same id.
    public static func id(of json: String) -> String { TextDigest.sha256Hex(json) }

    /// `determination` (a JSON object's text) with `"parameters": list` as its last member. Filing stores the
    /// determination without it; the API, the receipt and the return page show it with it.
    public static func inline(_ list: String, into determination: String) -> String {
        // On the UTF-8 bytes: by Characters, `dropLast` counted the whole text's grapheme clusters, 4 % of the
        // server's time under the filing load (docs/performance.md). JSON's whitespace is these four bytes.
        let bytes = determination.utf8
        guard let last = bytes.indices.last, bytes[last] == UInt8(ascii: "}") else { return determination }
        let body = bytes[..<last]
        let empty = body.allSatisfy { $0 == UInt8(ascii: "{") || $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        var shown = String()
        shown.reserveCapacity(bytes.count + list.utf8.count + 16)
        shown += Substring(body)
        shown += empty ? "\"parameters\":" : ",\"parameters\":"
        shown += list
        shown += "}"
        return shown
    }
}
