import CSV
import Foundation
import HuiqiDates
import HuiqiRules
import HuiqiStore

/// The CSV files other departments send (formats in docs/registries.md): UTF-8 (a BOM is allowed), a header row
/// naming the columns in Chinese or English, in any order; extra columns are ignored.
public enum RegistrySource: String, Sendable, CaseIterable, Codable {
    /// 市场监管: enterprise registrations.
    case market
    /// 工信: small/medium classification under 《中小企业划型标准规定》.
    case sme

    public var zh: String { self == .market ? "市场监管部门登记信息" : "工信部门中小企业划型" }
}

/// A bad row of a file: its row number as a spreadsheet shows it (the header is row 1), the column, and why.
public struct RegistryRowError: Sendable, Equatable, Codable, CustomStringConvertible {
    public let row: Int, field: String, zh: String, en: String
    public var description: String { "第 \(row) 行 row \(row): \(field): \(zh) / \(en)" }
}

/// One valid row of either file.
public enum RegistryRecord: Sendable {
    case market(MarketEntityRow)
    case sme(SMESizeRow)
    var creditCode: String {
        switch self { case .market(let m): return m.credit_code; case .sme(let s): return s.credit_code }
    }
}

/// Reads a file row by row (never the whole file in memory) and checks each row. Runs on the caller's thread:
/// call it off Swift's cooperative threads (`RegistryImporter` does).
struct RegistryFileReader: Sendable {
    struct Column: Sendable { let key: String, zh: String, en: String }

    static func columns(_ source: RegistrySource) -> [Column] {
        switch source {
        case .market:
            return [Column(key: "credit_code", zh: "统一社会信用代码", en: "credit_code"),
                    Column(key: "name", zh: "名称", en: "name"),
                    Column(key: "entity_type", zh: "市场主体类型", en: "entity_type"),
                    Column(key: "registered_on", zh: "成立日期", en: "registered_on"),
                    Column(key: "deregistered_on", zh: "注销日期", en: "deregistered_on"),
                    Column(key: "industry", zh: "行业门类", en: "industry"),
                    Column(key: "region", zh: "行政区划代码", en: "region")]
        case .sme:
            return [Column(key: "credit_code", zh: "统一社会信用代码", en: "credit_code"),
                    Column(key: "year", zh: "年度", en: "year"),
                    Column(key: "size", zh: "企业规模", en: "size")]
        }
    }

    static let entityTypes = ["企业": "enterprise", "enterprise": "enterprise", "个体工商户": "individual_business",
                              "individual_business": "individual_business", "农民专业合作社": "cooperative", "cooperative": "cooperative"]
    static let sizes = ["大型": "large", "中型": "medium", "小型": "small", "微型": "micro",
                        "large": "large", "medium": "medium", "small": "small", "micro": "micro"]
    static let sections = Set("ABCDEFGHIJKLMNOPQRST".map(String.init))
    static let maxName = 200

    let source: RegistrySource
    /// Rows on or before this day only (a registration cannot be dated in the future).
    let today: Day

    enum Outcome { case row(RegistryRecord), bad([RegistryRowError]) }

    /// Calls `each` for every data row in order, with its row number; throws a file-level error (not UTF-8, no
    /// header, a missing column) as `ServiceError.invalid`.
    func read(_ stream: InputStream, _ each: (Int, Outcome) throws -> Void) throws {
        let reader: CSVReader
        do { reader = try CSVReader(stream: stream, codecType: UTF8.self, hasHeaderRow: true) } catch {
            throw ServiceError.invalid(field: "file", zh: "文件为空或无法读取标题行", en: "the file is empty or its header row cannot be read")
        }
        let header = (reader.headerRow ?? []).map { $0.trimmingCharacters(in: .whitespaces) }
        var index: [String: Int] = [:]
        for c in Self.columns(source) {
            guard let i = header.firstIndex(where: { $0 == c.zh || $0 == c.en }) else {
                throw ServiceError.invalid(field: c.en, zh: "标题行缺少“\(c.zh)”列（或 \(c.en)）", en: "the header row has no column \(c.en) (or \(c.zh))")
            }
            index[c.key] = i
        }
        var row = 1
        while let fields = reader.next() {
            row += 1
            if fields.count == 1, fields[0].isEmpty { continue }  // a blank line
            guard fields.count >= header.count else {
                try each(row, .bad([RegistryRowError(row: row, field: "columns", zh: "列数 \(fields.count) 少于标题行的 \(header.count) 列",
                                                      en: "\(fields.count) fields where the header has \(header.count)")]))
                continue
            }
            let value = { (key: String) in Self.trimmed(fields[index[key]!]) }
            try each(row, check(row: row, value))
        }
        // The library reports the end of a file stream on Linux as `cannotReadFile`: that is the normal end.
        switch reader.error {
        case nil, CSVError.cannotReadFile?: break
        case CSVError.unicodeDecoding?:
            throw ServiceError.invalid(field: "file", zh: "第 \(row + 1) 行附近不是有效的 UTF-8 文本", en: "not valid UTF-8 text near row \(row + 1)")
        default:
            throw ServiceError.invalid(field: "file", zh: "读取文件出错（第 \(row + 1) 行附近）", en: "the file could not be read (near row \(row + 1))")
        }
    }

    /// Spaces around a field removed. Most fields have none: checking the ends first avoids Foundation's trimming,
    /// which cost a third of the reading time of a million rows.
    static func trimmed(_ s: String) -> String {
        func space(_ c: Unicode.Scalar?) -> Bool { c.map { $0 == " " || $0 == "\t" || $0 == "\u{3000}" || $0 == "\u{A0}" } ?? false }
        guard space(s.unicodeScalars.first) || space(s.unicodeScalars.last) else { return s }
        return s.trimmingCharacters(in: .whitespaces.union(["\u{3000}"]))
    }
    static func isDigits(_ s: String, count: Int) -> Bool {
        s.utf8.count == count && s.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    func check(row: Int, _ value: (String) -> String) -> Outcome {
        var errors: [RegistryRowError] = []
        func bad(_ field: String, _ zh: String, _ en: String) { errors.append(RegistryRowError(row: row, field: field, zh: zh, en: en)) }
        let code = value("credit_code")
        if !CreditCode.isValid(code) {
            bad("credit_code", "统一社会信用代码无效（应为 18 位，校验码按 GB 32100-2015 计算）", "not a valid credit code (18 characters with the GB 32100-2015 check character)")
        }
        switch source {
        case .market:
            let name = value("name")
            if name.isEmpty || name.unicodeScalars.count > Self.maxName || TextInput.hasControlCharacter(name) {
                bad("name", "名称不能为空，最多 \(Self.maxName) 个字符，不得含控制字符", "the name must be 1 to \(Self.maxName) characters without control characters")
            }
            let type = Self.entityTypes[value("entity_type")]
            if type == nil { bad("entity_type", "市场主体类型应为 企业、个体工商户 或 农民专业合作社", "the type must be enterprise, individual_business or cooperative") }
            let registered = Day(iso: value("registered_on"))
            if registered == nil { bad("registered_on", "成立日期应为有效日期 YYYY-MM-DD", "the registration date must be a valid date, YYYY-MM-DD") }
            else if registered! > today { bad("registered_on", "成立日期晚于今天", "the registration date is after today") }
            let deregisteredText = value("deregistered_on")
            let deregistered = Day(iso: deregisteredText)
            if !deregisteredText.isEmpty {
                if deregistered == nil { bad("deregistered_on", "注销日期应为有效日期 YYYY-MM-DD 或留空", "the deregistration date must be a valid date, YYYY-MM-DD, or empty") }
                else if let r = registered, deregistered! < r { bad("deregistered_on", "注销日期早于成立日期", "the deregistration date is before the registration date") }
                else if deregistered! > today { bad("deregistered_on", "注销日期晚于今天", "the deregistration date is after today") }
            }
            let section = value("industry")
            if section.utf8.count != 1 || !Self.sections.contains(section) { bad("industry", "行业门类应为 GB/T 4754 的门类字母 A–T", "the industry must be a GB/T 4754 section letter, A to T") }
            let region = value("region")
            if !Self.isDigits(region, count: 6) { bad("region", "行政区划代码应为 6 位数字（GB/T 2260）", "the region must be 6 digits (GB/T 2260)") }
            guard errors.isEmpty, let type else { return .bad(errors) }
            // A date that parsed is already in its one ISO spelling: the text is kept as read.
            return .row(.market(MarketEntityRow(credit_code: code, name: name, entity_type: type, registered_on: value("registered_on"),
                                                deregistered_on: deregistered == nil ? nil : deregisteredText, industry_section: section, region: region)))
        case .sme:
            let year = Int(value("year"))
            if year == nil || !(2011...today.year).contains(year!) {
                bad("year", "年度应为 2011 年（划型标准施行）至今年之间的年份", "the year must be from 2011 (when the standard took effect) to this year")
            }
            let size = Self.sizes[value("size")]
            if size == nil { bad("size", "企业规模应为 大型、中型、小型 或 微型", "the size must be large, medium, small or micro") }
            guard errors.isEmpty, let year, let size else { return .bad(errors) }
            return .row(.sme(SMESizeRow(credit_code: code, year: year, size: size)))
        }
    }
}
