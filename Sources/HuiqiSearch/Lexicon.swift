import Foundation

/// Word frequencies for segmentation: jieba's dictionary (MIT, Lexicon/LICENSE-jieba.txt) plus Huiqi's tax terms.
/// Loaded once per process (about 0.3 s); every search and index write shares it.
public final class Lexicon: Sendable {
    /// Frequency of each word, keyed by its characters; every proper prefix of a word is present with 0.
    let frequencies: [String: Int32]
    /// ln(sum of all frequencies): word log-probabilities are ln(freq) − this.
    let logTotal: Double
    /// The longest word, in Unicode scalars: the segmenter looks no further ahead.
    let maxWordLength: Int

    public init(lines: [Substring]) {
        var f: [String: Int32] = [:]
        f.reserveCapacity(lines.count)
        var total: Int64 = 0
        var longest = 1
        for line in lines {
            if line.isEmpty || line.first == "#" { continue }
            let parts = line.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, let n = Int32(parts[1]) else { continue }
            let word = String(parts[0]).lowercased()
            if let old = f[word] { total -= Int64(old) }
            f[word] = n
            total += Int64(n)
            longest = max(longest, word.unicodeScalars.count)
            // Every prefix is present (frequency 0 if not a word itself): the segmenter stops looking ahead at
            // the first fragment that no word starts with, as jieba does.
            var prefix = ""
            for scalar in word.unicodeScalars.dropLast() {
                prefix.unicodeScalars.append(scalar)
                if f[prefix] == nil { f[prefix] = 0 }
            }
        }
        frequencies = f
        logTotal = log(Double(max(total, 1)))
        maxWordLength = longest
    }

    public func contains(_ word: String) -> Bool { (frequencies[word] ?? 0) > 0 }

    /// The bundled lexicon: jieba's dictionary, then the tax terms (which win where both have a word).
    public static let bundled: Lexicon = {
        var lines: [Substring] = []
        for name in ["jieba-dict", "tax-terms"] {
            lines += resourceText(name).split(separator: "\n")
        }
        return Lexicon(lines: lines)
    }()

    static func resourceText(_ name: String) -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "Lexicon"),
              let text = try? String(contentsOf: url, encoding: .utf8) else {
            fatalError("HuiqiSearch: bundled Lexicon/\(name).txt is missing from the build")
        }
        return text
    }
}

extension Lexicon {
    /// The `count` most frequent words of two to four characters, most frequent first (benchmark filler text).
    public func sampleWords(_ count: Int) -> [String] {
        frequencies.filter { $0.value > 0 && (2...4).contains($0.key.count) && $0.key.unicodeScalars.allSatisfy { $0.value >= 0x4E00 } }
            .sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(count).map(\.key)
    }
}
