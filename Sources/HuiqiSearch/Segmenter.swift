import Foundation

/// One word found in a text: its normalised form and where it stands (offsets in Unicode scalars of the input).
public struct Token: Equatable, Sendable {
    public let term: String
    public let start: Int
    public let end: Int
    public init(term: String, start: Int, end: Int) { self.term = term; self.start = start; self.end = end }
}

/// Chinese word segmentation as jieba does it without its HMM: for each run of Han characters, the route through
/// the lexicon's words with the highest product of word probabilities (a DAG and dynamic programming). Runs of
/// Latin letters and digits are words of their own ("vat", "30", "3%", "3.5"); full-width forms count as their
/// ASCII twins and letters are lower-cased, so "ＶＡＴ" and "vat" are one word. Everything else separates words.
public struct Segmenter: Sendable {
    public let lexicon: Lexicon
    public init(lexicon: Lexicon = .bundled) { self.lexicon = lexicon }

    /// The text as normalised scalars: full-width ASCII folded (ＡＢ１％ → ab1%), letters lower-cased.
    public static func normalise(_ text: String) -> [Unicode.Scalar] {
        text.unicodeScalars.map { s in
            var v = s.value
            if v >= 0xFF01 && v <= 0xFF5E { v -= 0xFEE0 }  // full-width forms
            if v == 0x3000 { v = 0x20 }
            if v >= 0x41 && v <= 0x5A { v += 0x20 }
            return Unicode.Scalar(v) ?? s
        }
    }

    static func isHan(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        return (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0xF900...0xFAFF).contains(v) || (0x20000...0x2EBEF).contains(v)
    }
    static func isLatin(_ s: Unicode.Scalar) -> Bool { (0x61...0x7A).contains(s.value) || isDigit(s) }
    static func isDigit(_ s: Unicode.Scalar) -> Bool { (0x30...0x39).contains(s.value) }

    /// The words of a text, in order (jieba's `cut(HMM=False)`).
    public func cut(_ text: String) -> [Token] { cut(scalars: Self.normalise(text)) }

    public func cut(scalars s: [Unicode.Scalar]) -> [Token] {
        var out: [Token] = []
        var i = 0
        while i < s.count {
            if Self.isHan(s[i]) {
                var j = i
                while j < s.count && Self.isHan(s[j]) { j += 1 }
                cutHan(s, i, j, into: &out)
                i = j
            } else if Self.isLatin(s[i]) {
                var j = i
                while j < s.count {
                    if Self.isLatin(s[j]) { j += 1; continue }
                    // "3.5" keeps its point; "3%" and "3.5%" keep their percent sign.
                    if s[j] == "." && j + 1 < s.count && Self.isDigit(s[j + 1]) && j > i && Self.isDigit(s[j - 1]) { j += 1; continue }
                    if s[j] == "%" && j > i && Self.isDigit(s[j - 1]) { j += 1 }
                    break
                }
                out.append(Token(term: Self.string(s[i..<j]), start: i, end: j))
                i = j
            } else {
                i += 1
            }
        }
        return out
    }

    /// Search mode (jieba's `cut_for_search`): a long word also yields the lexicon's two- and three-character words
    /// inside it, so 小型微利企业 is found by 微利 and by 企业.
    public func cutForSearch(scalars s: [Unicode.Scalar]) -> [Token] {
        var out: [Token] = []
        for w in cut(scalars: s) {
            let n = w.end - w.start
            if n > 2 && Self.isHan(s[w.start]) {
                for k in [2, 3] where n > k {
                    for a in w.start...(w.end - k) {
                        let gram = Self.string(s[a..<(a + k)])
                        if lexicon.contains(gram) { out.append(Token(term: gram, start: a, end: a + k)) }
                    }
                }
            }
            out.append(w)
        }
        return out
    }

    static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var t = String.UnicodeScalarView()
        t.append(contentsOf: scalars)
        return String(t)
    }

    /// The best route through s[from..<to], all Han: route[i] is the best log-probability of s[i..<to].
    private func cutHan(_ s: [Unicode.Scalar], _ from: Int, _ to: Int, into out: inout [Token]) {
        let n = to - from
        var score = [Double](repeating: 0, count: n + 1)
        var next = [Int](repeating: 0, count: n + 1)
        let freq = lexicon.frequencies
        for i in stride(from: n - 1, through: 0, by: -1) {
            var best = -Double.infinity, bestEnd = i + 1
            var fragment = String.UnicodeScalarView()
            var j = i
            while j < n && j - i < lexicon.maxWordLength {
                fragment.append(s[from + j])
                let f = freq[String(fragment)]
                if f == nil && j > i { break }  // no word starts with this fragment
                if j == i || (f ?? 0) > 0 {
                    let p = log(Double(max(f ?? 1, 1))) - lexicon.logTotal + score[j + 1]
                    if p >= best { best = p; bestEnd = j + 1 }  // ties go to the longer word, as in jieba
                }
                j += 1
            }
            score[i] = best
            next[i] = bestEnd
        }
        var i = 0
        while i < n {
            let e = next[i]
            out.append(Token(term: Self.string(s[(from + i)..<(from + e)]), start: from + i, end: from + e))
            i = e
        }
    }
}
