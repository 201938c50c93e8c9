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
}
