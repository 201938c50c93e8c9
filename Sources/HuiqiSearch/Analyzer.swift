import Foundation

/// Synonyms and stop words of search, as data (Lexicon/synonyms.txt, Lexicon/stopwords.txt).
public struct SearchVocabulary: Sendable {
    /// Each word of a synonym group maps to every word of its group (itself included).
    public let synonyms: [String: [String]]
    public let stopwords: Set<String>

    public init(synonymLines: [Substring], stopwordLines: [Substring]) {
        var groups: [String: [String]] = [:]
        for line in synonymLines where !line.hasPrefix("#") {
            let words = line.split(whereSeparator: \.isWhitespace).map { String($0).lowercased() }
            for w in words { groups[w, default: []] += words.filter { $0 != w && !(groups[w] ?? []).contains($0) } }
        }
        synonyms = groups
        stopwords = Set(stopwordLines.filter { !$0.hasPrefix("#") }.flatMap { $0.split(whereSeparator: \.isWhitespace).map(String.init) })
    }

    public static let bundled = SearchVocabulary(
        synonymLines: Lexicon.resourceText("synonyms").split(separator: "\n"),
        stopwordLines: Lexicon.resourceText("stopwords").split(separator: "\n"))
}

/// A text as the index stores it: its terms in order, capped so that both databases count them alike.
public struct IndexedText: Sendable, Equatable {
    /// The terms in text order (a term's occurrences after the 255th are dropped: PostgreSQL keeps at most 256
    /// positions of a lexeme, and the SQLite index must count the same).
    public let terms: [String]
    public var length: Int { terms.count }
    /// Each distinct term with its count.
    public var frequencies: [String: Int] { terms.reduce(into: [:]) { $0[$1, default: 0] += 1 } }

    /// Longest text indexed, in terms (PostgreSQL positions stop at 16383).
    public static let maxTerms = 16_000
    public static let maxOccurrences = 255
}

/// Turns documents and queries into terms. Documents: search-mode words plus every Han character of a longer word
/// (so a one-character query such as 税 still finds 增值税). Queries: search-mode words without stop words, each
/// widened by its synonyms. The same code serves SQLite and PostgreSQL, which is why their results agree.
public struct SearchAnalyzer: Sendable {
    public let segmenter: Segmenter
    public let vocabulary: SearchVocabulary
    public init(segmenter: Segmenter = Segmenter(), vocabulary: SearchVocabulary = .bundled) {
        self.segmenter = segmenter; self.vocabulary = vocabulary
    }
    public static let shared = SearchAnalyzer()

    public func index(_ text: String) -> IndexedText {
        let s = Segmenter.normalise(text)
        var terms: [String] = []
        var seen: [String: Int] = [:]
        func add(_ t: String) {
            guard terms.count < IndexedText.maxTerms else { return }
            let n = seen[t, default: 0]
            guard n < IndexedText.maxOccurrences else { return }
            seen[t] = n + 1
            terms.append(t)
        }
        for token in segmenter.cutForSearch(scalars: s) {
            add(token.term)
            if token.end - token.start > 1 && Segmenter.isHan(s[token.start]) {
                for k in token.start..<token.end { add(String(Character(s[k]))) }
            }
        }
        return IndexedText(terms: terms)
    }

    /// The query's terms, each once, sorted (at most 32: a longer question adds nothing but work).
    public func query(_ text: String) -> [String] {
        var out = Set<String>()
        for token in segmenter.cutForSearch(scalars: Segmenter.normalise(text)) where !vocabulary.stopwords.contains(token.term) {
            out.insert(token.term)
            for s in vocabulary.synonyms[token.term] ?? [] { out.insert(s) }
        }
        return Array(out.sorted().prefix(32))
    }
}

/// Relevance scores are `Double` on purpose: they are not money and nothing is rounded from them but the order
/// (both databases compute them in IEEE double, so the order agrees; money elsewhere stays in integer fen).
/// Okapi BM25 exactly as SQLite's FTS5 `bm25()` computes it (k1 = 1.2, b = 0.75, the IDF floored at 1e-6), so
/// that the PostgreSQL implementation, which computes it in SQL, ranks the same way.
public enum BM25 {
    public static let k1 = 1.2
    public static let b = 0.75
    /// IDF of a term found in `hits` of `documents` documents.
    public static func idf(hits: Int, documents: Int) -> Double {
        let v = log((Double(documents) - Double(hits) + 0.5) / (Double(hits) + 0.5))
        return v > 0 ? v : 1e-6
    }
    /// One term's contribution to a document's score.
    public static func term(idf: Double, frequency: Int, length: Int, averageLength: Double) -> Double {
        let f = Double(frequency)
        return idf * (f * (k1 + 1)) / (f + k1 * (1 - b + b * Double(length) / averageLength))
    }
}

/// A part of a snippet: text, highlighted or not.
public struct SnippetPart: Sendable, Equatable, Codable {
    public let text: String
    public let marked: Bool
}

public extension SearchAnalyzer {
    /// About `width` characters of `text` around its densest matches of `terms`, the matches marked.
    func snippet(_ text: String, terms: [String], width: Int = 90) -> [SnippetPart] {
        let original = Array(text.unicodeScalars)
        let s = Segmenter.normalise(text)
        let wanted = Set(terms)
        var spans: [Range<Int>] = []
        for token in segmenter.cutForSearch(scalars: s) where wanted.contains(token.term) { spans.append(token.start..<token.end) }
        for (k, scalar) in s.enumerated() where Segmenter.isHan(scalar) && wanted.contains(String(Character(scalar))) { spans.append(k..<(k + 1)) }
        spans.sort { $0.lowerBound < $1.lowerBound || ($0.lowerBound == $1.lowerBound && $0.upperBound > $1.upperBound) }
        var merged: [Range<Int>] = []
        for r in spans {
            if let last = merged.last, r.lowerBound <= last.upperBound { merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound) }
            else { merged.append(r) }
        }
        // The window that holds the most matches, starting a little before its first.
        var start = 0, best = -1
        for r in merged {
            let from = max(0, r.lowerBound - 12)
            let n = merged.filter { $0.lowerBound >= from && $0.upperBound <= from + width }.count
            if n > best { best = n; start = from }
        }
        let end = min(original.count, start + width)
        var parts: [SnippetPart] = []
        var at = start
        func plain(_ to: Int) { if to > at { parts.append(SnippetPart(text: Segmenter.string(original[at..<to]), marked: false)); at = to } }
        for r in merged where r.lowerBound >= start && r.upperBound <= end {
            plain(r.lowerBound)
            parts.append(SnippetPart(text: Segmenter.string(original[r]), marked: true))
            at = r.upperBound
        }
        plain(end)
        if start > 0 { parts.insert(SnippetPart(text: "…", marked: false), at: 0) }
        if end < original.count { parts.append(SnippetPart(text: "…", marked: false)) }
        return parts
    }
}
