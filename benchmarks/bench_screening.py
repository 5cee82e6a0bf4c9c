"""Names per second: ``Screener.screen`` beside a brute-force rapidfuzz scan.

Generates a party list of 5,000 plausible company entries with three aliases each
(deterministic seed) plus the 78 real entries of the Entity List sample, and
100,000 names to screen: listed names and aliases as a record might spell them,
variants (a typo, words reordered or dropped, an extra branch or city, syllables
joined or split, legal form changed) and innocent names built from the same word
pools. Prints

* the time to build the screener,
* names per second for ``Screener.screen`` over all 100,000 names (one process, one
  core), first with an empty cache and then again with the cache filled (``--repeat
  N`` times the empty-cache pass N times, each on a fresh Screener, and prints the
  median, for busy machines),
* names per second for a naive baseline that scores each name against every form
  of the list with ``rapidfuzz.process.extract`` (``fuzz.token_set_ratio``), timed
  on a subset of 2,000 names and extrapolated,
* the ratio of the two rates, the share of names per status, and how long an empty
  Python loop takes on this machine, to compare machines.

    python benchmarks/bench_screening.py [--entries 5000] [--names 100000] [--naive 2000]
        [--dense] [--repeat 1]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from chiprules.data.parties import PartyEntry, load_party_csv  # noqa: E402
from chiprules.screening.names import name_forms, normalize_name  # noqa: E402
from chiprules.screening.screener import Screener  # noqa: E402

SAMPLE = ROOT / "rules" / "lists" / "entity_list_sample.csv"


def _pinyin_syllables() -> list[str]:
    """About 400 Mandarin syllables (tones aside), built from initials and finals."""
    groups = [
        ("b p m f d t n l", "a o e ai ei ao ou an en ang eng i ie iao iu ian in ing u un"),
        ("d t n l", "ong"),
        ("g k h", "a e ai ei ao ou an en ang eng ong u ua uo uai ui uan un uang"),
        ("j q x", "i ia ie iao iu ian in iang ing iong u uan un ue"),
        ("zh ch sh r z c s", "a e ai ei ao ou an en ang eng ong i u ua uo uai ui uan un uang"),
        ("y", "a e ao ou an in ang ing ong u ue uan un"),
        ("w", "a o ai ei an en ang eng u"),
        ("", "a e ai ao ou an en ang er"),
    ]
    out = {
        i + f
        for initials, finals in groups
        for i in (initials.split() or [""])
        for f in finals.split()
    }
    return sorted(out)


#: The syllables of generated brand names. ``--dense`` draws both the listed and the
#: innocent names from the first 100 only, so that almost every brand is one letter
#: away from several listed ones (a worst case for the fuzzy search).
SYLLABLES = _pinyin_syllables()
DENSE_SYLLABLES = (
    "an ao bai bei bo chang chen cheng chuang da dian ding dong fang feng fu gang gao "
    "guang hai han hang hao he heng hong hua huan hui jia jian jie jin jing jun kai kang "
    "ke kun lan lei li lian ling long lu mei meng min ming mu nan ning pan peng ping qi "
    "qian qiang qing rong rui sen shan shang sheng shi shun si song tai tian tong wan wei "
    "wen xi xia xiang xin xing xu xuan ya yang yao yi yin ying yong yu yuan yue zhan zhao "
    "zhen zheng zhi zhong zhou zhu"
).split()
WESTERN = (
    "nova astra vertex quant helio cryo lumen opti stella terra volta zeno argo orion "
    "polar sigma tekno micro macro nano photon axion cobalt"
).split()
WESTERN_END = "tek tron ix ium ware logic core link sys gen net chip".split()
PLACES = {
    "CN": "Beijing Shanghai Shenzhen Guangzhou Tianjin Wuhan Hefei Hangzhou Nanjing Suzhou "
    "Wuxi Chengdu Changsha Xian Xiamen Qingdao Dalian Shenyang Zhuhai Dongguan".split(),
    "HK": ["Hong Kong"],
    "RU": "Moscow Zelenograd Novosibirsk".split() + ["Saint Petersburg"],
    "AE": ["Dubai", "Sharjah"],
    "SG": ["Singapore"],
    "TR": ["Istanbul", "Ankara"],
    "IR": ["Tehran"],
}
INDUSTRIES = [
    "Technology",
    "Electronics",
    "Semiconductor",
    "Microelectronics",
    "Information Technology",
    "Intelligent Technology",
    "Integrated Circuit",
    "Trading",
    "Import and Export",
    "Precision Machinery",
    "Optoelectronics",
    "Computing",
    "Data Systems",
    "Photonics",
    "Materials",
    "Science and Technology",
    "Industrial",
    "Supply Chain",
]
LEGAL = {
    "CN": ["Co., Ltd.", "Company Limited", "Co. Ltd", "Technology Co., Ltd."],
    "HK": ["Limited", "Company Limited", "Co., Limited"],
    "RU": ["JSC", "LLC", "OOO", "AO"],
    "AE": ["FZE", "LLC", "FZCO", "Trading LLC"],
    "SG": ["Pte. Ltd.", "Pte Ltd"],
    "TR": ["A.S.", "Ltd. Sti."],
    "IR": ["Co.", "Company"],
}
QUALIFIERS = ["Branch", "Shenzhen Branch", "Office", "Subsidiary", "Beijing Office", "HK"]


_POOL = SYLLABLES


def brand(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return (rng.choice(WESTERN) + rng.choice(WESTERN_END)).title()
    count = 3 if rng.random() < 0.2 else 2
    return "".join(rng.choice(_POOL) for _ in range(count)).title()


def initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w[:1].isalpha()).upper()


def synthetic_entries(count: int, seed: int = 20240) -> list[PartyEntry]:
    rng = random.Random(seed)
    entries = []
    for _ in range(count):
        country = rng.choices(list(PLACES), weights=[60, 8, 10, 8, 6, 4, 4])[0]
        place = rng.choice(PLACES[country])
        mark = brand(rng)
        trade = rng.choice(INDUSTRIES)
        legal = rng.choice(LEGAL[country])
        with_place = rng.random() < 0.6
        core = [place, mark, trade] if with_place else [mark, trade]
        name = " ".join(core) + " " + legal
        other_trade = rng.choice(INDUSTRIES)
        aliases = (
            f"{mark} {trade}",
            f"{mark} {other_trade}" if rng.random() < 0.5 else f"{place} {mark}",
            initials(" ".join(core).split()) if rng.random() < 0.5 else mark,
        )
        entries.append(PartyEntry(name=name, aliases=aliases, country=country))
    return entries


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + rng.choice("aeiounrst") + word[i + 1 :]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def variant(form: str, rng: random.Random) -> str:
    words = form.split()
    kind = rng.randrange(7)
    if kind == 0:  # a typo in the longest word
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        words[longest] = typo(words[longest], rng)
    elif kind == 1:  # reordered
        rng.shuffle(words)
    elif kind == 2 and len(words) > 2:  # a word dropped
        del words[rng.randrange(len(words))]
    elif kind == 3:  # a branch or city added
        words += rng.choice(QUALIFIERS).split()
    elif kind == 4:  # legal form changed
        words += rng.choice(["Co., Ltd.", "Limited", "LLC", "Inc."]).split()
    elif kind == 5:  # a word written with a space inside, or case changed
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        w = words[longest]
        if len(w) > 5:
            words[longest] = w[: len(w) // 2] + " " + w[len(w) // 2 :]
    else:
        return form.upper()
    return " ".join(words)


def innocent(rng: random.Random) -> str:
    kind = rng.randrange(4)
    country = rng.choice(list(PLACES))
    if kind == 0:
        return f"{rng.choice(PLACES[country])} {brand(rng)} {rng.choice(INDUSTRIES)} {rng.choice(LEGAL[country])}"
    if kind == 1:
        return f"{brand(rng)} {rng.choice(INDUSTRIES)}"
    if kind == 2:
        first = rng.choice(["Global", "Pacific", "United", "Prime", "First", "Golden", "Eastern"])
        return f"{first} {rng.choice(INDUSTRIES)} {rng.choice(['Trading', 'Holdings', 'Group', 'Services'])} LLC"
    return f"{rng.choice(['Smith', 'Jones', 'Garcia', 'Kumar', 'Tanaka', 'Ivanov'])} & Sons {rng.choice(INDUSTRIES)}"


def queries(entries: list[PartyEntry], count: int, seed: int = 99) -> list[str]:
    rng = random.Random(seed)
    forms = [f for e in entries for f in (*name_forms(e.name), *e.aliases)]
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.3:
            form = rng.choice(forms)
            out.append(form if rng.random() < 0.5 else form.lower())
        elif roll < 0.6:
            out.append(variant(rng.choice(forms), rng))
        else:
            out.append(innocent(rng))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--names", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=2000)
    parser.add_argument(
        "--dense", action="store_true", help="brands from 100 syllables only (worst case)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time the empty-cache pass this many times, each on a fresh Screener",
    )
    args = parser.parse_args()
    global _POOL
    _POOL = DENSE_SYLLABLES if args.dense else SYLLABLES

    real = list(load_party_csv(SAMPLE, "Entity List"))
    entries = synthetic_entries(args.entries) + real
    forms_count = sum(len(name_forms(e.name)) + len(e.aliases) for e in entries)
    names = queries(entries, args.names)
    print(
        f"list: {len(entries):,} entries ({args.entries:,} generated + {len(real)} real), "
        f"{forms_count:,} names and aliases; {len(names):,} names to screen "
        f"({len(set(names)):,} distinct)"
    )

    start = time.perf_counter()
    screener = Screener(entries)
    built = time.perf_counter() - start
    print(f"build: {built:.2f} s ({len(screener.forms):,} distinct forms indexed)")

    start, cpu = time.perf_counter(), time.process_time()
    results = [screener.screen(name) for name in names]
    cold, cold_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    for name in names:
        screener.screen(name)
    warm, warm_cpu = time.perf_counter() - start, time.process_time() - cpu
    rate = len(names) / cold
    print(
        f"Screener.screen, empty cache:  {rate:,.0f} names/s ({cold:.2f} s wall; "
        f"{len(names) / cold_cpu:,.0f} names per CPU second)"
    )
    print(
        f"Screener.screen, filled cache: {len(names) / warm:,.0f} names/s ({warm:.2f} s wall; "
        f"{len(names) / warm_cpu:,.0f} names per CPU second)"
    )
    statuses = Counter(r.status for r in results)
    if args.repeat > 1:  # a busy machine can slow one pass down: show the spread
        del results, screener  # each pass starts as the first did, without the others
        rates = [rate]
        for _ in range(args.repeat - 1):
            gc.collect()
            fresh = Screener(entries)
            start = time.perf_counter()
            kept = [fresh.screen(name) for name in names]
            rates.append(len(names) / (time.perf_counter() - start))
            del kept, fresh
        print(
            f"empty cache, {args.repeat} fresh screeners: "
            + ", ".join(f"{r:,.0f}" for r in rates)
            + f" names/s (median {statistics.median(rates):,.0f})"
        )
    print(
        "statuses: "
        + ", ".join(f"{k} {v:,} ({v / len(names):.1%})" for k, v in sorted(statuses.items()))
    )

    subset = names[: args.naive]
    choices = [normalize_name(f) for e in entries for f in (*name_forms(e.name), *e.aliases)]
    start = time.perf_counter()
    for name in subset:
        process.extract(normalize_name(name), choices, scorer=fuzz.token_set_ratio, limit=5)
    naive = time.perf_counter() - start
    naive_rate = len(subset) / naive
    print(
        f"naive scan ({len(choices):,} forms per name, token_set_ratio): "
        f"{naive_rate:,.0f} names/s (on {len(subset):,} names, {naive:.2f} s); "
        f"100,000 names would take {100_000 / naive_rate:,.0f} s"
    )
    print(f"ratio: Screener is {rate / naive_rate:,.0f}x the naive scan (empty cache)")
    start = time.process_time()
    for _ in range(10**7):
        pass
    print(
        f"machine: an empty Python loop of 10 million steps took "
        f"{time.process_time() - start:.2f} CPU s (about 0.2 s on an idle desktop core)"
    )


if __name__ == "__main__":
    main()
