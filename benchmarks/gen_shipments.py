"""Generate realistic shipment records for benchmarks, deterministically, in a stream.

    python benchmarks/gen_shipments.py --rows 1000000 --missing 0.1 --distinct 0.5 \\
        -o /tmp/ship.parquet
    python benchmarks/gen_shipments.py --rows 100000 --complete -o /tmp/complete.csv

The output format follows the extension: ``.csv`` or ``.parquet``. Rows are written in
chunks (``--chunk``, 100,000 by default), so ten million rows need no more memory than
one chunk. The same ``--seed`` and options give the same records in either format.

Each record has the fields of ``rules/fields.rules`` that a shipment file carries (id,
export_date, transaction, exported_from, destination, end_user, end_user_hq,
end_user_parent, consignee, chip, item_kind, tpp, die_area, performance_density,
datacenter, interconnect_bw, dram_bw, memory_bw_density, quantity). ``end_user_parent``
is there because the rules read it: from 2025-09-29 to 2025-11-09 the affiliates rule
screens the buyer's ultimate parent, and a record without one is undecided then. The
optional address fields, which the rules never test, are left out.

* **Dates** uniform from 2022-10-07 (the first rule) to 2026-07-31, so every version of
  ``rules/ear`` decides some records.
* **Destinations** weighted to the ones the rules treat apart: China, Hong Kong, Macau,
  Russia, Belarus and Iran (D:5 and Macau), Vietnam, Kazakhstan (D:1), the Gulf (D:4),
  the transit hubs Singapore and Malaysia, allies (Japan, Germany, the US...),
  Nicaragua and Cambodia (which changed groups). About 12 % of buyers are subsidiaries
  of a foreign parent ("... (Singapore) Pte. Ltd." with a Chinese headquarters, the
  parent named in ``end_user_parent``), which the headquarters rule looks at. Most
  records are exports from the US; some are reexports from a transit country, or
  in-country transfers.
* **Chips**: about 65 % of ICs and computers name a product of ``rules/chips.csv``
  (released by the export year; by name or by an alias, as shippers write them), and
  the catalog fills the figures. The rest are parts outside the catalog, given by their
  figures under a part label the catalog does not know: TPP and performance density
  spread widely, and often exactly at or one step beside a threshold of the 2022 and
  2023 rules (TPP 1600, 2400, 4800, 21000; density 1.6, 3.2 and 5.92 TPP/mm2, exactly,
  as a die area times the density; interconnect 600 GB/s; DRAM 6500 GB/s), given as a
  die area (the rules derive the density), a density, or both (then the record's
  density counts). HBM stacks are given by their memory bandwidth density, around 2 and
  3.3 GB/s/mm2.
* **Missing facts**: a share of records (``--missing``, 0.05 to 0.2) lacks one fact the
  rules need to decide it, so that this share of records is ``indeterminate``: a figure
  of a part (TPP, die area, datacenter, interconnect, DRAM bandwidth, an HBM stack's
  memory density, the part label where the H20 letter applies), a named chip whose
  catalog entry lacks a figure (the catalog's own gaps, e.g. the Huawei Ascend 910B),
  the destination, the buyer's headquarters, name or parent. Candidate facts are tried
  in a weighted random order, and one is taken only when the rules in force on the
  record's date cannot decide without it (see ``undecided``); a record that needs no
  fact passes its turn to the next one.
* **Buyers**: about 2 % (``--listed``) are parties of the Entity List sample, by listed
  name or alias (a sixth of them as the parent of an unlisted subsidiary), a third
  spelled slightly differently (a typo, capitals, another legal form, word order, a
  missing acronym), which makes some of them possible matches. The others are invented
  company names in the shapes of their countries (``company_names.py``), kept away
  from the listed words. A share ``--distinct`` of the other records brings a new buyer;
  the rest repeat an earlier one, so about that share of the buyer names is distinct.
  A fifth of the records ship to a distributor as consignee.

``--complete`` gives records with every fact the rules read: the catalog's figures are
written out in the record, no fact is missing, no buyer is listed, every invented name
is screened and replaced when a listed name scores 70 or more against it, and the
consignee and the parent are always given. (A product whose die area is not public,
such as the NVIDIA B200, has none; its TPP of 4800 or more decides without it.)

Which catalog products are complete is asked of the rules themselves: a product is
complete when ``rules/ear`` decides a probe record naming it, under every version and
for a few destinations.

From Python, ``ShipmentGenerator(...).records(n)`` yields the records as typed dicts
(``Decimal``, ``date``, ``bool``, ``int``; ``None`` for a missing value).
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import itertools
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from company_names import CompanyNames  # noqa: E402

FIELDS = (
    "id", "export_date", "transaction", "exported_from", "destination", "end_user",
    "end_user_hq", "end_user_parent", "consignee", "chip", "item_kind", "tpp", "die_area", "performance_density",
    "datacenter", "interconnect_bw", "dram_bw", "memory_bw_density", "quantity",
)  # fmt: skip
NUMBERS = ("tpp", "die_area", "performance_density", "interconnect_bw", "dram_bw",
           "memory_bw_density")
FIRST_DAY, LAST_DAY = dt.date(2022, 10, 7), dt.date(2026, 7, 31)

#: Shares of destinations, in per mille.
DESTINATIONS = {
    "CN": 170, "HK": 60, "MO": 15, "RU": 25, "BY": 5, "IR": 3, "VN": 50, "KZ": 8, "AE": 50,
    "SA": 20, "QA": 5, "SG": 70, "MY": 60, "TH": 15, "ID": 10, "IN": 40, "JP": 60, "KR": 40,
    "TW": 50, "DE": 50, "NL": 15, "FR": 15, "GB": 20, "IL": 15, "TR": 10, "US": 70, "CA": 10,
    "MX": 10, "BR": 10, "NI": 4, "KH": 5,
}  # fmt: skip
#: Headquarters of the foreign parents of subsidiaries.
PARENTS = {"CN": 45, "US": 25, "HK": 5, "JP": 5, "KR": 4, "DE": 4, "SG": 4, "RU": 4, "TW": 4}
SUBSIDIARY_SHARE = 0.12
REEXPORT_FROM = ("SG", "MY", "TW", "HK", "NL", "JP", "KR", "MX", "AE", "IN")

#: Relative popularity of catalog products (others weigh 1).
POPULAR = {
    "NVIDIA H100 SXM": 14, "NVIDIA H20": 12, "NVIDIA A100 SXM": 10, "NVIDIA H200 SXM": 8,
    "NVIDIA A800 SXM": 6, "NVIDIA H800 SXM": 6, "NVIDIA GeForce RTX 4090": 8,
    "NVIDIA GeForce RTX 4090 D": 5, "NVIDIA L40S": 6, "NVIDIA L20": 4, "NVIDIA L4": 4,
    "NVIDIA B200": 6, "NVIDIA H100 PCIe": 5, "AMD Instinct MI300X": 4,
    "NVIDIA GeForce RTX 5090": 4, "NVIDIA A10": 3, "NVIDIA A30": 2, "Intel Gaudi 3": 2,
}  # fmt: skip

TPP_STEPS = (Decimal(0), Decimal(0), Decimal(0), Decimal("-0.01"), Decimal("0.01"),
             Decimal(-1), Decimal(1), Decimal("-0.1"))
DENSITY_STEPS = (Decimal(0), Decimal(0), Decimal("-0.01"), Decimal("0.01"))
INTERCONNECT = {64: 20, 128: 8, 200: 6, 300: 6, 400: 10, 599: 4, 600: 14, 601: 3, 800: 6,
                900: 10, 1200: 5, 1800: 6}
DRAM = {300: 4, 600: 4, 864: 6, 1008: 5, 2039: 8, 3350: 8, 4000: 6, 4800: 5, 6000: 4,
        6499: 3, 6500: 5, 6501: 2, 8000: 5}
HBM_DENSITY = (Decimal(2), Decimal("1.99"), Decimal("2.01"), Decimal("3.3"), Decimal("3.29"),
               Decimal("3.31"))
QUANTITY_IC = (1, 2, 4, 8, 8, 16, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8000)
QUANTITY_COMPUTER = (1, 1, 2, 2, 4, 8, 16, 32, 64)
QUANTITY_HBM = (8, 16, 64, 256, 1024, 4096, 10000)
#: Destinations of the H20 letter of April 2025 (Macau and D:5, roughly): a part
#: without a name cannot be shown not to be an H20 there.
H20_LETTER = frozenset({"CN", "HK", "MO", "RU", "BY", "IR"})
PART_PREFIXES = ("Accelerator AX", "Inference card IC", "AI module M", "Training card TX",
                 "Vision processor VP", "NPU board NB")

LEGAL_SWAPS = ((" Co., Ltd.", " Company Limited"), (" Co., Ltd", " Co. Ltd"),
               (" Corporation", " Corp."), (" Limited", " Ltd."), (" Pte. Ltd.", " Pte Ltd"),
               (" Ltd.", ""), (" Technologies", " Technology"), (" Technology", " Tech"))


def _table(weights: dict) -> tuple[list, list[float]]:
    """Keys and cumulative weights, for `_pick`."""
    keys = list(weights)
    return keys, list(itertools.accumulate(weights[k] for k in keys))


def _pick(rng_random, table) -> object:
    keys, cum = table
    return keys[bisect.bisect_right(cum, rng_random() * cum[-1])]


def _mix(k: int) -> int:
    """splitmix64: a well-spread 64-bit hash of an integer."""
    z = (k + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


def listed_words(entries) -> set[str]:
    """The distinctive words of party-list entries (names and aliases), lower case."""
    from chiprules.screening.screener import COMMON_WORDS, QUALIFIER_WORDS, STOP_WORDS

    legal = set("co ltd limited corporation corp inc llc pte jsc pjsc ao oao ooo zao company "
                "gmbh plc sa".split())
    skip = COMMON_WORDS | QUALIFIER_WORDS | STOP_WORDS | legal
    words = set()
    for e in entries:
        for text in (e.name, *e.aliases):
            for w in re.findall(r"[^\W_]+", text.casefold()):
                if w not in skip and len(w) >= 4 and not w.isdigit():
                    words.add(w)
    return words


def complete_chips(rules, catalog) -> set[str]:
    """The catalog products whose figures let the rules decide a probe record naming them,
    under every version in force from the first day to the last and for a few
    destinations (the rest have a gap the rules need)."""
    days = sorted({m.effective for m in rules.models if m.effective} | {LAST_DAY})
    days = [d for d in days if FIRST_DAY <= d <= LAST_DAY]
    found = set()
    for spec in catalog:
        decided = True
        for day, dest, kind in itertools.product(days, ("CN", "VN", "AE", "DE"),
                                                 ("ic", "computer")):
            if spec.item_kind == "hbm" and kind == "computer":
                continue
            record = {"chip": spec.name, "destination": dest, "end_user": "Probe Buyer Ltd",
                      "end_user_hq": dest, "export_date": day,
                      "item_kind": "hbm" if spec.item_kind == "hbm" else kind}
            if rules.evaluate(record).outcome == "indeterminate":
                decided = False
                break
        if decided:
            found.add(spec.name)
    return found


def _undecided() -> type:
    """The type of the compiled function's answer when it cannot decide alone."""
    from chiprules.eval.python import Undecided

    return Undecided


class ShipmentGenerator:
    """Deterministic realistic shipment records (see the module documentation)."""

    def __init__(self, seed: int = 1, missing: float = 0.1, distinct: float = 0.5,
                 listed: float = 0.02, complete: bool = False, rules_path: Path | None = None):
        import chiprules
        from chiprules.data.catalog import load_catalog
        from chiprules.data.parties import load_party_csv

        if complete:
            missing, listed = 0.0, 0.0
        if not 0 <= missing <= 1 or not 0 < distinct <= 1 or not 0 <= listed <= 1:
            raise ValueError("missing and listed are shares from 0 to 1; distinct from above 0 to 1")
        self.seed, self.missing, self.distinct = seed, missing, distinct
        self.listed, self.complete = listed, complete
        self.rng = random.Random(seed)
        self.catalog = load_catalog(ROOT / "rules" / "chips.csv")
        self.rules = chiprules.load(rules_path or ROOT / "rules" / "ear")
        self._versions: dict = {}
        self.owed = 0  # records that drew a missing fact but needed none
        self.complete_chips = complete_chips(self.rules, self.catalog)
        self.entries = load_party_csv(ROOT / "rules" / "lists" / "entity_list_sample.csv",
                                      "entity_list")
        avoid = listed_words(self.entries)
        self.names = CompanyNames(salt=seed, avoid=avoid)
        # complete records: every invented name is screened, and one close to a listed
        # name (a candidate scoring 70 or more, 5 below a possible match) is replaced
        self.screener = None
        if complete:
            from chiprules.screening.screener import Screener

            self.screener = Screener(self.entries)
        self.distributors = CompanyNames(salt=seed + 1_000_003, avoid=avoid)
        # buyer index -> country: 1000 slots in the destination shares, in a fixed shuffled
        # order, so that each country's buyers are numbered densely (see `buyer`)
        slots = [c for c, w in DESTINATIONS.items() for _ in range(w)]
        slots += ["US"] * (1000 - len(slots))
        random.Random(seed).shuffle(slots)
        self.slots = slots
        self.slot_count = Counter(slots)
        seen: Counter = Counter()
        self.slot_pos = []
        for c in slots:
            self.slot_pos.append(seen[c])
            seen[c] += 1
        self.parents = _table(PARENTS)
        self._buyers: dict[int, tuple] = {}
        self.buyers_made = 0  # new buyer indexes drawn so far
        self.stats: Counter = Counter()
        self._by_year: dict[tuple, tuple] = {}

    # ---- parties
    def buyer(self, k: int) -> tuple[str, str, str, str]:
        """(name, country, headquarters, ultimate parent) of buyer number ``k``, a pure
        function of ``k``. A company with no parent names itself as its own."""
        hit = self._buyers.get(k)
        if hit is not None:
            return hit
        q, slot = divmod(k, 1000)
        country = self.slots[slot]
        local = q * self.slot_count[country] + self.slot_pos[slot]
        h = _mix(k ^ (self.seed << 40))
        hq = country
        if (h & 0xFFFF) < SUBSIDIARY_SHARE * 0x10000:
            parent = self.parents[0][bisect.bisect_right(
                self.parents[1], ((h >> 16) & 0xFFFF) / 0x10000 * self.parents[1][-1])]
            if parent != country:
                hq = parent
        for attempt in range(20):
            n = local + attempt * 1_000_003  # another company, when this one is too close
            if hq != country:
                name = self.names.name(n, hq, located=country)
                parent_name = self.names.name(n, hq)
            elif country == "CN" and (h >> 32) % 20 == 0:
                name = parent_name = self.names.chinese(n) or self.names.name(n, country)
            else:
                name = parent_name = self.names.name(n, country)
            if self.clear(name, country) and (parent_name == name or self.clear(parent_name, hq)):
                break
        found = (name, country, hq, parent_name)
        if len(self._buyers) > 200_000:
            self._buyers.clear()
        self._buyers[k] = found
        return found

    def clear(self, name: str, country: str) -> bool:
        """No listed name is close to ``name`` (always true unless records are complete)."""
        if self.screener is None:
            return True
        result = self.screener.screen(name, country=country)
        return all(c.score < 70 for c in result.candidates)

    def distributor(self, k: int, country: str) -> str:
        for attempt in range(20):
            name = self.distributors.name(k + attempt * 1_000_003, country)
            if self.clear(name, country):
                return name
        return name

    def listed_buyer(self, rnd) -> tuple[str, str, str, str]:
        """A party of the Entity List sample as a shipper might write it: the buyer, or
        (one time in six) the ultimate parent of an unlisted subsidiary."""
        e = self.entries[int(rnd() * len(self.entries))]
        forms = (e.name, *e.aliases)
        text = forms[0] if rnd() < 0.5 else forms[int(rnd() * len(forms))]
        if rnd() < 1 / 3:
            text = self.misspell(text, rnd)
            self.stats["listed_variant"] += 1
        country = e.country
        if rnd() < 1 / 6:
            self.stats["listed_parent"] += 1
            where = ("SG", "MY", "HK", "AE", "VN")[int(rnd() * 5)]
            k = int(rnd() * 100_000)
            return self.names.name(k, country, located=where), where, country, text
        if country == "CN" and rnd() < 0.1:
            return text, "HK", "CN", text
        return text, country, country, text

    @staticmethod
    def misspell(text: str, rnd) -> str:
        kind = int(rnd() * 5)
        if kind == 0:  # a typo in the longest word
            words = text.split()
            i = max(range(len(words)), key=lambda j: len(words[j]))
            w = words[i]
            if len(w) >= 5:
                j = 1 + int(rnd() * (len(w) - 2))
                words[i] = w[:j] + w[j + 1 :] if rnd() < 0.5 else w[:j] + w[j] + w[j:]
            return " ".join(words)
        if kind == 1:
            return text.upper()
        if kind == 2:  # another legal form
            for a, b in LEGAL_SWAPS:
                if a in text:
                    return text.replace(a, b, 1)
            return text + " Co., Ltd."
        if kind == 3:  # no parenthesised acronym or place
            bare = re.sub(r"\s*\([^)]*\)", "", text).strip()
            return bare if bare != text else text.lower()
        words = text.split()  # the first two words swapped
        if len(words) > 2:
            words[0], words[1] = words[1], words[0]
        return " ".join(words)

    # ---- chips
    def named_chips(self, year: int, kind: str, complete: bool) -> tuple:
        """A pick table of the catalog products of a kind released by ``year``."""
        key = (year, kind, complete)
        table = self._by_year.get(key)
        if table is None:
            specs = {s.name: POPULAR.get(s.name, 1) for s in self.catalog
                     if s.item_kind == "ic" and (s.released or 0) <= year
                     and (s.name in self.complete_chips) == complete}
            table = self._by_year[key] = _table(specs) if specs else None
        return table

    def part_figures(self, rnd, r: dict) -> None:
        """Figures of a part outside the catalog, often at or beside a threshold."""
        mode = rnd()
        if mode < 0.3:  # TPP at or beside a threshold
            base = (1600, 2400, 2400, 4800, 4800, 4800, 21000)[int(rnd() * 7)]
            tpp = Decimal(base) + TPP_STEPS[int(rnd() * len(TPP_STEPS))]
            area = Decimal(int(80 + rnd() * 1120))
            density = None
        elif mode < 0.55:  # density at or beside a threshold, exact
            d = (Decimal("1.6"), Decimal("3.2"), Decimal("5.92"))[int(rnd() * 3)]
            density = d + DENSITY_STEPS[int(rnd() * len(DENSITY_STEPS))]
            low = int(1600 / density / 5) + 1
            area = Decimal(5 * (low + int(rnd() * 120))) / (2 if rnd() < 0.3 else 1)
            tpp = density * area
        else:  # anywhere
            tpp = Decimal(str(round(10 ** (2.5 + rnd() * 2.1), 1)))
            area = Decimal(int(160 + rnd() * 2240)) / 2
            density = None
        how = rnd()
        r["tpp"] = tpp
        if how < 0.65:
            r["die_area"] = area
        else:
            if density is None:
                density = (tpp / area).quantize(Decimal("0.01"))
            r["performance_density"] = density
            if how >= 0.85:  # both: the record's density is what counts
                r["die_area"] = area
        r["datacenter"] = rnd() < 0.75
        r["interconnect_bw"] = Decimal(_pick(rnd, self._interconnect))
        r["dram_bw"] = Decimal(_pick(rnd, self._dram))

    _interconnect = _table(INTERCONNECT)
    _dram = _table(DRAM)

    # ---- records
    def records(self, n: int, start: int = 0) -> Iterator[dict]:
        """``n`` records as typed dicts (None for a missing value)."""
        rng = self.rng
        rnd = rng.random
        span = (LAST_DAY - FIRST_DAY).days + 1
        stats = self.stats
        for i in range(start, start + n):
            day = FIRST_DAY + dt.timedelta(days=int(rnd() * span))
            # the buyer: listed, new, or a repeat of an earlier one
            if rnd() < self.listed:
                end_user, dest, hq, parent = self.listed_buyer(rnd)
                stats["listed"] += 1
                k = None
            else:
                if self.buyers_made == 0 or rnd() < self.distinct:
                    k = self.buyers_made
                    self.buyers_made += 1
                else:
                    k = int(rnd() * self.buyers_made)
                end_user, dest, hq, parent = self.buyer(k)
            roll = rnd()
            if roll < 0.88:
                transaction, origin = "export", "US"
            elif roll < 0.96:
                transaction = "reexport"
                origin = REEXPORT_FROM[int(rnd() * len(REEXPORT_FROM))]
                if origin == dest:
                    transaction, origin = "export", "US"
            else:
                transaction, origin = "transfer", dest
            consignee = None
            if rnd() < (0.25 if self.complete else 0.2):
                consignee = self.distributor(int(rnd() * 5000), dest)
            elif self.complete:
                consignee = end_user
            r = {"id": f"SH{i + 1:09d}", "export_date": day, "transaction": transaction,
                 "exported_from": origin, "destination": dest, "end_user": end_user,
                 "end_user_hq": hq, "end_user_parent": parent, "consignee": consignee, "chip": None, "item_kind": "ic",
                 "tpp": None, "die_area": None, "performance_density": None,
                 "datacenter": None, "interconnect_bw": None, "dram_bw": None,
                 "memory_bw_density": None, "quantity": None}
            lacking = rnd() < self.missing
            kind_roll = rnd()
            kind = "ic" if kind_roll < 0.80 else ("computer" if kind_roll < 0.94 else "hbm")
            r["item_kind"] = kind
            named = False
            if kind == "hbm":
                r["chip"] = f"HBM stack HS-{int(rnd() * 40) + 10}"
                if rnd() < 0.6:
                    r["memory_bw_density"] = HBM_DENSITY[int(rnd() * len(HBM_DENSITY))]
                else:
                    r["memory_bw_density"] = Decimal(int(50 + rnd() * 550)) / 100
                r["dram_bw"] = Decimal((819, 1024, 1229, 1280, 1640, 2048)[int(rnd() * 6)])
                r["quantity"] = QUANTITY_HBM[int(rnd() * len(QUANTITY_HBM))]
            else:
                r["quantity"] = (QUANTITY_IC if kind == "ic" else QUANTITY_COMPUTER)[
                    int(rnd() * (len(QUANTITY_IC) if kind == "ic" else len(QUANTITY_COMPUTER)))]
                if rnd() < 0.65:
                    table = self.named_chips(day.year, "ic", True)
                    spec = self.catalog.lookup(_pick(rnd, table))
                    named = True
                    forms = (spec.name, *spec.aliases)
                    r["chip"] = spec.name if rnd() < 0.7 else forms[int(rnd() * len(forms))]
                    if self.complete:
                        for key, value in spec.fields().items():
                            if key != "item_kind":
                                r[key] = value
                else:
                    prefix = PART_PREFIXES[int(rnd() * len(PART_PREFIXES))]
                    label = f"{prefix}-{int(rnd() * 60) * 10 + 100}"
                    r["chip"] = label if kind == "ic" else f"8-way server with {label}"
                    self.part_figures(rnd, r)
            if lacking or self.owed:
                fact = self.drop_fact(rnd, r, named, day)
                if fact is None:  # nothing this record needs: the next one lacks a fact
                    self.owed += lacking
                else:
                    self.owed -= not lacking
                    stats["missing"] += 1
                    stats["missing " + fact] += 1
            yield r

    def drop_fact(self, rnd, r: dict, named: bool, day: dt.date) -> str | None:
        """Leave out one fact the rules need to decide this record; return its name.

        Facts are tried in a weighted random order; one counts as needed when the
        compiled rules in force on the day cannot decide the record without it. None
        (and the record left whole) when no fact is needed.
        """
        choices = {"destination": 1, "end_user_hq": 2, "end_user": 1, "end_user_parent": 1}
        if r["item_kind"] == "hbm":
            choices["memory_bw_density"] = 4
        elif named:
            if self.named_chips(day.year, "ic", False):
                choices["catalog gap"] = 4
        else:
            choices.update({"tpp": 2, "die_area": 4, "datacenter": 2, "interconnect_bw": 2,
                            "dram_bw": 2, "chip": 1})
        while choices:
            fact = _pick(rnd, _table(choices))
            del choices[fact]
            trial = dict(r)
            if fact == "end_user":
                trial["end_user"] = trial["consignee"] = None
            elif fact == "die_area":
                trial["die_area"] = trial["performance_density"] = None
            elif fact == "catalog gap":
                spec = self.catalog.lookup(_pick(rnd, self.named_chips(day.year, "ic", False)))
                trial["chip"] = spec.name
            else:
                if trial[fact] is None:
                    continue
                trial[fact] = None
            if self.undecided(trial, day):
                r.update(trial)
                return fact
        return None

    def undecided(self, r: dict, day: dt.date) -> bool:
        """True when the rules in force on ``day`` leave record ``r`` indeterminate.

        The version's compiled function answers first: when it decides, so does the
        engine. When it gives up, the version's case split (remembered by signature, so
        records alike cost one split) says whether the missing facts change the outcome.
        """
        version = self._versions.get(day)
        if version is None:
            version = self._versions[day] = self.rules.compiled(self.rules.in_force(day))
        data = {k: v for k, v in r.items() if v is not None}
        prepared = self.rules.prepare(data).record
        if type(version.decide(prepared, day, {}, set())) is not _undecided():
            return False
        self.stats["case splits"] += 1
        return version.splitter.split(prepared, day).verdict is None



# ---------------------------------------------------------------------------- output


def _text(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(records, path: Path) -> int:
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(FIELDS)
        text = _text
        for r in records:
            w.writerow([text(r[k]) for k in FIELDS])
            n += 1
    return n


def parquet_schema():
    import pyarrow as pa

    number = pa.decimal128(18, 4)
    types = {"export_date": pa.date32(), "datacenter": pa.bool_(), "quantity": pa.int64()}
    types.update({k: number for k in NUMBERS})
    return pa.schema([(k, types.get(k, pa.string())) for k in FIELDS])


def write_parquet(records, path: Path, chunk: int) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    n = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        while True:
            rows = list(itertools.islice(records, chunk))
            if not rows:
                break
            arrays = [pa.array([r[k] for r in rows], type=schema.field(k).type) for k in FIELDS]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=chunk)
            n += len(rows)
            del rows, arrays
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--missing", type=float, default=0.1,
                    help="share of records lacking one needed fact (default 0.1)")
    ap.add_argument("--distinct", type=float, default=0.5,
                    help="share of records bringing a new buyer (default 0.5)")
    ap.add_argument("--listed", type=float, default=0.02,
                    help="share of records whose buyer is on the Entity List sample")
    ap.add_argument("--complete", action="store_true",
                    help="every fact given; no buyer listed or close to a listed name")
    ap.add_argument("--chunk", type=int, default=100_000, help="rows per write (Parquet row group)")
    ap.add_argument("-o", "--output", type=Path, required=True, help="FILE.csv or FILE.parquet")
    args = ap.parse_args()
    suffix = args.output.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        ap.error("the output must end in .csv or .parquet")
    start = time.perf_counter()
    gen = ShipmentGenerator(args.seed, args.missing, args.distinct, args.listed, args.complete)
    ready = time.perf_counter() - start
    records = gen.records(args.rows)
    if suffix == ".csv":
        n = write_csv(records, args.output)
    else:
        n = write_parquet(records, args.output, args.chunk)
    took = time.perf_counter() - start
    s = gen.stats
    facts = ", ".join(f"{k[8:]} {v:,}" for k, v in sorted(s.items()) if k.startswith("missing "))
    print(f"{n:,} records to {args.output} in {took:.1f} s ({ready:.1f} s to set up; "
          f"{n / (took - ready):,.0f} records/s)", file=sys.stderr)
    print(f"new buyers {gen.buyers_made:,}; listed {s['listed']:,} ({s['listed_variant']:,} "
          f"spelled differently); missing a fact {s['missing']:,}" + (f" ({facts})" if facts else ""),
          file=sys.stderr)


if __name__ == "__main__":
    main()
