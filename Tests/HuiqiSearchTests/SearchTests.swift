import Foundation
import HuiqiSearch
import Testing

@Suite struct SegmenterTests {
    let seg = Segmenter()

    @Test func cutsTaxTermsWhole() {
        #expect(seg.cut("小规模纳税人月销售额10万元以下免征增值税").map(\.term) == ["小规模纳税人", "月销售额", "10", "万元", "以下", "免征", "增值税"])
        #expect(seg.cut("小型微利企业减按25%计入应纳税所得额").map(\.term) == ["小型微利企业", "减按", "25%", "计入", "应纳税所得额"])
    }

    @Test func latinAndDigitsAreNormalised() {
        #expect(seg.cut("ＶＡＴ税率３％，3.5%与30万").map(\.term) == ["vat", "税率", "3%", "3.5%", "与", "30", "万"])
        let t = seg.cut("免税")
        #expect(t == [Token(term: "免税", start: 0, end: 2)])
    }

    @Test func searchModeAddsInnerWords() {
        let terms = Set(seg.cutForSearch(scalars: Segmenter.normalise("小型微利企业")).map(\.term))
        #expect(terms.isSuperset(of: ["小型", "微利", "企业", "小型微利企业"]))
    }
}

@Suite struct AnalyzerTests {
    let a = SearchAnalyzer.shared

    @Test func everySynonymIsOneTerm() {
        for (word, _) in a.vocabulary.synonyms {
            #expect(a.segmenter.cut(word).map(\.term) == [word], "synonym \(word) must be a single token of the segmenter")
        }
    }

    @Test func queryDropsStopwordsAndWidensBySynonyms() {
        let q = a.query("小微企业怎么申请免税？")
        #expect(q.contains("小微企业") && q.contains("小型微利企业") && q.contains("小微"))
        #expect(q.contains("免税") && q.contains("免征"))
        #expect(!q.contains("怎么") && !q.contains("？"))
        #expect(a.query("VAT") == ["vat", "增值税"].sorted())
    }

    @Test func oneCharacterQueriesFindLongerWords() {
        // 税 alone is a query term; every Han character of an indexed word is indexed as well.
        let indexed = Set(a.index("增值税小规模纳税人").terms)
        #expect(indexed.contains("税") && indexed.contains("增值税") && indexed.contains("小规模纳税人"))
        #expect(a.query("税") == ["税"])
    }

    @Test func indexCapsOccurrences() {
        let text = String(repeating: "免税 ", count: 400)
        let t = a.index(text)
        #expect(t.frequencies["免税"] == IndexedText.maxOccurrences)
    }

    @Test func snippetMarksTheMatches() {
        let parts = a.snippet("按季申报的小规模纳税人，季度销售额不超过30万元的，免征增值税。", terms: a.query("季度 免税 30万"))
        let marked = parts.filter(\.marked).map(\.text)
        #expect(marked.contains("季度") && marked.contains("免征") && marked.contains("30万"))
        #expect(parts.map(\.text).joined() == "按季申报的小规模纳税人，季度销售额不超过30万元的，免征增值税。")
    }

    @Test func bm25MatchesTheFormula() {
        #expect(BM25.idf(hits: 1, documents: 10) == log(9.5 / 1.5))
        #expect(BM25.idf(hits: 9, documents: 10) == 1e-6)
        let s = BM25.term(idf: 2, frequency: 3, length: 100, averageLength: 50)
        #expect(abs(s - 2 * (3 * 2.2) / (3 + 1.2 * (0.25 + 0.75 * 2))) < 1e-12)
    }

    @Test func postingBlocksRoundTripAndDropADocument() {
        let records = [PostingBlock.Record(doc: 4_097, length: 120, frequency: 3, tax: "vat", kind: "question", yearFrom: 2019, yearTo: 2027),
                       PostingBlock.Record(doc: 4_100, length: 9, frequency: 255, tax: "general", kind: "document", yearFrom: 2014, yearTo: nil)]
        let bytes = PostingBlock.encode(records)
        #expect(bytes.count == 2 * PostingBlock.recordSize)
        #expect(PostingBlock.decode(bytes, block: 1) == records)
        #expect(PostingBlock.decode(PostingBlock.removing(4_097, from: bytes), block: 1) == [records[1]])
        // The widest values fit: the longest document, 255 occurrences, the last block place, 2100.
        let wide = [PostingBlock.Record(doc: 8_191, length: IndexedText.maxTerms, frequency: 255, tax: "general", kind: "document", yearFrom: 2100, yearTo: 2100)]
        #expect(PostingBlock.decode(PostingBlock.encode(wide), block: 1) == wide)
        #expect(PostingBlock.block(of: 4_095) == 0 && PostingBlock.block(of: 4_096) == 1)
    }

    /// The scorer gives BM25's sums (the same operations as `BM25.term`, in query-term order), applies every filter
    /// per record, and returns the best with all ties at the last place.
    @Test func blockScorerSumsFiltersAndKeepsTies() {
        func r(_ doc: Int64, _ length: Int, _ f: Int, tax: String = "vat", kind: String = "question", from: Int = 2019, to: Int? = nil) -> PostingBlock.Record {
            PostingBlock.Record(doc: doc, length: length, frequency: f, tax: tax, kind: kind, yearFrom: from, yearTo: to)
        }
        let idf = [1.7, 0.4]
        let term0 = [r(1, 10, 2), r(2, 30, 1), r(3, 10, 2), r(5, 10, 1, tax: "eit"), r(6, 10, 1, to: 2020)]
        let term1 = [r(1, 10, 1), r(2, 30, 4), r(7, 20, 1, kind: "document")]
        var all = BlockScorer(idf: idf, averageLength: 16, tax: nil, kind: nil, year: nil)
        all.add(term: 0, block: 0, bytes: PostingBlock.encode(term0))
        all.add(term: 1, block: 0, bytes: PostingBlock.encode(term1))
        #expect(all.matched == 6)
        let doc1 = BM25.term(idf: 1.7, frequency: 2, length: 10, averageLength: 16) + BM25.term(idf: 0.4, frequency: 1, length: 10, averageLength: 16)
        let best = all.best(1)
        #expect(best.count == 1 && best[0].doc == 1 && best[0].score == doc1)
        // Scores: doc 1 ≈ 3.085, doc 3 ≈ 2.613, docs 5 and 6 ≈ 2.008 each (the same parts), doc 2 ≈ 1.839.
        // The third place is a tie: both come back, for the caller to break by entry id.
        #expect(all.best(3).map(\.doc).sorted() == [1, 3, 5, 6])
        #expect(all.best(2).map(\.doc).sorted() == [1, 3])
        var vat2024 = BlockScorer(idf: idf, averageLength: 16, tax: "vat", kind: "question", year: 2024)
        vat2024.add(term: 0, block: 0, bytes: PostingBlock.encode(term0))
        vat2024.add(term: 1, block: 0, bytes: PostingBlock.encode(term1))
        // Doc 5 is EIT, doc 6 ended in 2020, doc 7 is a document.
        #expect(vat2024.best(10).map(\.doc).sorted() == [1, 2, 3])
        var unknownTax = BlockScorer(idf: idf, averageLength: 16, tax: "nope", kind: nil, year: nil)
        unknownTax.add(term: 0, block: 0, bytes: PostingBlock.encode(term0))
        #expect(unknownTax.best(10).isEmpty)
    }
}
