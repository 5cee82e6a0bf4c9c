"""Generate a large screening list in the Consolidated Screening List (CSL) export format.

    python benchmarks/gen_csl.py -o /tmp/big.csv                 # 50,000 entries
    python benchmarks/gen_csl.py --rules-copy /tmp/bigcsl --time-load

The file has the 29 columns of the public CSL export (``_id,source,entity_number,type,
programs,name,...,ids``; see ``../shared/regime/CSL_FORMAT.md``), items of a cell joined
by "; ", addresses as ``street, city, state, postal code, country``. Its first rows are
the 78 real entries of ``rules/lists/entity_list_sample.csv`` (their addresses given the
entry's country code, their ``added`` date as ``start_date``); the rest are invented
Entity List entries:

* company names in the shapes of the listed countries (Chinese, Hong Kong, Russian,
  Iranian, Emirati, Turkish, Pakistani, Singaporean, Belarusian ... and a few European
  and Asian ones; ``company_names.py``), research institutes, universities, and
  "Affiliated Entity" rows;
* 0 to 4 aliases each: the short brand, the pinyin legal name ("... Keji Youxian
  Gongsi"), the name in Cyrillic, initials, the other legal form ("OOO" and "LLC"), some
  with the Federal Register's "and " before the last one; the name in Chinese
  characters for a share of mainland entries (``--chinese-script``, 5 % by default: the
  real list writes Chinese names in pinyin, rarely in characters);
* 1 to 3 addresses in the country's shape, a few with several street lines sharing one
  city (the "; and " pitfall of the real file), a few in a second country;
* ``source`` "Entity List (EL) - Bureau of Industry and Security", a licence
  requirement with footnote digits and a licence review policy in the wordings of the
  real list (presumption or policy of denial, case-by-case, "See §§744.11 and
  744.23(d)"), Federal Register citations and a ``start_date`` of the same year.

``--other-sources SHARE`` turns that share of the invented rows into rows of other lists
(SDN, DPL, MEU, UVL, ISN; entities only, no individuals), which a rules file reading
the Entity List skips. ``--quote-all`` quotes every field, as the 2025 export does.
An output ending in ``.json`` is written as the CSL JSON (``{"results": [...]}``).

``--rules-copy DIR`` copies ``rules/`` to DIR (which must not exist), writes the list to
``DIR/lists/big.csv`` (or ``DIR/lists/NAME`` with ``-o NAME``) and points
``DIR/lists/entity_list.rules`` at it with ``from csl "big.csv"``. ``--time-load`` then
times ``chiprules.load(DIR/ear)``, the first screening (which builds the screener's
index over the list) and the screening of 10,000 names.

Every invented name is made up from syllables and common words; the names, addresses
and citations are not real and are not to be used for screening.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import random
import re
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from company_names import CN_CITIES, PINYIN, CompanyNames, style_of  # noqa: E402

COLUMNS = (
    "_id", "source", "entity_number", "type", "programs", "name", "title", "addresses",
    "federal_register_notice", "start_date", "end_date", "standard_order",
    "license_requirement", "license_policy", "call_sign", "vessel_type", "gross_tonnage",
    "gross_registered_tonnage", "vessel_flag", "vessel_owner", "remarks", "source_list_url",
    "alt_names", "citizenships", "dates_of_birth", "nationalities", "places_of_birth",
    "source_information_url", "ids",
)  # fmt: skip
EL_SOURCE = "Entity List (EL) - Bureau of Industry and Security"
EL_URL = "https://www.bis.gov/regulations/ear/744#supplement-4-744"
OTHER_SOURCES = (
    ("Specially Designated Nationals (SDN) - Treasury Department", "RUSSIA-EO14024",
     "https://sanctionslist.ofac.treas.gov/Home/SdnList"),
    ("Denied Persons List (DPL) - Bureau of Industry and Security", "",
     "https://www.bis.gov/dpl"),
    ("Military End User (MEU) List - Bureau of Industry and Security", "",
     "https://www.bis.gov/meu"),
    ("Unverified List (UVL) - Bureau of Industry and Security", "", "https://www.bis.gov/uvl"),
    ("Nonproliferation Sanctions (ISN) - State Department", "INKSNA",
     "https://www.state.gov/nonproliferation-sanctions"),
)

#: Countries of the invented entries, per mille (the real list is mostly China and Russia).
COUNTRIES = {
    "CN": 340, "RU": 230, "HK": 60, "IR": 50, "AE": 40, "TR": 30, "PK": 30, "SG": 20,
    "BY": 20, "KZ": 10, "IN": 10, "MY": 10, "TW": 10, "DE": 10, "GB": 10, "FR": 5, "NL": 5,
    "JP": 5, "KR": 5, "TH": 5, "VN": 5, "IL": 5, "SA": 5, "LB": 5, "SY": 5, "EG": 5,
    "AM": 5, "KG": 5, "UZ": 5,
}  # fmt: skip
PROVINCES = {
    "Beijing": "Beijing", "Shanghai": "Shanghai", "Shenzhen": "Guangdong",
    "Guangzhou": "Guangdong", "Hangzhou": "Zhejiang", "Nanjing": "Jiangsu", "Suzhou": "Jiangsu",
    "Wuxi": "Jiangsu", "Hefei": "Anhui", "Wuhan": "Hubei", "Chengdu": "Sichuan",
    "Chongqing": "Chongqing", "Xi'an": "Shaanxi", "Tianjin": "Tianjin", "Qingdao": "Shandong",
    "Dalian": "Liaoning", "Xiamen": "Fujian", "Changsha": "Hunan", "Zhengzhou": "Henan",
    "Jinan": "Shandong", "Dongguan": "Guangdong", "Zhuhai": "Guangdong", "Ningbo": "Zhejiang",
    "Shenyang": "Liaoning", "Harbin": "Heilongjiang", "Kunming": "Yunnan", "Fuzhou": "Fujian",
    "Nanchang": "Jiangxi", "Guiyang": "Guizhou", "Changzhou": "Jiangsu",
}  # fmt: skip
CN_DISTRICTS = ("Haidian", "Chaoyang", "Pudong New Area", "Nanshan", "Futian", "Longgang",
                "Binhai New Area", "Tianhe", "Huangpu", "Xihu", "Jiangning", "High-Tech Zone",
                "Economic-Technological Development Area", "Baiyun", "Minhang")
FIELDS_OF_STUDY = ("Electronic Technology", "Microwave Devices", "Computing Technology",
                   "Optoelectronics", "Special Materials", "Radio Engineering",
                   "Precision Instruments", "Navigation and Control", "Semiconductor Devices")
RU_STREETS = ("Leninsky prospekt", "ul. Tverskaya", "Profsoyuznaya ul.", "ul. Kosmonavtov",
              "Zelenograd, proezd 4922", "Nevsky prospekt", "ul. Sovetskaya", "shosse Entuziastov",
              "Varshavskoe shosse", "ul. Akademika Koroleva")
CYRILLIC = dict(zip("abvgdezijklmnoprstufhcy", "абвгдезийклмнопрстуфхцы", strict=True))
CYRILLIC.update({"kh": "х", "ts": "ц", "ch": "ч", "sh": "ш", "ya": "я", "yu": "ю", "zh": "ж"})

REQUIREMENTS = {
    "plain": ("For all items subject to the EAR. (See §744.11 of the EAR)",
              "For all items subject to the EAR (See §744.11 of the EAR)",
              "For All Items Subject to the EAR (See §744.11 of the EAR)."),
    "fdp": ("For all items subject to the EAR. (See §§ 734.9(e)(2) and 744.11 of the EAR)4",
            "For all items subject to the EAR (See §§734.9(e)(2) and 744.11 of the EAR)4",
            "For all items subject to the EAR. (See §§ 734.9(e) and 744.11 of the EAR)4"),
    "smic": ("For all items subject to the EAR (See §§734.4(a)(9), 734.9(e)(3), and 744.11 of "
             "the EAR)5",),
    "russia": ("For all items subject to the EAR. (See §§ 734.9(g),3 746.8(a)(3), and 744.11 of "
               "the EAR)",
               "For All Items Subject to the EAR (See §734.9(g), 3 §746.8(a)(3), and §744.21(b) "
               "of the EAR)."),
    "non99": ("For all items subject to the EAR having a classification other than EAR99. (See "
              "§744.11 of the EAR)",),
}
POLICIES = {
    "pod": ("Presumption of denial.", "Presumption of denial", "Presumption for denial",
            "See §§744.11 and 744.23(d) of the EAR."),
    "policy": ("Policy of denial.", "Policy of denial for all items subject to the EAR apart from "
               "food and medicine designated as EAR99, which will be reviewed on a case-by-case "
               "basis. See §§ 746.8(b) and 744.21(e).",
               "Policy of denial. See §§ 746.8(b) and 744.21(e)."),
    "cbc": ("Case-by-case review.", "Case-by-case review for items necessary to detect, identify "
            "and treat infectious disease; presumption of denial for all other items subject to "
            "the EAR.", "Case-by-case review for ECCNs 1A004.c, 1A004.d and 1A995; presumption of "
            "denial for all other items."),
}


def _hex_id(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()


def _join(items, and_before_last: bool = False) -> str:
    items = [i for i in items if i]
    if and_before_last and len(items) > 1:
        items[-1] = "and " + items[-1]
    return "; ".join(items)


def _cyrillic(word: str) -> str:
    out, i = [], 0
    w = word.lower()
    while i < len(w):
        pair = w[i : i + 2]
        if pair in CYRILLIC:
            out.append(CYRILLIC[pair])
            i += 2
        else:
            out.append(CYRILLIC.get(w[i], w[i]))
            i += 1
    return "".join(out).capitalize()


def _initials(name: str) -> str:
    words = [w for w in re.findall(r"[A-Za-z]+", name)
             if w.lower() not in {"co", "ltd", "of", "and", "the", "limited", "llc", "ooo", "jsc",
                                  "ao", "inc", "company", "corporation", "group"}]
    return "".join(w[0] for w in words).upper() if len(words) >= 3 else ""


# ---------------------------------------------------------------------------- real entries


def sample_rows() -> list[dict]:
    """The 78 entries of the Entity List sample, as CSL rows."""
    from chiprules.data.parties import load_party_csv

    rows = []
    for e in load_party_csv(ROOT / "rules" / "lists" / "entity_list_sample.csv", "entity_list"):
        addresses = [f"{a}, {e.country}" for a in e.addresses] or [e.country]
        rows.append(_row(
            _id=_hex_id(e.name, e.citation), source=EL_SOURCE, name=e.name,
            addresses="; ".join(addresses), federal_register_notice=e.citation,
            start_date=e.added.isoformat() if e.added else "",
            license_requirement=e.license_requirement, license_policy=e.license_policy,
            source_list_url=EL_URL, alt_names="; ".join(e.aliases),
            source_information_url=EL_URL))
    return rows


def _row(**cells) -> dict:
    row = dict.fromkeys(COLUMNS, "")
    row.update(cells)
    return row


# ---------------------------------------------------------------------------- invented entries


class EntryMaker:
    """Invented Entity List entries, deterministic in the seed."""

    def __init__(self, seed: int, chinese_script: float = 0.05):
        self.rng = random.Random(seed)
        self.chinese_script = chinese_script
        # three-syllable brands: apart from the two-syllable brands of gen_shipments' buyers
        self.names = CompanyNames(salt=seed * 31 + 5, syllables=3)
        keys = list(COUNTRIES)
        self.countries = (keys, [COUNTRIES[k] for k in keys])
        self.counter: dict[str, int] = {}

    def country(self) -> str:
        return self.rng.choices(*self.countries)[0]

    def next_index(self, country: str) -> int:
        k = self.counter.get(country, 0)
        self.counter[country] = k + 1
        return k

    def entry(self, other_source: tuple | None = None) -> dict:
        rng = self.rng
        country = self.country()
        k = self.next_index(country)
        parts = self.names.parts(k, country)
        roll = rng.random()
        if roll < 0.07:
            name = self.institute(parts, country)
        elif roll < 0.10:
            name = f"{parts['brand']} University of Science and Technology"
        else:
            name = self.names.name(k, country)
        aliases = self.aliases(name, parts, k, country)
        if roll > 0.97:  # a named affiliate, as the list writes them
            other = self.names.name(self.next_index(country), country)
            name = f"{name}. Affiliated Entity: {other}"
        addresses = self.addresses(parts, country)
        year = rng.choices(range(2008, 2027), weights=[1] * 8 + [2, 3, 4, 4, 5, 5, 6, 7, 8, 8, 6])[0]
        first = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365 if year < 2026 else 200))
        cites = [f"{year - 1935} FR {rng.randrange(1000, 99999)}"]
        if rng.random() < 0.3:
            later = rng.randrange(year, 2027)
            cites.append(f"{later - 1935} FR {rng.randrange(1000, 99999)}")
        requirement, policy = self.licence(country)
        if other_source is not None:
            source, programs, url = other_source
            return _row(_id=_hex_id(name, source, str(k)), source=source, type="Entity",
                        programs=programs, name=name, addresses=addresses,
                        federal_register_notice="; ".join(cites) if "ISN" in source else "",
                        start_date=first.isoformat(), source_list_url=url,
                        alt_names=_join(aliases), source_information_url=url,
                        remarks="(Linked To: an invented entity)" if "SDN" in source else "")
        return _row(_id=_hex_id(name, cites[0]), source=EL_SOURCE, name=name,
                    addresses=addresses, federal_register_notice="; ".join(cites),
                    start_date=first.isoformat() if rng.random() < 0.92 else "",
                    standard_order=" " if rng.random() < 0.002 else "",
                    license_requirement=requirement, license_policy=policy,
                    source_list_url=EL_URL,
                    alt_names=_join(aliases, and_before_last=rng.random() < 0.2),
                    source_information_url=EL_URL)

    def institute(self, parts: dict, country: str) -> str:
        rng = self.rng
        field = rng.choice(FIELDS_OF_STUDY)
        if country == "CN" and rng.random() < 0.5:
            n = rng.randrange(2, 60)
            suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10 if n % 100 not in (11, 12, 13) else 0, "th")
            return (f"{parts['brand']} Electronics Technology Group Corporation {n}{suffix} "
                    f"Research Institute")
        return f"{parts['place']} Research Institute of {field}"

    def aliases(self, name: str, parts: dict, k: int, country: str) -> list[str]:
        rng = self.rng
        count = rng.choices((0, 1, 2, 3, 4), weights=(35, 25, 20, 12, 8))[0]
        pool = [f"{parts['brand']} {parts['sector']}", parts["brand"]]
        if country == "CN":
            pinyin_sector = {"Technology": "Keji", "Electronics": "Dianzi",
                             "Information Technology": "Xinxi Jishu"}.get(parts["sector"], "Keji")
            pool.append(f"{parts['place']} {parts['brand']} {pinyin_sector} Youxian Gongsi")
            chinese = self.names.chinese(k)
            if chinese and rng.random() < self.chinese_script:
                count = max(count, 1)
                pool.insert(0, chinese)
        elif country in ("RU", "BY", "KZ"):
            brand = parts["brand"]
            pool.append(f"{brand} LLC" if name.startswith(("OOO", "LLC")) else f"OOO {brand}")
            pool.append("ООО " + " ".join(_cyrillic(w) for w in brand.split()))
            pool.append(name.replace("kh", "h").replace("Tekhno", "Techno"))
        elif country in ("AE", "SA", "IR"):
            pool.append(name.replace("Al ", "", 1).replace(" Co.", " Company"))
        acronym = _initials(name)
        if acronym:
            pool.append(acronym)
        first = pool.pop(0) if country == "CN" and pool and not pool[0].isascii() else None
        rng.shuffle(pool)
        if first:
            pool.insert(0, first)
        out = []
        for a in pool:
            if a != name and a not in out and len(out) < count:
                out.append(a)
        return out

    def addresses(self, parts: dict, country: str) -> str:
        rng = self.rng
        count = rng.choices((1, 2, 3), weights=(75, 18, 7))[0]
        out = [self.address(parts, country) for _ in range(count)]
        if rng.random() < 0.03:  # another country
            other = self.country()
            out.append(self.address(self.names.parts(rng.randrange(10_000), other), other))
        if country == "CN" and rng.random() < 0.03:  # street lines sharing one city
            city = parts["place"] if parts["place"] in PROVINCES else "Shijiazhuang"
            province = PROVINCES.get(city, "Hebei")
            lines = [f"{rng.randrange(1, 300)} {self._road()} Road, {city}, {province}, China"
                     for _ in range(rng.randrange(2, 4))]
            out = ["; and ".join(lines) + f", {city}, {province} Province, CN"]
        return "; ".join(out)

    def _road(self) -> str:
        syl = list(PINYIN)
        return (self.rng.choice(syl) + self.rng.choice(syl)).capitalize()

    def address(self, parts: dict, country: str) -> str:
        rng = self.rng
        st = style_of(country)
        city = parts["place"] if parts["place"] in st.places else rng.choice(st.places)
        n = rng.randrange(1, 999)
        if country == "CN":
            city = city if city in CN_CITIES else rng.choice(list(CN_CITIES))
            district = rng.choice(CN_DISTRICTS)
            postal = f"{rng.randrange(100000, 850000)}"
            street = f"No. {n} {self._road()} Road, {district} District"
            if rng.random() < 0.4:
                street = f"Room {rng.randrange(101, 2999)}, Building {rng.randrange(1, 30)}, " + street
            cells = [street, city, PROVINCES.get(city, ""), postal, "CN"]
        elif country == "HK":
            cells = [f"Room {rng.randrange(1, 30):02d}{rng.choice('ABCDEF')}, {rng.randrange(2, 40)}/F, "
                     f"{parts['brand']} Commercial Building, {n} {self._road()} Road",
                     rng.choice(st.places), "Hong Kong", "", "HK"]
        elif country in ("RU", "BY", "KZ"):
            cells = [f"{rng.choice(RU_STREETS)}, d. {n}, str. {rng.randrange(1, 9)}", city, "",
                     f"{rng.randrange(100000, 699999)}", country]
        elif country == "AE":
            cells = [f"Office {n}, {parts['brand']} Tower, Plot {rng.randrange(1, 400)}", city, "",
                     "", "AE"]
        elif country == "IR":
            cells = [f"No. {n}, {parts['brand']} Alley, {rng.choice(('Azadi', 'Valiasr', 'Enghelab'))} "
                     "Street", city, "", "", "IR"]
        else:
            cells = [f"{n} {parts['brand']} Street", city, "", f"{rng.randrange(10000, 99999)}",
                     country]
        return ", ".join(c for c in cells if c)

    def licence(self, country: str) -> tuple[str, str]:
        rng = self.rng
        if country in ("RU", "BY"):
            req = rng.choice(REQUIREMENTS["russia"] + REQUIREMENTS["plain"])
            pol = rng.choices(("policy", "pod"), weights=(8, 2))[0]
        elif country in ("CN", "HK"):
            req = rng.choices(("plain", "fdp", "smic", "non99"), weights=(5, 4, 1, 1))[0]
            req = rng.choice(REQUIREMENTS[req])
            pol = rng.choices(("pod", "cbc", "policy"), weights=(8, 1, 1))[0]
        else:
            req = rng.choice(REQUIREMENTS["plain"] + REQUIREMENTS["non99"])
            pol = rng.choices(("pod", "policy", "cbc"), weights=(6, 3, 1))[0]
        return req, rng.choice(POLICIES[pol])


# ---------------------------------------------------------------------------- output


def rows(count: int, seed: int, other_share: float, chinese_script: float = 0.05):
    """The sample entries, then invented ones, up to ``count`` rows in all."""
    real = sample_rows()
    yield from real[:count]
    maker = EntryMaker(seed, chinese_script)
    pick = random.Random(seed + 1)
    for _ in range(max(0, count - len(real))):
        other = None
        if other_share and pick.random() < other_share:
            other = OTHER_SOURCES[pick.randrange(len(OTHER_SOURCES))]
        yield maker.entry(other)


def write_csv(records, path: Path, quote_all: bool) -> int:
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, COLUMNS, lineterminator="\n",
                           quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
        w.writeheader()
        for r in records:
            w.writerow(r)
            n += 1
    return n


def _json_record(r: dict) -> dict:
    out = {("id" if k == "_id" else k): v for k, v in r.items()}
    out["alt_names"] = [a[4:] if a.startswith("and ") else a
                        for a in r["alt_names"].split("; ") if a]
    out["addresses"] = []
    for a in r["addresses"].split("; ") if r["addresses"] else ():
        *street, country = [p.strip() for p in a.split(",")]
        out["addresses"].append({"address": ", ".join(street), "city": "", "state": "",
                                 "postal_code": "", "country": country})
    out["programs"] = [p for p in r["programs"].split("; ") if p]
    out["ids"] = []
    return out


def write_json(records, path: Path) -> int:
    results = [_json_record(r) for r in records]
    path.write_text(json.dumps({"results": results, "search_performed_at":
                                "2026-07-31T13:15:00+00:00"}, ensure_ascii=False), encoding="utf-8")
    return len(results)


def rules_copy(target: Path, list_name: str) -> Path:
    """Copy rules/ to ``target`` and point its Entity List at ``lists/<list_name>``."""
    if target.exists():
        raise SystemExit(f"{target} exists; give a new folder to --rules-copy")
    shutil.copytree(ROOT / "rules", target)
    decl = target / "lists" / "entity_list.rules"
    text = decl.read_text(encoding="utf-8")
    new, n = re.subn(r'^(\s*)from "entity_list_sample\.csv"\s*$', rf'\1from csl "{list_name}"',
                     text, flags=re.M)
    if n != 1:
        raise SystemExit(f"cannot find the `from` line in {decl}")
    decl.write_text(new, encoding="utf-8")
    return target / "lists" / list_name


def time_load(folder: Path) -> None:
    import chiprules
    from chiprules.eval.screens import screener_for

    start, cpu = time.perf_counter(), time.process_time()
    rules = chiprules.load(folder / "ear")
    loaded, loaded_cpu = time.perf_counter() - start, time.process_time() - cpu
    model = rules.version("2023-11-17")
    lst = model.lists["entity_list"]
    print(f"chiprules.load({folder / 'ear'}): {loaded:.1f} s wall, {loaded_cpu:.1f} s CPU for "
          f"{len(rules.models)} versions; entity_list has {len(lst.entries):,} entries; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    start, cpu = time.perf_counter(), time.process_time()
    d = rules.evaluate({"chip": "NVIDIA H100 SXM", "destination": "CN", "end_user_hq": "CN",
                        "end_user": "Huawei Technologies Co., Ltd."}, as_of="2024-01-10")
    print(f"first evaluation (builds the screener over the list): "
          f"{time.perf_counter() - start:.1f} s wall, {time.process_time() - cpu:.1f} s CPU "
          f"-> {d.outcome}")
    screener = screener_for(lst.entries, lst.match_score, lst.possible_score)
    from gen_shipments import ShipmentGenerator

    gen = ShipmentGenerator(seed=11, missing=0.0)
    names = [(r["end_user"], r["destination"]) for r in gen.records(10_000) if r["end_user"]]
    cpu = time.process_time()
    statuses: dict[str, int] = {}
    for name, country in names:
        s = screener.screen(name, country=country).status
        statuses[s] = statuses.get(s, 0) + 1
    took = time.process_time() - cpu
    print(f"screening {len(names):,} buyer names of gen_shipments against it: {took:.2f} s CPU "
          f"({len(names) / took:,.0f} names per CPU second); " +
          ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items())))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--entries", type=int, default=50_000, help="rows in all (default 50,000)")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--other-sources", type=float, default=0.0,
                    help="share of invented rows from lists other than the Entity List")
    ap.add_argument("--chinese-script", type=float, default=0.05, metavar="SHARE",
                    help="share of mainland entries with an alias in Chinese characters")
    ap.add_argument("--quote-all", action="store_true", help="quote every field (2025 layout)")
    ap.add_argument("-o", "--output", type=Path, help="FILE.csv or FILE.json")
    ap.add_argument("--rules-copy", type=Path, metavar="DIR",
                    help="copy rules/ to DIR and point its Entity List at the generated file")
    ap.add_argument("--time-load", action="store_true",
                    help="with --rules-copy: time chiprules.load and screening with the list")
    args = ap.parse_args()
    if args.output is None and args.rules_copy is None:
        ap.error("give -o FILE or --rules-copy DIR")
    output = args.output
    if args.rules_copy is not None:
        listed = rules_copy(args.rules_copy, output.name if output else "big.csv")
        output = listed
    start = time.perf_counter()
    records = rows(args.entries, args.seed, args.other_sources, args.chinese_script)
    if output.suffix.lower() == ".json":
        n = write_json(records, output)
    else:
        n = write_csv(records, output, args.quote_all)
    print(f"{n:,} rows to {output} in {time.perf_counter() - start:.1f} s "
          f"({output.stat().st_size / 1e6:.1f} MB)")
    if args.time_load:
        if args.rules_copy is None:
            ap.error("--time-load needs --rules-copy")
        time_load(args.rules_copy)


if __name__ == "__main__":
    main()
