"""Company names in the shapes of many countries, for the benchmark generators.

``CompanyNames(salt).name(k, country)`` gives the name of company number ``k`` in a
country: a Chinese "Shenzhen Xinghai Technology Co., Ltd.", a Russian "OOO
Tekhnosvyaz", an Emirati "Al Reem Computer Trading FZE", a Malaysian "Sinar Jaya
Teknologi Sdn. Bhd." and so on. The name is a pure function of ``k``, the country and
the salt (no random state), so a generator can give each buyer an index, draw repeat
buyers as earlier indexes, and never hold a table of names in memory.

``CompanyNames(salt, syllables=3)`` makes brands of three syllables ("Xinghaitong"), a
space of brands apart from the two-syllable ones: ``gen_csl.py`` names its invented
listed entries so, so that an invented buyer is listed only by a near miss, as in life.

Distinct indexes give distinct names within a country: the parts of a name (brand
syllables, template, sector, legal form, place) are the digits of a bijective
scramble of ``k`` in mixed radix, and an index beyond the product of the radices adds
one more brand syllable. (Two syllable strings can spell the same word, "xi"+"an"
and "xian", so a very rare pair of names may still coincide.)

``avoid`` (a set of words) keeps brands away from listed names: a brand that is one of
these words, or spelled close to one of five letters or more (rapidfuzz ratio of 80 or
more, the screener's own bar for two words to pair up), takes one more syllable. The generators pass the distinctive words of
the Entity List sample, so that an innocent buyer is not a near miss of a listed one
by accident.

The words are invented from syllables and common vocabulary; any likeness to a real
company is chance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from rapidfuzz import fuzz, process

# ---------------------------------------------------------------------------- vocabulary

#: Pinyin syllables common in Chinese brand names, each with one usual character.
PINYIN = {
    "an": "安", "ao": "奥", "bai": "百", "bang": "邦", "bao": "宝", "bei": "贝", "bo": "博",
    "chang": "昌", "chao": "超", "chen": "辰", "cheng": "成", "chuang": "创", "da": "达",
    "dian": "典", "ding": "鼎", "dong": "东", "fan": "帆", "fang": "方", "fei": "飞",
    "feng": "丰", "fu": "富", "gao": "高", "guang": "光", "gui": "贵", "hai": "海", "han": "瀚",
    "hang": "航", "hao": "浩", "he": "和", "heng": "恒", "hong": "宏", "hua": "华", "huan": "环",
    "hui": "汇", "jia": "嘉", "jian": "建", "jie": "杰", "jin": "金", "jing": "晶", "jun": "骏",
    "kai": "凯", "kang": "康", "ke": "科", "kun": "坤", "lan": "蓝", "lang": "朗", "lei": "磊",
    "li": "立", "lian": "联", "ling": "凌", "long": "龙", "lu": "路", "mei": "美", "meng": "盟",
    "min": "敏", "ming": "明", "mu": "牧", "nan": "南", "ning": "宁", "pan": "盘", "peng": "鹏",
    "ping": "平", "qi": "启", "qian": "乾", "qiang": "强", "qing": "清", "rong": "荣",
    "rui": "瑞", "sen": "森", "shan": "山", "shang": "尚", "sheng": "盛", "shi": "世",
    "shun": "顺", "si": "思", "song": "松", "tai": "泰", "tian": "天", "tong": "通", "wan": "万",
    "wei": "威", "wen": "文", "xi": "熙", "xia": "夏", "xiang": "翔", "xin": "新", "xing": "星",
    "xu": "旭", "xuan": "轩", "ya": "亚", "yang": "扬", "yao": "耀", "yi": "易", "yin": "银",
    "ying": "英", "yong": "永", "yu": "宇", "yuan": "远", "yue": "越", "ze": "泽", "zhan": "展",
    "zhao": "兆", "zhen": "臻", "zheng": "正", "zhi": "智", "zhong": "中", "zhou": "舟",
    "zhu": "筑", "zi": "紫",
}  # fmt: skip

CN_CITIES = {
    "Beijing": "北京", "Shanghai": "上海", "Shenzhen": "深圳", "Guangzhou": "广州",
    "Hangzhou": "杭州", "Nanjing": "南京", "Suzhou": "苏州", "Wuxi": "无锡", "Hefei": "合肥",
    "Wuhan": "武汉", "Chengdu": "成都", "Chongqing": "重庆", "Xi'an": "西安", "Tianjin": "天津",
    "Qingdao": "青岛", "Dalian": "大连", "Xiamen": "厦门", "Changsha": "长沙",
    "Zhengzhou": "郑州", "Jinan": "济南", "Dongguan": "东莞", "Zhuhai": "珠海", "Ningbo": "宁波",
    "Shenyang": "沈阳", "Harbin": "哈尔滨", "Kunming": "昆明", "Fuzhou": "福州",
    "Nanchang": "南昌", "Guiyang": "贵阳", "Changzhou": "常州",
}  # fmt: skip

CN_SECTORS = {
    "Technology": "科技", "Electronics": "电子", "Information Technology": "信息技术",
    "Intelligent Technology": "智能科技", "Network Technology": "网络科技",
    "Data Technology": "数据科技", "Computing Technology": "计算技术",
    "Cloud Computing": "云计算", "Microelectronics": "微电子", "Digital Technology": "数字科技",
    "Trading": "贸易", "Import and Export": "进出口", "Supply Chain Management": "供应链管理",
    "Software": "软件", "Communication Technology": "通信技术", "Optoelectronics": "光电",
    "Innovation Technology": "创新科技", "Industrial Development": "实业发展",
    "Computer Systems": "计算机系统", "Smart Manufacturing": "智能制造",
}  # fmt: skip

#: Country names used in subsidiary names ("Xinghai Technology (Singapore) Pte. Ltd.").
COUNTRY_NAMES = {
    "AE": "UAE", "BR": "Brasil", "CA": "Canada", "CN": "China", "DE": "Deutschland",
    "FR": "France", "GB": "UK", "HK": "Hong Kong", "ID": "Indonesia", "IL": "Israel",
    "IN": "India", "JP": "Japan", "KR": "Korea", "MO": "Macau", "MX": "Mexico", "MY": "Malaysia",
    "NL": "Netherlands", "RU": "Russia", "SA": "Saudi Arabia", "SG": "Singapore",
    "TH": "Thailand", "TR": "Turkey", "TW": "Taiwan", "US": "USA", "VN": "Vietnam",
}  # fmt: skip


class Style:
    """How the companies of one language or country are named.

    ``templates`` use ``{brand}``, ``{sector}`` and ``{place}``; ``tail`` is the legal
    form a foreign parent's subsidiary in this country takes.
    """

    def __init__(self, syllables: str, templates: Iterable[str], sectors: Iterable[str],
                 places: Iterable[str], tail: str, two_words: bool = False):
        self.syllables = tuple(syllables.split())
        self.templates = tuple(templates)
        self.sectors = tuple(sectors)
        self.places = tuple(places)
        self.tail = tail
        self.two_words = two_words  # "Minh Phat" rather than "Minhphat"
        s = len(self.syllables)
        self.radices = (s, s, len(self.templates), len(self.sectors), len(self.places))
        self.size = math.prod(self.radices)
        a = 1_000_003  # a multiplier prime to the size scrambles 0..size-1 bijectively
        while math.gcd(a, self.size) != 1:
            a += 2
        self.scramble = a


RUSSIAN = ("tekhno elektron sever volga mikro svyaz prom soft invest stroy nauka avto grad "
           "servis sib ural baltika neva kama don inform komp sistem resurs energo tsentr lab "
           "vektor orbita impuls signal kristall polyus spektr kvant format integral argon")
ARABIC = ("noor safa reem waha bayan falak najm sahm dana rawabi majd wafa amal thuraya sidra "
          "jazeera khaleej manar zahra hilal qamar barq anwar basma diyar fajr ghaith hayat "
          "jawhara kawthar lulu marjan nahla rimal salam shams tamim wadi yasmin zain")
MALAY = ("maju jaya sinar bintang cahaya murni setia indah mega gemilang permata mutiara suria "
         "bayu intan harapan wawasan perdana nusa citra alam bakti damai emas gading harmoni "
         "ilham kencana lestari mawar nadi pelangi puncak ria seri tiara utama wira")
ENGLISH = ("north blue stone red oak river bright silver iron clear swift lake summit harbor "
           "cedar maple granite pine ridge falcon beacon anchor cobalt aspen birch canyon coral "
           "delta ember forge glacier hawk horizon juniper keystone lantern meadow orchard "
           "prairie quarry sierra timber vale willow")

CN = Style(
    " ".join(PINYIN),
    ["{place} {brand} {sector} Co., Ltd.", "{brand} {sector} ({place}) Co., Ltd.",
     "{place} {brand} {sector} Company Limited", "{place} {brand} {sector} Co. Ltd",
     "{brand} {sector} Group Co., Ltd.", "{brand} {sector} Co., Ltd."],
    CN_SECTORS, CN_CITIES, "Co., Ltd.")
HK = Style(
    " ".join(PINYIN),
    ["{brand} {sector} (HK) Limited", "{brand} {sector} Co., Limited",
     "{brand} International Holdings Limited", "Hong Kong {brand} {sector} Limited",
     "{brand} {sector} (Hong Kong) Company Limited"],
    ["Technology", "Trading", "Electronics", "Supply Chain", "Logistics", "Data Services",
     "Computing", "Industrial", "Import and Export", "Digital"],
    ["Kowloon", "Kwun Tong", "Sheung Wan", "Tsim Sha Tsui", "Wan Chai"], "Limited")
MO = Style(
    " ".join(PINYIN),
    ["{brand} {sector} (Macau) Limitada", "Companhia de {sector} {brand} Limitada",
     "{brand} {sector} Macau Limited"],
    ["Tecnologia", "Informatica", "Comercio", "Technology", "Trading"],
    ["Macau", "Taipa", "Cotai"], "Limitada")
TW = Style(
    "an chang cheng chi chia chien chin ching chu chung fu hsiang hsin hsing hua hung jui "
    "kai kuang kuo li lien lung ming nan ping sheng shih ta tai te tien ting tung wei wen "
    "yang yao yi ying yu yuan yung",
    ["{brand} {sector} Co., Ltd.", "{brand} {sector} Corporation", "{brand} {sector} Inc.",
     "{place} {brand} {sector} Co., Ltd."],
    ["Technology", "Electronics", "Precision Industry", "Computer", "Optronics",
     "Semiconductor Equipment", "Systems", "Data"],
    ["Taipei", "Hsinchu", "Taichung", "Tainan", "Kaohsiung", "Taoyuan"], "Co., Ltd.")
RU = Style(
    RUSSIAN,
    ["OOO {brand}", "LLC {brand}", "AO {brand}", "JSC {brand}", "{brand} LLC",
     "OOO {brand} {sector}", "Joint Stock Company {brand}", "{brand} {sector} LLC"],
    ["Trade", "Tekhnologii", "Sistemy", "Elektronika", "Komplekt", "Logistik", "Import"],
    ["Moscow", "Saint Petersburg", "Novosibirsk", "Yekaterinburg", "Kazan", "Zelenograd"], "LLC")
BY = Style(
    RUSSIAN,
    ["OAO {brand}", "OOO {brand}", "{brand} Plant", "JSC {brand} {sector}"],
    ["Elektronika", "Sistemy", "Priborostroenie", "Trade"],
    ["Minsk", "Brest", "Gomel", "Vitebsk"], "LLC")
KZ = Style(
    RUSSIAN,
    ["TOO {brand}", "{brand} LLP", "TOO {brand} {sector}", "AO {brand}"],
    ["Trade", "Tekhnologii", "Sistemy", "Distribution"],
    ["Almaty", "Astana", "Shymkent", "Karaganda"], "LLP")
VN = Style(
    "an binh cuong dat duc gia hai hung khang kim lam linh long minh nam nghia ngoc phat "
    "phong phu quang sao son tam tan thanh thien thinh tien toan trung tuan viet vinh xuan",
    ["{brand} {sector} Joint Stock Company", "Cong ty TNHH {brand}", "{brand} {sector} Co., Ltd",
     "{brand} {sector} Corporation", "Cong ty Co phan {brand}"],
    ["Technology", "Cong nghe", "Data", "Telecom", "Trading", "Solutions", "Digital"],
    ["Hanoi", "Ho Chi Minh City", "Da Nang", "Hai Phong", "Bac Ninh"], "Co., Ltd",
    two_words=True)
AE = Style(
    ARABIC,
    ["Al {brand} {sector} LLC", "Al {brand} {sector} FZE", "{brand} {sector} FZCO",
     "Al {brand} General Trading LLC", "{brand} Computer Trading FZE", "Al {brand} {sector} DMCC"],
    ["Technologies", "Computer Trading", "Electronics Trading", "Data Systems", "IT Solutions",
     "Information Technology"],
    ["Dubai", "Abu Dhabi", "Sharjah", "Jebel Ali", "Ras Al Khaimah"], "FZE", two_words=True)
SA = Style(
    ARABIC,
    ["Al {brand} Company for {sector}", "{brand} {sector} Co.", "Al {brand} Trading Est."],
    ["Information Technology", "Communications", "Computer Systems", "Advanced Technologies"],
    ["Riyadh", "Jeddah", "Dammam", "Khobar"], "LLC", two_words=True)
IR = Style(
    "pars arya kaveh nik sepehr rayan tadbir pardaz andish nour kavosh fanavar sanat rah "
    "tavan mehr azar baran dana pouya atash behin dorna farhad golestan kian navid "
    "omid parsa roshan shahab tir",
    ["{brand} {sector} Co.", "Pars {brand} Company", "{brand} Sanat Co.", "{brand} Pardazesh Co.",
     "{brand} {sector} Group"],
    ["Electronic", "Industrial", "Engineering", "Trading", "Technology"],
    ["Tehran", "Isfahan", "Tabriz", "Shiraz", "Mashhad"], "Co.", two_words=True)
TR = Style(
    "ak ay bil can da de er gu ka ko me na oz sa te tu ul ya yi ze alp bay gok kar kur "
    "mert nur sel tan yil",
    ["{brand} {sector} Sanayi ve Ticaret A.S.", "{brand} Teknoloji Ltd. Sti.",
     "{brand} {sector} A.S."],
    ["Elektronik", "Bilisim", "Savunma", "Teknoloji", "Dis Ticaret"],
    ["Istanbul", "Ankara", "Izmir", "Bursa"], "A.S.")
MY = Style(
    MALAY,
    ["{brand} {sector} Sdn. Bhd.", "{brand} {sector} Sdn Bhd", "{brand} Holdings Berhad",
     "{brand} {sector} (M) Sdn. Bhd."],
    ["Teknologi", "Technology", "Data Centre", "Electronics", "Digital", "Solutions", "Cloud"],
    ["Kuala Lumpur", "Johor Bahru", "Penang", "Cyberjaya", "Kulim"], "Sdn. Bhd.",
    two_words=True)
ID_ = Style(
    MALAY,
    ["PT {brand} {sector} Indonesia", "PT {brand} {sector}", "PT {brand} Teknologi Nusantara"],
    ["Teknologi", "Digital", "Data", "Solusi", "Elektronika"],
    ["Jakarta", "Batam", "Surabaya", "Bandung"], "Indonesia", two_words=True)
SG = Style(
    ENGLISH + " " + " ".join(list(PINYIN)[::3]),
    ["{brand} {sector} Pte. Ltd.", "{brand} {sector} Pte Ltd", "{brand} Holdings Pte. Ltd."],
    ["Technology", "Compute", "Data Centre", "Digital", "Trading", "Cloud", "Electronics"],
    ["Singapore", "Jurong", "Changi", "Tuas"], "Pte. Ltd.")
JP = Style(
    "ka ki ku ta na ya ma mi mo ri sa shi su to ha hi fu ko ro yo kawa yama shima moto hara "
    "mori naka kita nishi hoshi tsuki kaze sora umi",
    ["{brand} {sector} Co., Ltd.", "{brand} {sector} K.K.", "{brand} {sector} Kabushiki Kaisha",
     "{brand} {sector} Corporation", "{brand} Denki Co., Ltd."],
    ["Keisoku", "Denshi", "Computing", "Systems", "Data Labs", "Engineering", "Joho"],
    ["Tokyo", "Osaka", "Yokohama", "Nagoya", "Kawasaki", "Fukuoka"], "K.K.")
KR = Style(
    "han dae sung jin kyung hwa mi young seo yeon ho min jae hyun woo sang chan dong eun "
    "gyu hee joon kwang myung nam san tae won yong",
    ["{brand} {sector} Co., Ltd.", "{brand} {sector} Inc.", "{brand} {sector} Corporation"],
    ["Tech", "Electronics", "Semitech", "Systems", "Data", "Networks"],
    ["Seoul", "Pangyo", "Suwon", "Incheon", "Daejeon"], "Co., Ltd.", two_words=True)
IN = Style(
    "shakti vayu agni surya tara veda arya dhruv kiran neel prithvi megh jyoti sagar akash "
    "om ved amrit anand bharat chandra deep ganga indra kalp lakshya mitra nav pran ravi "
    "satya shiv tej udaan varun",
    ["{brand} {sector} Pvt. Ltd.", "{brand} {sector} Private Limited", "{brand} {sector} Ltd."],
    ["Technologies", "Infotech", "Data Systems", "Computing", "Electronics", "Cloud Services"],
    ["Bengaluru", "Hyderabad", "Pune", "Chennai", "Noida", "Mumbai"], "Pvt. Ltd.")
DE = Style(
    "nord rhein alp elb berg wald stern licht feld hafen blau grun stein quell fels adler "
    "brand eich falk hoch kron lind mark ost rot see sud tann weiss",
    ["{brand}{sector} GmbH", "{brand}{sector} AG", "{brand} Rechenzentrum GmbH",
     "{brand}{sector} GmbH & Co. KG", "{brand} Datentechnik GmbH"],
    ["tech", "data", "systeme", "rechner", "netz", "werk", "soft"],
    ["Munchen", "Frankfurt", "Berlin", "Hamburg", "Stuttgart", "Dresden"], "GmbH")
EN = Style(
    ENGLISH,
    ["{brand} {sector} Inc.", "{brand} {sector} LLC", "{brand} {sector}, Inc.",
     "{brand} {sector} Labs Inc.", "{brand} {sector} Corp."],
    ["Compute", "Cloud", "AI", "Data", "Analytics", "Systems", "Robotics", "Research"],
    ["Austin", "Seattle", "San Jose", "Boston", "Denver", "Atlanta"], "Inc.")
GB = Style(
    ENGLISH,
    ["{brand} {sector} Ltd", "{brand} {sector} Limited", "{brand} {sector} plc"],
    ["Computing", "Data", "AI", "Systems", "Cloud", "Research"],
    ["London", "Cambridge", "Bristol", "Manchester", "Edinburgh"], "Ltd")
FR = Style(
    "bel mont val clair ren mar lum sol vent rive font beau champ ciel fleur gar haut lac "
    "lune mer noble pierre roc saint terre vert ville",
    ["{brand} {sector} SAS", "{brand} {sector} SA", "Societe {brand} {sector}"],
    ["Informatique", "Calcul", "Donnees", "Systemes", "Numerique"],
    ["Paris", "Lyon", "Grenoble", "Toulouse", "Nantes"], "SAS")
NL = Style(
    "van de berg dijk hoog laag water zee land veld brug bos duin gracht haven kade molen "
    "polder rijn schel stroom toren vaart wind",
    ["{brand} {sector} B.V.", "{brand}{sector} B.V.", "{brand} {sector} N.V."],
    ["Data", "Tech", "Systems", "Compute", "Logistics"],
    ["Amsterdam", "Eindhoven", "Rotterdam", "Delft", "Utrecht"], "B.V.")
IL = Style(
    "or tal gal ner shir ron dor lev yam zohar eden noa ariel barak galil hadar livne maor "
    "negev nir omer rimon sela shaked tavor yarden yuval ziv",
    ["{brand} {sector} Ltd.", "{brand} {sector} Technologies Ltd."],
    ["Data", "Vision", "Compute", "Systems", "Networks"],
    ["Tel Aviv", "Haifa", "Herzliya", "Jerusalem", "Petah Tikva"], "Ltd.", two_words=True)
TH = Style(
    "siam thai chai suk sri wat pra kit rat som boon charoen chok dee kaew mongkol nakorn "
    "phon rung sak sap thong wong chan pong",
    ["{brand} {sector} Co., Ltd.", "Siam {brand} {sector} Co., Ltd.",
     "{brand} {sector} Public Company Limited"],
    ["Technology", "Data Centre", "Digital", "Electronics", "Telecom"],
    ["Bangkok", "Chonburi", "Rayong", "Chiang Mai", "Pathum Thani"], "Co., Ltd.")
LATAM = Style(
    "sol mar rio luz norte plata terra nova vale alto aurora bahia campo costa estrela "
    "forte lago monte ouro pampa puerto selva sierra vista",
    ["{brand} {sector} S.A. de C.V.", "{brand} {sector} Ltda.", "{brand} {sector} S.A."],
    ["Tecnologia", "Datos", "Sistemas", "Computacion", "Informatica"],
    ["Sao Paulo", "Monterrey", "Guadalajara", "Campinas", "Managua"], "S.A.")
GENERIC = Style(
    ENGLISH,
    ["{brand} {sector} Co.", "{brand} {sector} Ltd.", "{brand} {sector} Group",
     "{brand} {sector} Company"],
    ["Technology", "Trading", "Systems", "Engineering", "Computing", "Electronics"],
    ["Capital District", "Industrial Zone", "Free Zone", "Technology Park"], "Ltd.")

STYLES: dict[str, Style] = {
    "CN": CN, "HK": HK, "MO": MO, "TW": TW, "RU": RU, "BY": BY, "KZ": KZ, "VN": VN, "AE": AE,
    "SA": SA, "QA": SA, "IR": IR, "TR": TR, "MY": MY, "ID": ID_, "JP": JP, "KR": KR, "IN": IN,
    "DE": DE, "AT": DE, "CH": DE, "US": EN, "CA": EN, "GB": GB, "FR": FR, "NL": NL, "IL": IL,
    "TH": TH, "BR": LATAM, "MX": LATAM, "NI": LATAM, "SG": SG, "KH": VN,
}  # fmt: skip


def style_of(country: str) -> Style:
    return STYLES.get(country, GENERIC)


# ---------------------------------------------------------------------------- names


def _mix3(k: int, salt: int) -> int:
    return ((k * 0x9E3779B1 + salt * 0x85EBCA6B) >> 7) & 0xFFFFFF


class CompanyNames:
    """Names of numbered companies, deterministic in (index, country, salt)."""

    def __init__(self, salt: int = 0, avoid: Iterable[str] = (), syllables: int = 2):
        self.salt = salt
        self.syllables = syllables  # in a brand: 2, or 3 for another space of brands
        words = {w.casefold() for w in avoid}
        # long words are avoided with their close spellings, short ones as they are
        self._long = tuple(sorted(w for w in words if len(w) >= 5))
        self._short = frozenset(w for w in words if len(w) < 5)
        self.avoid = bool(words)
        self._vetted: dict[str, str] = {}

    def parts(self, k: int, country: str) -> dict:
        """The parts of company ``k``'s name in ``country``: brand, template, sector, place."""
        st = style_of(country)
        extra, rest = divmod(k, st.size)
        x = ((rest + self.salt * 7_919) * st.scramble) % st.size
        digits = []
        for radix in st.radices:
            x, d = divmod(x, radix)
            digits.append(d)
        s1, s2, t, sec, pl = digits
        syl = st.syllables
        words = [syl[s1], syl[s2]]
        if self.syllables == 3:
            words.append(syl[_mix3(rest, self.salt) % len(syl)])
        while extra:  # beyond the first `size` companies: one more syllable per "digit"
            extra, d = divmod(extra - 1, len(syl))
            words.append(syl[d])
        if st.two_words:
            brand = " ".join(w.capitalize() for w in words)
        elif self.syllables == 3:
            brand = "".join(words).capitalize()
        elif len(words) > 2:
            brand = "".join(words[:2]).capitalize() + " " + "".join(words[2:]).capitalize()
        else:
            brand = "".join(words).capitalize()
        return {"brand": self.vet(brand, syl), "template": st.templates[t],
                "sector": st.sectors[sec], "place": st.places[pl], "syllables": words}

    def vet(self, brand: str, syllables: tuple[str, ...]) -> str:
        """The brand, lengthened away from any word to avoid (see the module doc)."""
        if not self.avoid:
            return brand
        hit = self._vetted.get(brand)
        if hit is not None:
            return hit
        out, step = brand, 0
        while self._close(out) and step < 50:
            step += 1
            out = brand + syllables[(step * 7) % len(syllables)]
        if len(self._vetted) < 1_000_000:
            self._vetted[brand] = out
        return out

    def _close(self, brand: str) -> bool:
        folded = brand.casefold()
        keys = set(folded.split())
        keys.add(folded.replace(" ", ""))
        for key in keys:
            if key in self._short or process.extractOne(
                    key, self._long, scorer=fuzz.ratio, score_cutoff=80):
                return True
        return False

    def name(self, k: int, country: str, located: str | None = None) -> str:
        """The name of company ``k`` of ``country``.

        With ``located`` (another country), the name of its subsidiary there: the
        parent's brand and sector, the place's country and legal form, as in
        "Xinghai Technology (Singapore) Pte. Ltd.".
        """
        p = self.parts(k, country)
        if located and located != country:
            where = COUNTRY_NAMES.get(located, located)
            return f"{p['brand']} {p['sector']} ({where}) {style_of(located).tail}"
        text = p["template"].format(brand=p["brand"], sector=p["sector"], place=p["place"])
        return " ".join(text.split())

    def chinese(self, k: int) -> str | None:
        """The Chinese-script name of mainland company ``k``: "深圳星海科技有限公司"."""
        p = self.parts(k, "CN")
        chars = [PINYIN.get(s) for s in p["syllables"]]
        brand = p["brand"].casefold().replace(" ", "")
        if None in chars or brand != "".join(p["syllables"]):  # shifted by `vet`
            return None
        city = CN_CITIES.get(p["place"], "")
        return f"{city}{''.join(chars)}{CN_SECTORS.get(p['sector'], '科技')}有限公司"
