/// Names of administrative divisions for the pages, so that people read 上海市浦东新区, not 310115. Facts from
/// GB/T 2260《中华人民共和国行政区划代码》as published by 民政部 (provinces, and the districts of 上海市 and 苏州市 that the
/// demo and tests use); 320571 苏州工业园区 is a 功能区 code from 国家统计局《统计用区划代码》. A code not listed is
/// shown by its province and the code.
enum RegionNames {
    static let provinces: [String: (String, String)] = [
        "11": ("北京市", "Beijing"), "12": ("天津市", "Tianjin"), "13": ("河北省", "Hebei"), "14": ("山西省", "Shanxi"),
        "15": ("内蒙古自治区", "Inner Mongolia"), "21": ("辽宁省", "Liaoning"), "22": ("吉林省", "Jilin"), "23": ("黑龙江省", "Heilongjiang"),
        "31": ("上海市", "Shanghai"), "32": ("江苏省", "Jiangsu"), "33": ("浙江省", "Zhejiang"), "34": ("安徽省", "Anhui"),
        "35": ("福建省", "Fujian"), "36": ("江西省", "Jiangxi"), "37": ("山东省", "Shandong"), "41": ("河南省", "Henan"),
        "42": ("湖北省", "Hubei"), "43": ("湖南省", "Hunan"), "44": ("广东省", "Guangdong"), "45": ("广西壮族自治区", "Guangxi"),
        "46": ("海南省", "Hainan"), "50": ("重庆市", "Chongqing"), "51": ("四川省", "Sichuan"), "52": ("贵州省", "Guizhou"),
        "53": ("云南省", "Yunnan"), "54": ("西藏自治区", "Tibet"), "61": ("陕西省", "Shaanxi"), "62": ("甘肃省", "Gansu"),
        "63": ("青海省", "Qinghai"), "64": ("宁夏回族自治区", "Ningxia"), "65": ("新疆维吾尔自治区", "Xinjiang"),
        "71": ("台湾省", "Taiwan"), "81": ("香港特别行政区", "Hong Kong"), "82": ("澳门特别行政区", "Macao"),
    ]
    static let places: [String: (String, String)] = [
        "310101": ("黄浦区", "Huangpu District"), "310104": ("徐汇区", "Xuhui District"), "310105": ("长宁区", "Changning District"),
        "310106": ("静安区", "Jing'an District"), "310107": ("普陀区", "Putuo District"), "310109": ("虹口区", "Hongkou District"),
        "310110": ("杨浦区", "Yangpu District"), "310112": ("闵行区", "Minhang District"), "310113": ("宝山区", "Baoshan District"),
        "310114": ("嘉定区", "Jiading District"), "310115": ("浦东新区", "Pudong New Area"), "310116": ("金山区", "Jinshan District"),
        "310117": ("松江区", "Songjiang District"), "310118": ("青浦区", "Qingpu District"), "310120": ("奉贤区", "Fengxian District"),
        "310151": ("崇明区", "Chongming District"),
        "320500": ("苏州市", "Suzhou"), "320505": ("苏州市虎丘区", "Huqiu District, Suzhou"), "320506": ("苏州市吴中区", "Wuzhong District, Suzhou"),
        "320507": ("苏州市相城区", "Xiangcheng District, Suzhou"), "320508": ("苏州市姑苏区", "Gusu District, Suzhou"),
        "320509": ("苏州市吴江区", "Wujiang District, Suzhou"), "320571": ("苏州工业园区", "Suzhou Industrial Park"),
    ]

    /// 上海市浦东新区 / Pudong New Area, Shanghai; an unknown code as its province and the code.
    static func name(_ code: String, _ lang: Lang) -> String {
        let province = provinces[String(code.prefix(2))]
        if code.hasSuffix("0000"), let province { return lang.t(province.0, province.1) }
        if let place = places[code] {
            return lang.t((province?.0 ?? "") + place.0, place.1 + (province.map { ", " + $0.1 } ?? ""))
        }
        return province.map { lang.t("\($0.0)（\(code)）", "\($0.1) (\(code))") } ?? code
    }
}
