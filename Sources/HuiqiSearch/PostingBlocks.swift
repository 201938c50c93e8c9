import Foundation

/// A term's postings as the index stores them: packed records in blocks of documents, so that a search reads a whole
/// list in a few rows and scores it in memory instead of paying the database driver per posting.
///
/// One record is 8 bytes: a little-endian 64-bit word holding the document's place in its block (12 bits: a
/// block is 4,096 documents), the document's length in terms (14 bits; the index keeps at most 16,000 terms of a
/// document, `IndexedText`), the term's frequency (8 bits; at most 255 occurrences are kept), and the entry's
/// filter columns: tax (3 bits), kind (1 bit), and the first and last year it covers (7 bits each, years after
/// 2000; drafts are held to 2004–2100; 0: open-ended). The filter columns travel with each posting, so that a
/// filtered search skips what does not pass without a lookup; the block's number is the row's.
public enum PostingBlock {
    public static let recordSize = 8
    /// Documents per block: a block is one row (term, block), rewritten when one of its documents changes.
    public static let documentsPerBlock: Int64 = 4_096
    public static func block(of doc: Int64) -> Int64 { doc / documentsPerBlock }

    /// The codes of the taxes and kinds (the schema's CHECK lists, in order).
    public static let taxes = ["vat", "bt", "eit", "pit", "local", "general"]
    public static let kinds = ["question", "document"]

    public struct Record: Sendable, Equatable {
        public var doc: Int64, length: Int, frequency: Int, tax: String, kind: String, yearFrom: Int, yearTo: Int?
        public init(doc: Int64, length: Int, frequency: Int, tax: String, kind: String, yearFrom: Int, yearTo: Int?) {
            self.doc = doc; self.length = length; self.frequency = frequency; self.tax = tax; self.kind = kind
            self.yearFrom = yearFrom; self.yearTo = yearTo
        }
    }

    static func word(_ r: Record) -> UInt64 {
        var w = UInt64(r.doc % documentsPerBlock)
        w |= UInt64(min(max(r.length, 0), 0x3FFF)) << 12
        w |= UInt64(UInt8(clamping: r.frequency)) << 26
        w |= UInt64(taxes.firstIndex(of: r.tax) ?? 7) << 34
        w |= UInt64(kinds.firstIndex(of: r.kind) ?? 1) << 37
        w |= UInt64(min(max(r.yearFrom - 2000, 0), 127)) << 38
        w |= UInt64(r.yearTo.map { min(max($0 - 2000, 1), 127) } ?? 0) << 45
        return w
    }

    /// The records of one block (all of `records` must lie in it).
    public static func encode(_ records: [Record]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.count * recordSize)
        for r in records { let w = word(r); for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: w >> (8 * UInt64(i)))) } }
        return out
    }

    public static func decode(_ bytes: [UInt8], block: Int64) -> [Record] {
        var out: [Record] = []
        bytes.withUnsafeBufferPointer { b in
            var i = 0
            while i + recordSize <= b.count {
                let w = load(b, i)
                let tax = Int(w >> 34 & 7), to = Int(w >> 45 & 127)
                out.append(Record(doc: block * documentsPerBlock + Int64(w & 0xFFF), length: Int(w >> 12 & 0x3FFF), frequency: Int(w >> 26 & 0xFF),
                                  tax: tax < taxes.count ? taxes[tax] : "?", kind: kinds[Int(w >> 37 & 1)],
                                  yearFrom: 2000 + Int(w >> 38 & 127), yearTo: to == 0 ? nil : 2000 + to))
                i += recordSize
            }
        }
        return out
    }

    /// The block without the records of `doc`.
    public static func removing(_ doc: Int64, from bytes: [UInt8]) -> [UInt8] {
        let place = UInt64(doc % documentsPerBlock)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        bytes.withUnsafeBufferPointer { b in
            var i = 0
            while i + recordSize <= b.count {
                if load(b, i) & 0xFFF != place { out.append(contentsOf: b[i..<(i + recordSize)]) }
                i += recordSize
            }
        }
        return out
    }

    @inline(__always) static func load(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt64 {
        UnsafeRawPointer(b.baseAddress! + i).loadUnaligned(as: UInt64.self).littleEndian
    }
}

/// BM25 over whole posting lists, term at a time, in memory: every document holding a query term and passing the
/// filters gets its exact score (summed in query-term order, so that every path and both databases agree to the
/// last bit), and the best are kept. The filters are codes compared per record, no lookups.
public struct BlockScorer {
    public let idf: [Double]
    public let averageLength: Double
    let tax: UInt8?, kind: UInt8?, year: Int?
    /// Scores by document id (dense: the index's ids run from 1 and restart when it is rebuilt); 0 is no match, as
    /// every part is positive.
    var scores: [Double] = []

    public init(idf: [Double], averageLength: Double, tax: String?, kind: String?, year: Int?) {
        self.idf = idf; self.averageLength = averageLength; self.year = year
        // An unknown tax matches nothing (code 6 is never written); an unknown kind likewise (the search refuses both
        // before they get here: this is a guard).
        self.tax = tax.map { UInt8(PostingBlock.taxes.firstIndex(of: $0) ?? 6) }
        self.kind = kind.map { UInt8(PostingBlock.kinds.firstIndex(of: $0) ?? 2) }
    }

    /// Adds one block of term `term`'s postings. Blocks of a term may come in any order; terms must come in query
    /// order (term 0's blocks, then term 1's, …) for the sums to be bit-identical everywhere.
    public mutating func add(term: Int, block: Int64, bytes: [UInt8]) {
        let w = idf[term], k1 = BM25.k1, b = BM25.b, avg = averageLength
        let base = Int(block * PostingBlock.documentsPerBlock)
        let end = base + Int(PostingBlock.documentsPerBlock)
        if scores.count < end { scores.append(contentsOf: repeatElement(0, count: end - scores.count)) }
        // The filters as one mask and value over the record's filter bits (years are checked apart).
        var mask: UInt64 = 0, want: UInt64 = 0
        if let tax { mask |= 7 << 34; want |= UInt64(tax) << 34 }
        if let kind { mask |= 1 << 37; want |= UInt64(kind) << 37 }
        let year = self.year.map { UInt64(max(0, $0 - 2000)) }
        scores.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { p in
                var i = 0
                let n = p.count
                while i + PostingBlock.recordSize <= n {
                    let r = PostingBlock.load(p, i)
                    i += PostingBlock.recordSize
                    if r & mask != want { continue }
                    if let year {
                        if r >> 38 & 127 > year { continue }
                        let to = r >> 45 & 127
                        if to != 0 && to < year { continue }
                    }
                    let f = Double(r >> 26 & 0xFF), length = Double(r >> 12 & 0x3FFF)
                    // BM25.term, written out (the same operations in the same order).
                    out[base + Int(r & 0xFFF)] += w * (f * (k1 + 1)) / (f + k1 * (1 - b + b * length / avg))
                }
            }
        }
    }

    /// The documents whose score, rounded to 1e-9 as the databases order them, reaches the `limit`-th best: the top
    /// `limit` and everything tied with the last of them (the caller breaks ties by entry id).
    public func best(_ limit: Int) -> [(doc: Int64, score: Double)] {
        guard limit > 0 else { return [] }
        func rounded(_ s: Double) -> Double { (s * 1e9).rounded() / 1e9 }
        // A bounded selection: keep the `limit` highest rounded scores seen, then take all docs reaching the last.
        var top: [Double] = []
        top.reserveCapacity(limit + 1)
        for s in scores where s > 0 {
            let r = rounded(s)
            if top.count < limit { top.append(r); if top.count == limit { top.sort(by: >) }; continue }
            if r > top[limit - 1] {
                var at = limit - 1
                while at > 0 && top[at - 1] < r { at -= 1 }
                top.insert(r, at: at); top.removeLast()
            }
        }
        guard let floor = top.count < limit ? top.min() : top[limit - 1] else { return [] }
        var out: [(doc: Int64, score: Double)] = []
        for (doc, s) in scores.enumerated() where s > 0 && rounded(s) >= floor { out.append((Int64(doc), s)) }
        return out
    }

    /// How many documents were scored.
    public var matched: Int { scores.reduce(0) { $0 + ($1 > 0 ? 1 : 0) } }
}
