"""`chip is "NAME"`: is this record the chip catalog's product NAME?

True when the record names the product or one of its aliases; false when it names
another; without a name, false when a figure it gives differs from the catalog's,
else unknown (missing `chip`). The compiled backend, the reference interpreter and
the DuckDB plan must agree on every record.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from decimal import Decimal

import pytest
from click.testing import CliRunner

import chiprules
from chiprules import model as M
from chiprules.cli import main
from chiprules.editor.complete import completion
from chiprules.editor.service import Workspace
from chiprules.model.walk import atoms

from .conftest import ROOT
from .test_batch import assert_same_as_record_engine, write_csv
from .test_differential import reference_parts

ON = dt.date(2025, 6, 1)

RULES = """\
ruleset product
  title "Named products"
  version 2025-01-01
  effective 2025-01-01
  source "test"

include "fields.rules"

classify 3A090.z "Anything"
  cite "z"
  when item_kind in {ic, computer, hbm}

require license h20 "The H20 by name, or a figure of it"
  cite "letter"
  for 3A090.z
  when destination in {CN, MO} and (chip is "HGX H20" or dram_bw >= 4000 GB/s)
  review case_by_case
  allows none

example "An alias names the product"
  record { chip: "NVIDIA HGX H20", destination: CN }
  expect license_required classified 3A090.z review case_by_case

example "Named, whatever the figures given"
  record { chip: "NVIDIA H20", dram_bw: 100 GB/s, tpp: 1, destination: CN }
  expect license_required classified 3A090.z review case_by_case

example "Another product by name"
  record { chip: "NVIDIA A100 SXM", destination: CN }
  expect no_license_required classified 3A090.z

example "No name, TPP 2368.01: not the H20's 2368"
  record { tpp: 2368.01, dram_bw: 3999.99 GB/s, destination: CN }
  expect no_license_required classified 3A090.z

example "No name, TPP 2368 and 3999.99 GB/s: a figure differs"
  record { tpp: 2368, dram_bw: 3999.99 GB/s, destination: CN }
  expect no_license_required classified 3A090.z

example "No name, the H20's TPP and die, no bandwidth: it could be the H20"
  record { tpp: 2368, die_area: 814 mm2, destination: CN }
  expect indeterminate classified 3A090.z missing chip, dram_bw
"""


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    root = tmp_path_factory.mktemp("product")
    (root / "chiprules.toml").write_text('catalog = "chips.csv"\n', encoding="utf-8")
    shutil.copy(ROOT / "rules" / "fields.rules", root / "fields.rules")
    shutil.copy(ROOT / "rules" / "chips.csv", root / "chips.csv")
    (root / "product.rules").write_text(RULES, encoding="utf-8")
    return root / "product.rules"


@pytest.fixture(scope="module")
def rules(path):
    return chiprules.load(path)


def test_the_inline_examples_hold(path):
    res = CliRunner().invoke(main, ["test", str(path)])
    assert res.exit_code == 0, res.output
    assert "6 passed, 0 failed" in res.output


def test_the_alias_in_the_rules_resolves_to_the_catalog_name(rules):
    model = rules.version_on(ON).model
    (req,) = model.requirements
    (found,) = [a for a in atoms(req.when) if isinstance(a, M.IsProduct)]
    assert found.product == "NVIDIA H20"
    assert dict(found.figures) == {"tpp": Decimal(2368), "die_area": Decimal(814), "datacenter": True,
                                   "interconnect_bw": Decimal(900), "dram_bw": Decimal(4000), "item_kind": "ic"}


def test_the_explanation_gives_the_catalog_name(rules):
    d = rules.evaluate({"tpp": 2368, "dram_bw": 1000, "destination": "CN", "item_kind": "ic",
                        "die_area": 800}, as_of=ON)
    assert d.outcome == "no_license_required"
    d = rules.evaluate({"chip": "HGX H20", "destination": "CN"}, as_of=ON)
    assert 'because chip is "HGX H20" (chip = NVIDIA H20)' in d.explain()


def test_an_unknown_product_is_a_located_error_with_a_suggestion(tmp_path):
    root = tmp_path
    (root / "chiprules.toml").write_text('catalog = "chips.csv"\n', encoding="utf-8")
    shutil.copy(ROOT / "rules" / "fields.rules", root / "fields.rules")
    shutil.copy(ROOT / "rules" / "chips.csv", root / "chips.csv")
    (root / "bad.rules").write_text(RULES.replace('"HGX H20"', '"HGX H2O"'), encoding="utf-8")
    res = CliRunner().invoke(main, ["check", str(root / "bad.rules")])
    assert res.exit_code == 1
    assert "bad.rules:16:" in res.output and "error[E231]: no product `HGX H2O`" in res.output
    assert "did you mean `NVIDIA H20`?" in res.output and "Traceback" not in res.output


def test_without_a_catalog_the_test_is_refused(tmp_path):
    (tmp_path / "chiprules.toml").write_text("# no catalog\n", encoding="utf-8")
    shutil.copy(ROOT / "rules" / "fields.rules", tmp_path / "fields.rules")
    (tmp_path / "p.rules").write_text(RULES, encoding="utf-8")
    res = CliRunner().invoke(main, ["check", str(tmp_path / "p.rules")])
    assert res.exit_code == 1 and "error[E231]: `is` asks the chip catalog" in res.output


def test_the_editor_offers_the_catalogs_products(path):
    ws = Workspace()
    text = path.read_text(encoding="utf-8")
    offset = text.index('"HGX H20"')
    found = {c.label: c for c in completion(ws, path, offset)}
    assert "NVIDIA H20" in found and found["NVIDIA H20"].insert_text == '"NVIDIA H20"'


GRID = {
    "chip": [None, "HGX H20", "NVIDIA H100 SXM", "Example accelerator"],
    "tpp": [None, Decimal(2368), Decimal("2368.01")],
    "die_area": [None, Decimal(814)],
    "dram_bw": [None, Decimal(4000), Decimal("3999.99")],
    "datacenter": [None, False],
    "destination": ["CN", "JP"],
}


def grid_records():
    for combo in itertools.product(*GRID.values()):
        yield {k: v for k, v in zip(GRID, combo, strict=True) if v is not None}


def test_compiled_and_reference_agree_on_a_grid(rules):
    for record in grid_records():
        d = rules.evaluate(record, as_of=ON)
        got = (str(d.outcome), tuple(d.classification), d.review_policy,
               tuple((g.name, tuple(g.notify)) for g in d.license_exceptions), tuple(d.missing))
        assert got == reference_parts(rules, record, ON)[:5], record


def test_duckdb_agrees_on_a_grid(rules, tmp_path):
    rows = [{**r, "export_date": ON.isoformat()} for r in grid_records()]
    path = tmp_path / "grid.csv"
    write_csv(path, rows)
    out = assert_same_as_record_engine(rules, path)
    assert {r["outcome"] for r in out} == {"license_required", "no_license_required", "indeterminate"}


def test_the_h20_letter_by_name_on_the_shipped_rules():
    rules = chiprules.load(ROOT / "rules" / "ear")
    d = rules.evaluate({"chip": "HGX H20", "dram_bw": 1000, "interconnect_bw": 100, "destination": "CN",
                        "end_user": "Example Cloud Co.", "end_user_hq": "CN"}, as_of="2025-06-01")
    assert (d.outcome, d.review_policy, d.rules_fired) == ("license_required", "case_by_case", ("h20_letter",))


def test_hover_on_the_product_shows_its_catalog_figures(path):
    from chiprules.editor.hover import hover

    ws = Workspace()
    text = path.read_text(encoding="utf-8")
    h = hover(ws, path, text.index('"HGX H20"') + 3)
    assert h is not None and "**NVIDIA H20** (NVIDIA)" in h.markdown and "dram_bw 4000" in h.markdown
