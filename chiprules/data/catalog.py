"""The chip catalog: public datasheet figures for real products, keyed by name.

The catalog is a CSV file (``rules/chips.csv``) with one product per row. It turns
a product name such as "H100 SXM" into the record fields the rules read (``tpp``,
``die_area``, ``datacenter`` and so on), so a rules author can write a chip by
name instead of copying datasheet numbers.

TPP (total processing performance) follows the 3A090 technical note: for each
bit length, dense TOPS (datasheet figures already count a multiply-accumulate as
two operations) times the bit length; the largest value counts. All arithmetic
is exact ``Decimal`` arithmetic on the cell text.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

import attrs
from rapidfuzz import fuzz, process

from chiprules.core.diagnostics import Diagnostic, error
from chiprules.core.errors import DataError
from chiprules.core.memo import Memo
from chiprules.data.csvtext import csv_records

COLUMNS: tuple[str, ...] = (
    "name",
    "vendor",
    "aliases",
    "released",
    "datacenter",
    "dense_tops_4bit",
    "dense_tops_8bit",
    "dense_tops_16bit",
    "dense_tops_32bit",
    "dense_tops_64bit",
    "die_area",
    "interconnect_bw",
    "dram_bw",
    "memory_bw_density",
    "hbm",
    "source",
    "notes",
)

#: Bit length for each performance column.
TOPS_COLUMNS: dict[str, int] = {
    "dense_tops_4bit": 4,
    "dense_tops_8bit": 8,
    "dense_tops_16bit": 16,
    "dense_tops_32bit": 32,
    "dense_tops_64bit": 64,
}

_UNITS = {
    "die_area": "mm2",
    "interconnect_bw": "GB/s",
    "dram_bw": "GB/s",
    "memory_bw_density": "GB/s per mm2",
}

_YES = {"yes", "y", "true"}
_NO = {"no", "n", "false"}


def _fold(text: str) -> str:
    """Lookup key: case-folded letters and digits only (punctuation and spaces dropped)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


@attrs.frozen
class ChipSpec:
    """One catalog row: a real product and its public figures."""

    name: str
    vendor: str
    aliases: tuple[str, ...] = ()
    released: int | None = None
    datacenter: bool | None = None
    tops: dict[int, Decimal] = attrs.field(factory=dict, hash=False)
    die_area: Decimal | None = None
    interconnect_bw: Decimal | None = None
    dram_bw: Decimal | None = None
    memory_bw_density: Decimal | None = None
    hbm: bool = False
    source: str = ""
    notes: str = ""
    line: int = 0

    @property
    def tpp(self) -> Decimal | None:
        """Total processing performance: max over bit lengths of dense TOPS x bits."""
        if not self.tops:
            return None
        return max(value * bits for bits, value in self.tops.items())

    @property
    def performance_density(self) -> Decimal | None:
        """TPP divided by the applicable die area, when both are known."""
        tpp = self.tpp
        if tpp is None or self.die_area is None:
            return None
        return tpp / self.die_area

    @property
    def item_kind(self) -> str:
        return "hbm" if self.hbm else "ic"

    def fields(self) -> dict:
        """The record fields this product fills; unknown figures are left out."""
        out: dict = {}
        values = {
            "tpp": self.tpp,
            "die_area": self.die_area,
            "datacenter": self.datacenter,
            "interconnect_bw": self.interconnect_bw,
            "dram_bw": self.dram_bw,
            "memory_bw_density": self.memory_bw_density,
        }
        for key, value in values.items():
            if value is not None:
                out[key] = value
        out["item_kind"] = self.item_kind
        return out


class Catalog:
    """A loaded chip catalog with forgiving name lookup."""

    def __init__(self, specs: Iterable[ChipSpec], path: str = "<catalog>"):
        self.path = path
        self._specs: list[ChipSpec] = list(specs)
        self._by_key: dict[str, ChipSpec] = {}
        derived: dict[str, set[int]] = {}
        for spec in self._specs:
            for form in (spec.name, *spec.aliases):
                self._by_key[_fold(form)] = spec
        # Vendor-less forms ("H100 SXM" for "NVIDIA H100 SXM") are added only where they
        # are unambiguous and do not shadow a name or alias of another product.
        for index, spec in enumerate(self._specs):
            vendor = _fold(spec.vendor)
            for form in (spec.name, *spec.aliases):
                key = _fold(form)
                if vendor and key.startswith(vendor) and len(key) > len(vendor):
                    derived.setdefault(key[len(vendor) :], set()).add(index)
        for key, owners in derived.items():
            if key not in self._by_key and len(owners) == 1:
                self._by_key[key] = self._specs[next(iter(owners))]
        # records repeat a few chip names: remember each name's answer (bounded)
        self._found: Memo = Memo(10_000)
        self._suggested: Memo = Memo(10_000)
        self._forms: dict[str, str] | None = None  # folded name or alias -> canonical name

    def __iter__(self) -> Iterator[ChipSpec]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.lookup(name) is not None

    def names(self) -> list[str]:
        """Canonical product names, in file order."""
        return [spec.name for spec in self._specs]

    def lookup(self, name: str) -> ChipSpec | None:
        """Find a product by name or alias, ignoring case, punctuation, spaces and vendor."""
        try:
            return self._found[name]
        except KeyError:
            pass
        return self._found.remember(name, self._lookup(name))

    def _lookup(self, name: str) -> ChipSpec | None:
        key = _fold(name)
        if not key:
            return None
        found = self._by_key.get(key)
        if found is not None:
            return found
        # "Nvidia H100 SXM5" style: a vendor prefix on an alias that was written without it.
        for spec in self._specs:
            vendor = _fold(spec.vendor)
            if vendor and key.startswith(vendor) and len(key) > len(vendor):
                hit = self._by_key.get(key[len(vendor) :])
                if hit is not None and _fold(hit.vendor) == vendor:
                    return hit
        return None

    def __getitem__(self, name: str) -> ChipSpec:
        spec = self.lookup(name)
        if spec is None:
            hint = self.suggest(name)
            extra = f"; did you mean {hint!r}?" if hint else ""
            raise KeyError(f"no chip named {name!r} in {self.path}{extra}")
        return spec

    def suggest(self, name: str) -> str | None:
        """A close canonical name for a name that was not found, or None."""
        if name not in self._suggested:
            return self._suggested.remember(name, self._suggest(name))
        return self._suggested[name]

    def _suggest(self, name: str) -> str | None:
        key = _fold(name)
        if not key:
            return None
        if self._forms is None:
            self._forms = {}
            for spec in self._specs:
                for form in (spec.name, *spec.aliases):
                    self._forms.setdefault(_fold(form), spec.name)
        # difflib's ratio never exceeds rapidfuzz's (its matching blocks are one common
        # subsequence, rapidfuzz's ratio counts the longest), so the forms below the cutoff
        # for rapidfuzz are below it for difflib too: the answer is difflib's, found faster
        near = [form for form, _, _ in process.extract(key, list(self._forms), scorer=fuzz.ratio,
                                                       score_cutoff=59.9, limit=None)]
        match = difflib.get_close_matches(key, near, n=1, cutoff=0.6)
        return self._forms[match[0]] if match else None


# ---------------------------------------------------------------------------
# Loading


def _location(path: str, line: int) -> str:
    return f"{path}:{line}"


def _parse_decimal(
    cell: str, column: str, path: str, line: int, diags: list[Diagnostic]
) -> Decimal | None:
    text = cell.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        diags.append(
            error(
                "catalog-number",
                f"column '{column}' holds {text!r}, which is not a number",
                location=_location(path, line),
                help="write a plain decimal such as 624 or 989.5 (no units, no thousands "
                "separators), or leave the cell empty when the figure is not public",
            )
        )
        return None
    if not value.is_finite() or value <= 0:
        diags.append(
            error(
                "catalog-number",
                f"column '{column}' holds {text!r}; it must be a positive finite number",
                location=_location(path, line),
                help="leave the cell empty when the figure is not public",
            )
        )
        return None
    return value


def _parse_flag(
    cell: str, column: str, path: str, line: int, diags: list[Diagnostic]
) -> bool | None:
    text = cell.strip().casefold()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    diags.append(
        error(
            "catalog-flag",
            f"column '{column}' holds {cell.strip()!r}; expected yes or no",
            location=_location(path, line),
            help="write yes or no, or leave the cell empty when it is not known",
        )
    )
    return None


def _split_aliases(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(";") if part.strip())


def load_catalog(path: str | Path) -> Catalog:
    """Load and check a chip catalog CSV. Raises DataError listing every bad row."""
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(
            f"cannot read chip catalog {where}: {exc.strerror or exc}",
            [
                error(
                    "catalog-file",
                    f"cannot read chip catalog: {exc.strerror or exc}",
                    location=where,
                )
            ],
        ) from exc

    diags: list[Diagnostic] = []
    records = list(csv_records(text))
    if not records:
        raise DataError(
            f"{where}: empty chip catalog",
            [
                error(
                    "catalog-header",
                    "the chip catalog is empty",
                    location=f"{where}:1",
                    help="the first line must be the header: " + ",".join(COLUMNS),
                )
            ],
        )
    header_line, header = records[0]
    header = [h.strip() for h in header]
    if tuple(header) != COLUMNS:
        missing = [c for c in COLUMNS if c not in header]
        extra = [c for c in header if c not in COLUMNS]
        bits = []
        if missing:
            bits.append("missing " + ", ".join(missing))
        if extra:
            bits.append("unexpected " + ", ".join(extra))
        if not bits:
            bits.append("columns out of order")
        raise DataError(
            f"{where}: bad catalog header",
            [
                error(
                    "catalog-header",
                    "bad catalog header: " + "; ".join(bits),
                    location=_location(where, header_line),
                    help="the header must be exactly: " + ",".join(COLUMNS),
                )
            ],
        )

    specs: list[ChipSpec] = []
    seen: dict[str, tuple[str, int]] = {}
    for line, row in records[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            diags.append(
                error(
                    "catalog-row",
                    f"row has {len(row)} cells; the header has {len(COLUMNS)}",
                    location=_location(where, line),
                    help="quote cells that contain commas, and keep one cell per column",
                )
            )
            continue
        cells = dict(zip(COLUMNS, row, strict=True))
        before = len(diags)
        name = cells["name"].strip()
        vendor = cells["vendor"].strip()
        if not name:
            diags.append(
                error(
                    "catalog-name",
                    "column 'name' is empty",
                    location=_location(where, line),
                    help="give the product name with its vendor, e.g. 'NVIDIA H100 SXM'",
                )
            )
        if not vendor:
            diags.append(
                error(
                    "catalog-vendor",
                    "column 'vendor' is empty",
                    location=_location(where, line),
                    help="name the company that designs the product, e.g. NVIDIA",
                )
            )
        released: int | None = None
        rel = cells["released"].strip()
        if rel:
            if re.fullmatch(r"(19|20)\d\d", rel):
                released = int(rel)
            else:
                diags.append(
                    error(
                        "catalog-released",
                        f"column 'released' holds {rel!r}; expected a four-digit year",
                        location=_location(where, line),
                        help="write the year of release, e.g. 2023, or leave it empty",
                    )
                )
        datacenter = _parse_flag(cells["datacenter"], "datacenter", where, line, diags)
        hbm_flag = _parse_flag(cells["hbm"], "hbm", where, line, diags)
        tops: dict[int, Decimal] = {}
        for column, bits in TOPS_COLUMNS.items():
            value = _parse_decimal(cells[column], column, where, line, diags)
            if value is not None:
                tops[bits] = value
        numbers = {
            column: _parse_decimal(cells[column], column, where, line, diags) for column in _UNITS
        }
        if numbers["memory_bw_density"] is not None and not hbm_flag:
            diags.append(
                error(
                    "catalog-density",
                    "column 'memory_bw_density' is only for HBM stack products, but 'hbm' is not yes",
                    location=_location(where, line),
                    help="set hbm to yes for an HBM stack product, or clear memory_bw_density",
                )
            )
        source = cells["source"].strip()
        if not re.match(r"https?://\S+$", source):
            diags.append(
                error(
                    "catalog-source",
                    "column 'source' must be the URL of the public datasheet or report"
                    + (f"; got {source!r}" if source else " but is empty"),
                    location=_location(where, line),
                    help="give an http(s) URL where the figures can be checked",
                )
            )
        aliases = _split_aliases(cells["aliases"])
        for form in (name, *aliases):
            key = _fold(form)
            if not key:
                continue
            if key in seen and seen[key][1] != line:
                other_name, other_line = seen[key]
                diags.append(
                    error(
                        "catalog-duplicate",
                        f"{form!r} is already used by {other_name!r} at line {other_line}",
                        location=_location(where, line),
                        help="names and aliases must be unique across the catalog "
                        "(case, spaces and punctuation are ignored)",
                    )
                )
            else:
                seen.setdefault(key, (name, line))
        if len(diags) != before:
            continue
        specs.append(
            ChipSpec(
                name=name,
                vendor=vendor,
                aliases=aliases,
                released=released,
                datacenter=datacenter,
                tops=tops,
                die_area=numbers["die_area"],
                interconnect_bw=numbers["interconnect_bw"],
                dram_bw=numbers["dram_bw"],
                memory_bw_density=numbers["memory_bw_density"],
                hbm=bool(hbm_flag),
                source=source,
                notes=cells["notes"].strip(),
                line=line,
            )
        )
    if diags:
        count = len(diags)
        raise DataError(
            f"{where}: {count} problem{'s' if count != 1 else ''} in the chip catalog", diags
        )
    return Catalog(specs, where)


__all__ = ["COLUMNS", "TOPS_COLUMNS", "Catalog", "ChipSpec", "load_catalog"]
