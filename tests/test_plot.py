"""Region maps of the TPP x performance-density plane, their pictures and the plot command."""

from __future__ import annotations

import json
import sys
from decimal import Decimal

import pytest
from click.testing import CliRunner

import chiprules
from chiprules.cli import main
from chiprules.report import plot

from .conftest import GOLDEN, ROOT

RULES_DIR = ROOT / "rules" / "ear"
RULES_2023 = RULES_DIR / "2023-11-17.rules"  # one version loads faster than the folder
RULES = chiprules.load(RULES_DIR)
TOY_RULES = """\
ruleset toy version 2024-01-01 effective 2024-01-01 source "test"
field destination: country
field end_user: party
field end_user_hq: country
field tpp: number TPP
field performance_density: number TPP/mm2
field datacenter: bool
classify 3A090.a cite "x"
  when tpp > 1000 and performance_density <= 2 TPP/mm2
classify 3A090.b cite "y"
  when tpp == 500
"""


def expected_label(rules, model, region_map, tpp, density) -> str:
    """What the evaluator says at a point, written the way a map labels it."""
    record = {"tpp": Decimal(tpp), "performance_density": Decimal(density),
              "datacenter": region_map.datacenter,
              "destination": region_map.destination or "US",
              "end_user_hq": region_map.destination or "US",
              "end_user": plot.UNLISTED_END_USER, "end_user_parent": plot.UNLISTED_END_USER,
              "interconnect_bw": Decimal(900), "chip": plot.UNNAMED_CHIP, **region_map.fixed}
    d = rules.evaluate(record, as_of=region_map.as_of, timeline=model.timeline)
    assert d.ruleset.version == model.version
    if d.outcome == "indeterminate":
        return "indeterminate (missing " + ", ".join(d.missing) + ")"
    if region_map.destination is None:
        return ", ".join(d.classification) or "not controlled"
    text = d.outcome
    if d.license_exceptions:
        text += " " + "+".join(g.name for g in d.license_exceptions)
    return text + (f" ({d.review_policy})" if d.review_policy else "")


def samples(r: plot.Rect) -> list[tuple[Decimal, Decimal]]:
    """Points inside a rectangle, on its lower and left edges and at its lower-left corner."""
    x1 = r.x1 if r.x1 != plot.INF else max(r.x0 * 4, Decimal(100_000))
    y1 = r.y1 if r.y1 != plot.INF else max(r.y0 * 4, Decimal(40))
    eps_x, eps_y = (x1 - r.x0) / 1000, (y1 - r.y0) / 1000
    xs = [r.x0, r.x0 + eps_x, (r.x0 + x1) / 2, x1 - eps_x]
    ys = [r.y0, r.y0 + eps_y, (r.y0 + y1) / 2, y1 - eps_y]
    return [(x, y) for x in xs for y in ys]


CASES = [
    ("2022-10-07", None, True, {}),
    ("2022-10-07", "CN", True, {}),
    ("2023-11-17", None, True, {}),
    ("2023-11-17", None, False, {}),
    ("2023-11-17", "CN", True, {}),
    ("2023-11-17", "VN", False, {}),
    ("2024-04-04", "CN", False, {}),
    ("2025-01-15-written", "IN", True, {}),
    ("2026-07-14", "CN", True, {"dram_bw": Decimal(4800)}),
    ("2026-07-14", "CN", True, {"dram_bw": Decimal(8000)}),
]


@pytest.mark.parametrize("version, destination, datacenter, fixed", CASES)
def test_every_rectangle_is_what_the_evaluator_decides(version, destination, datacenter, fixed):
    model = RULES.version(version)
    m = plot.regions(model, rules=RULES, destination=destination, datacenter=datacenter, fixed=fixed)
    assert m.edges == ()  # the real rules use >= and <: half-open boxes are exact
    covered = set()
    for r in m.rects:
        for x, y in samples(r):
            assert expected_label(RULES, model, m, x, y) == r.label, (version, r, x, y)
            assert m.label_at(x, y) == r.label
            covered.add(r.label)
    assert covered == set(m.labels)


def test_rectangles_tile_the_plane():
    m = plot.regions("2023-11-17", rules=RULES)
    for x, y in [(0, 0), (1599.99, 100), (4800, 0), (100_000, 5.92), (2400, 1.6), (1e9, 1e9)]:
        hits = [r for r in m.rects if r.contains(x, y)]
        assert len(hits) == 1, (x, y, hits)
        assert hits[0].label == m.label_at(x, y)


def test_2023_regions_start_exactly_at_the_thresholds():
    m = plot.regions("2023-11-17", rules=RULES)
    assert m.labels == ("not controlled", "3A090.a", "3A090.b")
    a = [r for r in m.rects if r.label == "3A090.a"]
    assert (Decimal(4800), Decimal(0)) in {(r.x0, r.y0) for r in a}
    assert (Decimal(1600), Decimal("5.92")) in {(r.x0, r.y0) for r in a}
    assert m.label_at(4800, 0) == "3A090.a"
    assert m.label_at(Decimal("4799.99"), 0) == "not controlled"
    assert m.label_at(1600, Decimal("5.92")) == "3A090.a"
    assert m.label_at(Decimal("1599.99"), Decimal("5.92")) == "not controlled"
    assert m.label_at(1600, Decimal("5.9199")) == "3A090.b"
    assert [t.shown for t in m.x.lines] == ["TPP 1600", "TPP 2400", "TPP 4800"]
    assert [t.shown for t in m.y.lines] == ["1.6 TPP/mm2", "3.2 TPP/mm2", "5.92 TPP/mm2"]


def test_note_2_takes_the_low_tpp_regions_away_from_non_datacenter_chips():
    m = plot.regions("2023-11-17", rules=RULES, datacenter=False)
    assert m.labels == ("not controlled", "3A090.a")
    assert m.label_at(4000, 8) == "not controlled"
    assert [t.shown for t in m.x.lines] == ["TPP 4800"] and m.y.lines == ()


def test_2022_map_has_the_tpp_line_only_and_holds_the_interconnect():
    m = plot.regions("2022-10-07", rules=RULES, destination="CN")
    assert m.y.thresholds == ()
    assert [t.shown for t in m.x.lines] == ["TPP 4800"]
    assert m.held == ("interconnect_bw 600 GB/s",)  # meets the 2022 test of 600 GB/s or more
    low = plot.regions("2022-10-07", rules=RULES, destination="CN", fixed={"interconnect_bw": "400 GB/s"})
    assert low.labels == ("no_license_required",) and low.held == ()


def test_a_threshold_that_decides_nothing_draws_no_line():
    # TPP 21000 only sets the review policy for China, with a known DRAM bandwidth
    cls = plot.regions("2026-07-14", rules=RULES)
    assert "TPP 21000" in [t.shown for t in cls.x.thresholds]
    assert "TPP 21000" not in [t.shown for t in cls.x.lines]
    cn = plot.regions("2026-07-14", rules=RULES, destination="CN", fixed={"dram_bw": "4800 GB/s"})
    assert "TPP 21000" in [t.shown for t in cn.x.lines]
    assert cn.label_at(20999, 10) == "license_required (case_by_case)"
    assert cn.label_at(21000, 10) == "license_required (presumption_of_denial)"


def test_a_held_fact_that_moves_the_review_policy_is_named():
    # DRAM bandwidth sets China's review in 2026 (below 6,500 GB/s: case by case) and the H20
    # letter's reach; the plane holds it below both the letter's reach and its unsettled zone
    m = plot.regions("2026-07-14", rules=RULES, destination="CN")
    assert "dram_bw 1000 GB/s" in m.held and "interconnect_bw 600 GB/s" in m.held
    assert not any(label.startswith("indeterminate") for label in m.labels)


def test_strict_comparisons_leave_exact_edges(tmp_path):
    (tmp_path / "chiprules.toml").write_text("# root\n")
    (tmp_path / "toy.rules").write_text(TOY_RULES)
    rules = chiprules.load(tmp_path / "toy.rules")
    m = plot.regions(rules)
    assert m.label_at(1000, 1) == "not controlled"
    assert m.label_at(Decimal("1000.001"), 1) == "3A090.a"
    assert m.label_at(5000, 2) == "3A090.a"
    assert m.label_at(5000, Decimal("2.001")) == "not controlled"
    assert m.label_at(500, 7) == "3A090.b"
    assert plot.describe(m)["edges"] == [
        [500, 500, 0, "inf", "3A090.b"],
        [1000, 1000, 0, 2, "not controlled"],
        [1000, "inf", 2, 2, "3A090.a"],
    ]
    for x in (0, 500, 999, 1000, 1001, 10**6):
        for y in (0, 1, 2, Decimal("2.5"), 100):
            assert m.label_at(x, y) == expected_label(rules, rules.models[0], m, x, y)


def test_changes_from_2022_to_2023_for_china():
    ch = plot.changes("2022-10-07", "2023-11-17", rules=RULES, destination="CN")
    got = {(r.x0, r.x1, r.y0, r.y1, r.label) for r in ch}
    nac = "no_license_required -> license_exception NAC (presumption_of_denial)"
    req = "no_license_required -> license_required (presumption_of_denial)"
    assert got == {
        (Decimal(2400), Decimal(4800), Decimal("1.6"), Decimal("3.2"), nac),
        (Decimal(1600), Decimal(4800), Decimal("3.2"), Decimal("5.92"), nac),
        (Decimal(1600), Decimal(4800), Decimal("5.92"), plot.INF, req),
    }


def test_changes_agree_with_both_versions_pointwise():
    old, new = RULES.version("2023-11-17"), RULES.version("2024-12-02")
    ch = plot.changes(old, new, rules=RULES, destination="SG")
    a = plot.regions(old, rules=RULES, destination="SG")
    b = plot.regions(new, rules=RULES, destination="SG")
    for r in ch:
        for x, y in samples(r):
            assert f"{a.label_at(x, y)} -> {b.label_at(x, y)}" == r.label
    for r in b.rects:  # outside the changes, both versions agree
        for x, y in samples(r):
            if not any(c.contains(x, y) for c in ch):
                assert a.label_at(x, y) == b.label_at(x, y)


def test_a_bad_destination_or_an_axis_held_fixed_is_a_clean_error():
    with pytest.raises(chiprules.ChiprulesError, match="unknown country"):
        plot.regions(RULES, destination="XX")
    with pytest.raises(chiprules.ChiprulesError, match="axis"):
        plot.regions(RULES, fixed={"tpp": 5})
    with pytest.raises(chiprules.ChiprulesError, match="rules="):
        plot.regions("2023-11-17")


def test_describe_is_plain_json():
    m = plot.regions(RULES, as_of="2024-01-10")
    d = plot.describe(m)
    assert json.loads(json.dumps(d)) == d
    assert d["version"] == "2023-11-17" and d["as_of"] == "2024-01-10"


# ---- pictures --------------------------------------------------------------------------------


def test_missing_matplotlib_gives_the_install_hint(monkeypatch, tmp_path):
    m = plot.regions("2023-11-17", rules=RULES)  # maps need no matplotlib
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(chiprules.ChiprulesError) as info:
        plot.draw(m, tmp_path / "x.png")
    assert "pip install 'chiprules[plot]'" in info.value.render()
    result = CliRunner().invoke(main, ["plot", str(RULES_2023), "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 64
    assert "install the plot extra: pip install 'chiprules[plot]'" in result.output
    assert not (tmp_path / "x.png").exists()


def _summary(fig, region_map, changed=None) -> str:
    data = {"map": plot.describe(region_map, changed), "figure": plot.figure_summary(fig)}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def test_golden_2023_classification_figure(golden):
    pytest.importorskip("matplotlib")
    m = plot.regions(RULES, as_of="2024-01-10")
    fig = plot.draw(m, None, chips=RULES.catalog)
    summary = plot.figure_summary(fig)
    assert summary["label_overlaps"] == 0
    assert summary["title"] == "ear_advanced_computing version 2023-11-17 (effective 2023-11-17)"
    golden(GOLDEN / "plot" / "3a090-2023.json", _summary(fig, m))


def test_golden_change_figure(golden):
    pytest.importorskip("matplotlib")
    ch = plot.changes("2022-10-07", "2023-11-17", rules=RULES, destination="CN")
    m = plot.regions("2023-11-17", rules=RULES, destination="CN")
    fig = plot.draw(m, None, chips=RULES.catalog, changes=ch, against="2022-10-07")
    summary = plot.figure_summary(fig)
    assert summary["changes"] == sorted({r.label for r in ch})
    assert summary["label_overlaps"] == 0
    golden(GOLDEN / "plot" / "change-2022-to-2023.json", _summary(fig, m, ch))


def test_figure_structure_follows_the_map():
    pytest.importorskip("matplotlib")
    m = plot.regions("2023-11-17", rules=RULES, destination="VN")
    fig = plot.draw(m, None, chips=[plot.ChipPoint("Chip X", Decimal(3000), Decimal(4), False)])
    s = plot.figure_summary(fig)
    assert s["regions"] == list(m.labels)
    assert s["legend"][: len(m.labels)] == list(m.labels)
    assert s["legend"][len(m.labels):] == ["chip not for datacenters"]
    assert s["threshold_lines"] == [t.shown for t in m.x.lines] + [t.shown for t in m.y.lines]
    assert s["points"] == ["Chip X"] and s["xscale"] == "log" and s["yscale"] == "linear"
    assert "destination VN" in s["subtitle"]


def test_colours_are_fixed_per_label():
    assert plot.colour("3A090.a") == plot.colour("3A090.a") != plot.colour("3A090.b")
    assert plot.colour("some label") == plot.colour("some label")
    assert plot.colour("license_required (presumption_of_denial)") != \
        plot.colour("license_required (presumption_of_approval)")


def test_draw_refuses_other_formats(tmp_path):
    m = plot.regions("2023-11-17", rules=RULES)
    with pytest.raises(chiprules.ChiprulesError, match=r"\.png.*\.svg"):
        plot.draw(m, tmp_path / "x.pdf")


# ---- the command -------------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(main, ["plot", *map(str, args)])


def test_cli_writes_png_and_svg(tmp_path):
    pytest.importorskip("matplotlib")
    png, svg = tmp_path / "m.png", tmp_path / "m.svg"
    r = run(RULES_DIR, "--as-of", "2024-01-10", "--datacenter", "yes", "-o", png)
    assert r.exit_code == 0, r.output
    assert r.output.strip() == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = run(RULES_2023, "--destination", "CN", "-o", svg)
    assert r.exit_code == 0, r.output
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert 'id="region:license_required (presumption_of_denial)"' in text
    assert 'id="change:' not in text


def test_cli_against_adds_hatched_changes(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "c.svg"
    r = run(RULES_DIR, "--as-of", "2023-11-17", "--against", "2022-10-07", "--destination", "CN",
            "-o", out)
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert text.count('id="change:no_license_required -&gt; license_required (presumption_of_denial)"') == 1
    assert "<pattern" in text  # the hatching
    # a rules file works as well as a version id
    r = run(RULES_2023, "--against", RULES_DIR / "2022-10-07.rules",
            "--destination", "CN", "-o", tmp_path / "c2.svg")
    assert r.exit_code == 0, r.output
    assert 'id="change:' in (tmp_path / "c2.svg").read_text()


def test_cli_records_are_plotted_and_bad_rows_skipped(tmp_path):
    pytest.importorskip("matplotlib")
    rec = tmp_path / "r.csv"
    rec.write_text("id,chip,tpp,die_area,datacenter\n"
                   "a,,3000,1000,yes\n"
                   "b,NVIDIA H20,,,\n"
                   "c,,abc,10,yes\n")
    out = tmp_path / "r.svg"
    r = CliRunner().invoke(main, ["plot", str(RULES_2023), "--records", str(rec), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "skipped" in r.output and "r.csv:4" in r.output
    text = out.read_text()
    assert 'id="point:a"' in text and 'id="point:b: NVIDIA H20"' in text


@pytest.mark.parametrize("args, message", [
    (["-o", "x.pdf"], "`.png` or `.svg`"),
    (["--against", "1999", "-o", "x.png"], "no file, version or date"),
    (["--destination", "XX", "-o", "x.png"], "unknown country"),
    (["--as-of", "2020-01-01", "-o", "x.png"], "no version"),
    (["--as-of", "soon", "-o", "x.png"], "not a date"),
    (["--version", "1999", "-o", "x.png"], "no version `1999`"),
    (["--set", "dram_bw", "-o", "x.png"], "FIELD=VALUE"),
])
def test_cli_errors_are_clean(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    r = run(RULES_2023, *args)
    assert r.exit_code == 64, r.output
    assert message in r.output and "Traceback" not in r.output


# ---- the DRAM x interconnect bandwidth plane, and zones of unsettled law --------------------

ZONE = "unsettled: h20_reach"


def bandwidth_label(rules, model, region_map, dram, interconnect) -> str:
    """The evaluator at a point of the bandwidth plane, as a map labels it (zones included)."""
    record = {**{k: v for k, v in plot.DEFAULT_FACTS.items() if k not in plot.BANDWIDTH_PLANE},
              **plot.PLANE_FACTS[plot.BANDWIDTH_PLANE], "dram_bw": Decimal(dram),
              "interconnect_bw": Decimal(interconnect), "datacenter": region_map.datacenter,
              "destination": region_map.destination or "US", "end_user_hq": region_map.destination or "US",
              **region_map.fixed}
    d = rules.evaluate(record, as_of=region_map.as_of, timeline=model.timeline)
    if d.outcome == "indeterminate" and d.unsettled:
        return "unsettled: " + "; ".join(f"{u.condition} ({u.cite})" for u in d.unsettled)
    text = d.outcome + ("" if not d.license_exceptions else " " + "+".join(g.name for g in d.license_exceptions))
    return text + (f" ({d.review_policy})" if d.review_policy else "")


@pytest.mark.parametrize("as_of, destination", [("2025-06-01", "CN"), ("2026-03-01", "CN"),
                                                ("2025-06-01", "JP"), ("2024-12-31", "CN")])
def test_bandwidth_plane_rectangles_are_what_the_evaluator_decides(as_of, destination):
    model = RULES.in_force(plot._date(as_of))
    m = plot.regions(RULES, destination=destination, as_of=as_of, plane=plot.BANDWIDTH_PLANE)
    assert (m.x.field, m.y.field) == plot.BANDWIDTH_PLANE
    for r in m.rects:
        x1 = r.x1 if r.x1 != plot.INF else r.x0 * 4 + 100
        y1 = r.y1 if r.y1 != plot.INF else r.y0 * 4 + 100
        for x, y in [(r.x0, r.y0), ((r.x0 + x1) / 2, (r.y0 + y1) / 2), (x1 - Decimal("0.01"), y1 - Decimal("0.01"))]:
            assert bandwidth_label(RULES, model, m, x, y) == r.label, (as_of, r, x, y)
            assert m.label_at(x, y) == r.label
    zone = [r for r in m.rects if r.label.startswith(ZONE)]
    if destination == "CN" and as_of >= "2025-04-09":
        # the letter's zone: memory bandwidth from 1700 to under 4000 GB/s, interconnect under 900
        assert [(r.x0, r.x1, r.y0, r.y1) for r in zone] == [(1700, 4000, 0, 900)]
        assert m.label_at(1700, 899.99).startswith(ZONE) and not m.label_at(1699.99, 0).startswith(ZONE)
        assert not m.label_at(4000, 0).startswith(ZONE) and not m.label_at(2000, 900).startswith(ZONE)
    else:
        assert zone == []


def test_the_tpp_plane_is_all_zone_when_the_held_bandwidth_is_in_it():
    m = plot.regions(RULES, destination="CN", as_of="2025-06-01", fixed={"dram_bw": "2000"})
    assert {r.label.split(" (")[0] for r in m.rects} <= {ZONE, "license_required", "license_exception NAC"}
    assert any(r.label.startswith(ZONE) for r in m.rects)
    assert plot.describe(m)["unsettled"]


def test_an_unknown_plane_is_a_clean_error():
    with pytest.raises(chiprules.ChiprulesError, match="the planes are"):
        plot.regions(RULES, plane=("tpp", "dram_bw"))
    with pytest.raises(chiprules.ChiprulesError, match="axis of the plane"):
        plot.regions(RULES, plane=plot.BANDWIDTH_PLANE, fixed={"interconnect_bw": "900"})


H20_CHIPS = [spec for spec in RULES.catalog if spec.name in ("NVIDIA H20", "NVIDIA H100 SXM", "NVIDIA A800 SXM",
                                                              "NVIDIA B200")]


def test_golden_h20_zone_figure(golden):
    pytest.importorskip("matplotlib")
    m = plot.regions(RULES, destination="CN", as_of="2025-06-01", plane=plot.BANDWIDTH_PLANE)
    fig = plot.draw(m, None, chips=H20_CHIPS)
    summary = plot.figure_summary(fig)
    assert [r for r in summary["hatched_regions"] if r.startswith(ZONE)]
    assert any(t.startswith("unsettled law: h20_reach (NVIDIA Form 8-K") for t in summary["legend"])
    assert summary["xscale"] == "linear"
    golden(GOLDEN / "plot" / "h20-zone-2025.json", _summary(fig, m))


def test_golden_h20_zone_change_figure(golden):
    pytest.importorskip("matplotlib")
    kw = dict(rules=RULES, destination="CN", plane=plot.BANDWIDTH_PLANE)
    ch = plot.changes("2024-12-02", "2025-04-09", as_of="2025-04-09", old_as_of="2025-04-08", **kw)
    assert [(r.x0, r.x1, r.y0, r.y1) for r in ch if r.label.split(" -> ")[1].startswith(ZONE)] == [
        (1700, 4000, 0, 900)]
    m = plot.regions("2025-04-09", as_of="2025-04-09", **kw)
    fig = plot.draw(m, None, chips=H20_CHIPS, changes=ch, against="2024-12-02")
    golden(GOLDEN / "plot" / "h20-zone-change-2024-12-to-2025-04.json", _summary(fig, m, ch))


def test_cli_plane_option_hatches_the_zone(tmp_path):
    pytest.importorskip("matplotlib")
    svg = tmp_path / "zone.svg"
    r = run(RULES_DIR, "--plane", "dram_bw,interconnect_bw", "--destination", "CN", "--as-of", "2025-06-01",
            "-o", svg)
    assert r.exit_code == 0, r.output
    text = svg.read_text()
    assert 'id="region:unsettled: h20_reach' in text
    r = run(RULES_DIR, "--plane", "tpp,dram_bw", "-o", svg)
    assert r.exit_code == 64 and "--plane" in r.output
