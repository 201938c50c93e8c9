/// A determination's list of parameter versions in force, stored apart from the version (migration 025).
public enum ParameterList {
    /// The list's id: the SHA-256 of its JSON text, so the same list always has the same id.
    public static func id(of json: String) -> String { TextDigest.sha256Hex(json) }

    /// `determination` (a JSON object's text) with `"parameters": list` as its last member. Filing stores the
    /// determination without it; the API, the receipt and the return page show it with it.
    public static func inline(_ list: String, into determination: String) -> String {
        guard determination.hasSuffix("}") else { return determination }
        let body = determination.dropLast()
        let empty = body.allSatisfy { $0 == "{" || $0.isWhitespace }
        return body + (empty ? "" : ",") + "\"parameters\":" + list + "}"
    }
}
