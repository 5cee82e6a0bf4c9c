"""The chip catalog: loading, lookup, and the published reference figures."""

from __future__ import annotations

import csv
import difflib
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chiprules.core.errors import DataError
from chiprules.data.catalog import COLUMNS, Catalog, ChipSpec, _fold, load_catalog

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "rules" / "chips.csv"

REQUIRED = [
    "NVIDIA A100 SXM",
    "NVIDIA A800 SXM",
    "NVIDIA H100 SXM",
    "NVIDIA H100 PCIe",
    "NVIDIA H800 SXM",
    "NVIDIA H20",
    "NVIDIA H200 SXM",
    "NVIDIA B200",
    "NVIDIA B100",
    "NVIDIA L40S",
    "NVIDIA L20",
    "NVIDIA L4",
    "NVIDIA A30",
    "NVIDIA A10",
    "NVIDIA GeForce RTX 4090",
    "NVIDIA GeForce RTX 4090 D",
    "NVIDIA GeForce RTX 5090",
    "AMD Instinct MI250X",
    "AMD Instinct MI300X",
    "AMD Instinct MI325X",
    "AMD Radeon RX 7900 XTX",
    "Intel Gaudi 2",
    "Intel Gaudi 3",
    "Google TPU v4",
    "Google TPU v5e",
    "Google TPU v5p",
    "Huawei Ascend 910B",
    "Huawei Ascend 910C",
    "Cambricon MLU370-X8",
    "Biren BR100",
    "Moore Threads MTT S4000",
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG)


def write_catalog(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return path


def good_row(**over: str) -> dict[str, str]:
    row = {
        "name": "Example X1",
        "vendor": "Example",
        "aliases": "X1",
        "released": "2024",
        "datacenter": "yes",
        "dense_tops_8bit": "100",
        "die_area": "400",
        "hbm": "no",
        "source": "https://example.com/x1",
    }
    row.update(over)
    return row


# --- the real catalog ---------------------------------------------------------


def test_every_row_loads(catalog: Catalog) -> None:
    with CATALOG.open(encoding="utf-8") as f:
        data_rows = list(csv.DictReader(f))
    assert len(catalog) == len(data_rows) >= 32
    assert catalog.names() == [row["name"] for row in data_rows]


def test_header_is_exactly_the_documented_columns() -> None:
    with CATALOG.open(encoding="utf-8") as f:
        assert next(csv.reader(f)) == list(COLUMNS)


@pytest.mark.parametrize("name", REQUIRED)
def test_required_products_are_present(catalog: Catalog, name: str) -> None:
    assert catalog.lookup(name) is not None


def test_a100_tpp_is_exactly_4992(catalog: Catalog) -> None:
    # 624 TOPS INT8 dense x 8 bits (also 312 x 16 and 1248 x 4).
    assert catalog["NVIDIA A100 SXM"].tpp == Decimal("4992")


def test_h100_sxm_tpp_is_exactly_15832(catalog: Catalog) -> None:
    # 1979 TFLOPS FP8 dense x 8 bits.
    assert catalog["H100 SXM"].tpp == Decimal("15832")


def test_h200_has_h100_tpp_and_4800_gbs(catalog: Catalog) -> None:
    h200 = catalog["H200"]
    assert h200.tpp == Decimal("15832")
    assert h200.dram_bw == Decimal("4800")


def test_b200_tpp_and_bandwidth(catalog: Catalog) -> None:
    b200 = catalog["B200"]
    assert b200.tpp == Decimal("36000")  # about 4.5 PFLOPS FP8 dense
    assert b200.dram_bw == Decimal("8000")


def test_china_variants_cut_only_the_interconnect(catalog: Catalog) -> None:
    assert catalog["A800 SXM"].tpp == catalog["A100 SXM"].tpp
    assert catalog["A100 SXM"].interconnect_bw == 600
    assert catalog["A800 SXM"].interconnect_bw == 400
    assert catalog["H800 SXM"].tpp == catalog["H100 SXM"].tpp
    assert catalog["H100 SXM"].interconnect_bw == 900
    assert catalog["H800 SXM"].interconnect_bw == 400


def test_h20_is_outside_3a090_under_the_2023_rule(catalog: Catalog) -> None:
    h20 = catalog["H20"]
    tpp, density = h20.tpp, h20.performance_density
    assert tpp == Decimal("2368")
    assert density is not None
    a = tpp >= 4800 or (tpp >= 1600 and density >= Decimal("5.92"))
    b = (Decimal(2400) <= tpp < 4800 and Decimal("1.6") <= density < Decimal("5.92")) or (
        tpp >= 1600 and Decimal("3.2") <= density < Decimal("5.92")
    )
    assert not a and not b


def test_rtx_4090_just_above_and_4090_d_just_below_4800(catalog: Catalog) -> None:
    assert catalog["RTX 4090"].tpp == Decimal("5284.8")  # 660.6 TFLOPS FP8 x 8
    d = catalog["RTX 4090 D"].tpp
    assert d is not None and Decimal(4700) < d < Decimal(4800)
    assert catalog["RTX 4090"].datacenter is False


def test_every_die_area_gives_a_finite_density(catalog: Catalog) -> None:
    with_area = [spec for spec in catalog if spec.die_area is not None]
    assert len(with_area) >= 15
    for spec in with_area:
        assert spec.die_area > 0
        if spec.tpp is not None:
            density = spec.performance_density
            assert density is not None and density.is_finite() and density > 0


def test_every_row_has_a_source_url(catalog: Catalog) -> None:
    for spec in catalog:
        assert spec.source.startswith(("http://", "https://")), spec.name


def test_hbm_stack_products(catalog: Catalog) -> None:
    stacks = [spec for spec in catalog if spec.hbm]
    assert stacks, "the catalog needs at least one HBM stack product"
    for spec in stacks:
        assert spec.item_kind == "hbm"
        assert spec.fields()["item_kind"] == "hbm"
        assert spec.tpp is None
        assert spec.dram_bw is not None
    for spec in catalog:
        if spec.memory_bw_density is not None:
            assert spec.hbm


def test_fields_leave_out_unknown_figures(catalog: Catalog) -> None:
    fields = catalog["NVIDIA H100 SXM"].fields()
    assert fields == {
        "tpp": Decimal("15832"),
        "die_area": Decimal("814"),
        "datacenter": True,
        "interconnect_bw": Decimal("900"),
        "dram_bw": Decimal("3350"),
        "item_kind": "ic",
    }
    b200 = catalog["NVIDIA B200"].fields()
    assert "die_area" not in b200 and "memory_bw_density" not in b200
    unknown = catalog["Huawei Ascend 910B"].fields()
    assert "tpp" not in unknown and unknown["item_kind"] == "ic"


def test_tpp_is_exact_decimal_arithmetic() -> None:
    spec = ChipSpec(name="T", vendor="V", tops={8: Decimal("0.1"), 16: Decimal("0.05")})
    assert spec.tpp == Decimal("0.8")
    assert ChipSpec(name="T", vendor="V").tpp is None


# --- lookup -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("NVIDIA H100 SXM", "NVIDIA H100 SXM"),
        ("nvidia h100 sxm", "NVIDIA H100 SXM"),
        ("H100 SXM", "NVIDIA H100 SXM"),
        ("H100-SXM", "NVIDIA H100 SXM"),
        ("  h100   sxm5 ", "NVIDIA H100 SXM"),
        ("NVIDIA H100", "NVIDIA H100 SXM"),
        ("Nvidia A100 SXM4", "NVIDIA A100 SXM"),
        ("RTX4090", "NVIDIA GeForce RTX 4090"),
        ("GeForce RTX 4090 D", "NVIDIA GeForce RTX 4090 D"),
        ("mi300x", "AMD Instinct MI300X"),
        ("Instinct MI325X", "AMD Instinct MI325X"),
        ("TPU v5e", "Google TPU v5e"),
        ("Gaudi3", "Intel Gaudi 3"),
        ("Ascend 910C", "Huawei Ascend 910C"),
        ("MTT S4000", "Moore Threads MTT S4000"),
    ],
)
def test_lookup_forgives_case_punctuation_spaces_and_vendor(
    catalog: Catalog, query: str, expected: str
) -> None:
    found = catalog.lookup(query)
    assert found is not None and found.name == expected


def test_lookup_miss_and_suggestion(catalog: Catalog) -> None:
    assert catalog.lookup("H100 SXN") is None
    assert catalog.lookup("") is None
    assert catalog.suggest("H100 SXN") == "NVIDIA H100 SXM"
    assert catalog.suggest("zzzzzzzz") is None
    with pytest.raises(KeyError, match="did you mean"):
        catalog["H100 SXN"]


# --- malformed catalogs ---------------------------------------------------------


def test_good_minimal_catalog(tmp_path: Path) -> None:
    cat = load_catalog(write_catalog(tmp_path / "c.csv", [good_row()]))
    spec = cat["X1"]
    assert spec.line == 2
    assert spec.tpp == Decimal("800")
    assert spec.performance_density == Decimal(2)


def test_bad_number_is_located_and_names_the_column(tmp_path: Path) -> None:
    path = write_catalog(
        tmp_path / "c.csv",
        [good_row(), good_row(name="Example X2", aliases="X2", dense_tops_16bit="1,979")],
    )
    with pytest.raises(DataError) as info:
        load_catalog(path)
    (diag,) = info.value.diagnostics
    assert diag.location == f"{path}:3"
    assert "dense_tops_16bit" in diag.message
    assert diag.help


def test_every_bad_row_is_reported_at_once(tmp_path: Path) -> None:
    path = write_catalog(
        tmp_path / "c.csv",
        [
            good_row(datacenter="maybe"),
            good_row(name="Example X2", aliases="X2", die_area="-5"),
            good_row(name="Example X3", aliases="X3", released="23"),
            good_row(name="Example X4", aliases="X4", source=""),
            good_row(name="", aliases="X5"),
        ],
    )
    with pytest.raises(DataError) as info:
        load_catalog(path)
    by_line = {d.location: d.message for d in info.value.diagnostics}
    assert "datacenter" in by_line[f"{path}:2"]
    assert "die_area" in by_line[f"{path}:3"]
    assert "released" in by_line[f"{path}:4"]
    assert "source" in by_line[f"{path}:5"]
    assert "name" in by_line[f"{path}:6"]


def test_duplicate_names_and_aliases_are_errors(tmp_path: Path) -> None:
    path = write_catalog(
        tmp_path / "c.csv",
        [good_row(), good_row(name="Example Y", aliases="x-1")],
    )
    with pytest.raises(DataError) as info:
        load_catalog(path)
    (diag,) = info.value.diagnostics
    assert diag.location == f"{path}:3"
    assert "line 2" in diag.message


def test_density_only_for_hbm(tmp_path: Path) -> None:
    path = write_catalog(tmp_path / "c.csv", [good_row(memory_bw_density="7.4")])
    with pytest.raises(DataError) as info:
        load_catalog(path)
    assert "memory_bw_density" in info.value.diagnostics[0].message
    ok = write_catalog(
        tmp_path / "ok.csv",
        [good_row(hbm="yes", memory_bw_density="7.4", dense_tops_8bit="", die_area="")],
    )
    spec = load_catalog(ok)["X1"]
    assert spec.item_kind == "hbm"
    assert spec.fields()["memory_bw_density"] == Decimal("7.4")


def test_wrong_header_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("name,vendor\nA,B\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_catalog(path)
    diag = info.value.diagnostics[0]
    assert diag.location == f"{path}:1"
    assert "missing" in diag.message


def test_short_row_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(",".join(COLUMNS) + "\nA,B,C\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_catalog(path)
    assert info.value.diagnostics[0].location == f"{path}:2"


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        load_catalog(tmp_path / "nope.csv")


@settings(max_examples=300)
@given(st.text(alphabet="abcdefghmnprstx0123456789 -HAIMV", min_size=1, max_size=24))
def test_suggestion_is_difflibs_own(name: str) -> None:
    """The catalog's "did you mean" is difflib's closest form over every name and alias,
    whatever prefilter finds it."""
    catalog = load_catalog(CATALOG)
    forms: dict[str, str] = {}
    for spec in catalog:
        for form in (spec.name, *spec.aliases):
            forms.setdefault(_fold(form), spec.name)
    key = _fold(name)
    match = difflib.get_close_matches(key, list(forms), n=1, cutoff=0.6) if key else []
    assert catalog.suggest(name) == (forms[match[0]] if match else None)
