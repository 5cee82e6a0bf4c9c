"""Party-list loaders: the project's Entity List sample and the public CSL export."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from chiprules.core.errors import DataError
from chiprules.data.parties import (
    PARTY_COLUMNS,
    REVIEW_POLICIES,
    PartyEntry,
    footnotes_from_text,
    load_csl,
    load_party_csv,
    review_policy_from_text,
    split_addresses,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "rules" / "lists" / "entity_list_sample.csv"
CSL = Path(__file__).resolve().parent / "data" / "csl"
SNAPSHOT = date(2026, 7, 31)


@pytest.fixture(scope="module")
def sample() -> tuple[PartyEntry, ...]:
    return load_party_csv(SAMPLE, "Entity List")


# --- the sample ---------------------------------------------------------------


def test_sample_has_at_least_60_rows_all_in_force_on_the_snapshot(sample) -> None:
    assert len(sample) >= 60
    assert all(entry.in_force(SNAPSHOT) for entry in sample)
    assert all(entry.list_name == "Entity List" for entry in sample)
    assert len({entry.name for entry in sample}) == len(sample)


def test_sample_policies_agree_with_their_text(sample) -> None:
    for entry in sample:
        assert entry.review_policy in REVIEW_POLICIES
        assert review_policy_from_text(entry.license_policy) == entry.review_policy, entry.name


def test_sample_footnotes_agree_with_their_text(sample) -> None:
    with open(SAMPLE, encoding="utf-8", newline="") as f:
        written = {row["name"]: row["license_requirement"] for row in csv.DictReader(f)}
    for entry in sample:
        # the digits printed in the text are the footnotes column, and the text loses them
        assert footnotes_from_text(written[entry.name]) == entry.footnotes, entry.name
        assert footnotes_from_text(entry.license_requirement) == (), entry.name
        assert "  " not in entry.license_requirement and "  " not in entry.citation, entry.name


def test_sample_known_rows(sample) -> None:
    by_name = {entry.name: entry for entry in sample}
    huawei = by_name["Huawei Technologies Co., Ltd. (Huawei)"]
    assert huawei.country == "CN"
    assert huawei.aliases == ("Shenzhen Huawei Technologies", "Huawei Technology")
    assert huawei.added == date(2019, 5, 16)
    assert huawei.footnotes == ("1", "2")
    assert huawei.review_policy == "presumption_of_denial"
    assert huawei.line == 2
    inspur = by_name["Inspur Electronic Information Industry Co., Ltd."]
    assert inspur.country == "CN" and "Hong Kong" in inspur.addresses
    assert inspur.review_policy == "policy_of_denial"
    assert by_name["Loongson Technology"].added is None
    assert by_name["Yangtze Memory Technologies Co., Ltd."].review_policy == "presumption_of_denial"
    assert by_name["Hangzhou Hikvision Digital Technology Co., Ltd."].review_policy == (
        "presumption_of_denial"
    )
    assert by_name["AO PKK Milandr"].footnotes == ("3",)
    assert by_name["Sophgo Technologies Pte. Ltd."].country == "SG"


def test_in_force_window() -> None:
    entry = PartyEntry(name="X", added=date(2020, 1, 1), removed=date(2021, 1, 1))
    assert not entry.in_force(date(2019, 12, 31))
    assert entry.in_force(date(2020, 1, 1))
    assert entry.in_force(date(2020, 12, 31))
    assert not entry.in_force(date(2021, 1, 1))  # removal day is exclusive
    assert PartyEntry(name="Y").in_force(date(1990, 1, 1))


# --- review policy and footnotes ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("Presumption of denial", "presumption_of_denial"),
        ("Presumption of denial.", "presumption_of_denial"),
        ("Presumption for denial", "presumption_of_denial"),
        ("PRESUMPTION  OF DENIAL", "presumption_of_denial"),
        ("Policy of denial.", "policy_of_denial"),
        ("Policy of denial See §§ 746.8(b) and 744.21(e).", "policy_of_denial"),
        (
            "Policy of denial for all items subject to the EAR apart from food and medicine "
            "designated as EAR99, which will be reviewed on a case-by-case basis.",
            "policy_of_denial",
        ),
        (
            "Case-by-case for ECCNs 1A004.c; presumption of denial for all other items",
            "presumption_of_denial",
        ),
        ("Case by case", "case_by_case"),
        ("Presumption of approval", "presumption_of_approval"),
        ("See §§744.11 and 744.23(d) of the EAR.", "presumption_of_denial"),
        ("See §§740.26, 744.11 and 744.23(d) of the EAR.", "presumption_of_denial"),
        ("See §744.3(d) of this part", "unknown"),
        ("", "unknown"),
    ],
)
def test_review_policy_from_text(text: str, policy: str) -> None:
    assert review_policy_from_text(text) == policy


@pytest.mark.parametrize(
    ("text", "notes"),
    [
        ("For all items subject to the EAR, see §§ 734.9(e)1 and 744.11 of the EAR2", ("1", "2")),
        ("For all items subject to the EAR. (See §§ 734.9(e)(2) and 744.11 of the EAR)4", ("4",)),
        ("For all items subject to the EAR. (See §§ 734.9(e)(2) and 744.11 of the EAR) 4", ("4",)),
        ("For All Items Subject to the EAR (See §734.9(e), and 744.11 of the EAR)4.", ("4",)),
        (
            "For all items subject to the EAR (See §§734.4(a)(9), 734.9(e)(3), and 744.11 of the EAR)5",
            ("5",),
        ),
        (
            "For all items subject to the EAR. (See §§ 734.9(g),3 746.8(a)(3), and 744.21(b) of the EAR)",
            ("3",),
        ),
        (
            "For All Items Subject to the EAR (See §734.9(g), 3 §746.8(a)(3), and §744.21(b) of the EAR).",
            ("3",),
        ),
        ("For all items subject to the EAR. (See §744.11 of the EAR)", ()),
        ("... designated as EAR99, or controlled ...", ()),
    ],
)
def test_footnotes_from_text(text: str, notes: tuple[str, ...]) -> None:
    assert footnotes_from_text(text) == notes


# --- project CSV errors ---------------------------------------------------------


def write_parties(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=PARTY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in PARTY_COLUMNS})
    return path


def party(**over: str) -> dict[str, str]:
    row = {
        "name": "Example Co., Ltd.",
        "country": "CN",
        "license_policy": "Presumption of denial",
        "review_policy": "presumption_of_denial",
        "added": "2024-01-02",
    }
    row.update(over)
    return row


def test_bad_rows_give_located_errors(tmp_path: Path) -> None:
    path = write_parties(
        tmp_path / "p.csv",
        [
            party(),
            party(name=""),
            party(added="2024-13-01"),
            party(review_policy="presumption_of_denail"),
            party(country="China"),
            party(removed="2020-01-01"),
            party(footnotes="4; x"),
        ],
    )
    with pytest.raises(DataError) as info:
        load_party_csv(path, "Entity List")
    diags = {d.location: d for d in info.value.diagnostics}
    assert f"{path}:2" not in diags
    assert "name" in diags[f"{path}:3"].message
    assert "added" in diags[f"{path}:4"].message
    assert "review_policy" in diags[f"{path}:5"].message
    assert "presumption_of_denial" in diags[f"{path}:5"].help
    assert "country" in diags[f"{path}:6"].message
    assert "removed" in diags[f"{path}:7"].message
    assert "footnotes" in diags[f"{path}:8"].message
    assert len(info.value.diagnostics) == 6


def test_missing_column_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("name,country\nX,CN\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_party_csv(path, "Entity List")
    assert info.value.diagnostics[0].location == f"{path}:1"
    assert "review_policy" in info.value.diagnostics[0].message


# --- the Consolidated Screening List ----------------------------------------------


def test_csl_2022_layout_splits_and_aliases() -> None:
    entries = load_csl(CSL / "csl_2022.csv")
    assert [e.name for e in entries] == [
        "Tianjin Phytium Information Technology",
        "Huawei Cloud Beijing",
    ]
    phytium = entries[0]
    assert phytium.aliases == (
        "Phytium",
        "Phytium Technology",
        "Tianjin Feiteng Information Technology",
    )
    assert phytium.country == "CN"
    assert len(phytium.addresses) == 6
    assert phytium.added == date(2021, 4, 9)
    assert phytium.citation == "86 FR 18437"
    assert phytium.review_policy == "presumption_of_denial"
    assert phytium.footnotes == ()
    assert phytium.list_name == "Entity List (EL) - Bureau of Industry and Security"
    assert phytium.line == 2
    cloud = entries[1]
    assert cloud.aliases == ()
    assert cloud.addresses == ("Beijing, CN",)
    assert cloud.added == date(2020, 8, 20)


def test_csl_28_column_layout_reads_the_same() -> None:
    old = load_csl(CSL / "csl_28col.csv")
    new = load_csl(CSL / "csl_2022.csv")
    assert [(e.name, e.aliases, e.country, e.added) for e in old] == [
        (e.name, e.aliases, e.country, e.added) for e in new
    ]


def test_csl_2025_quoted_layout_and_shared_address_tail() -> None:
    entries = load_csl(CSL / "csl_2025.csv")
    assert len(entries) == 1  # the Military End User row is not on the Entity List
    cetc = entries[0]
    assert cetc.name.endswith("(CETC 13)")
    assert cetc.aliases[-1] == "CETC Research Institute 13"
    assert "and CETC Research Institute 13" not in cetc.aliases
    assert cetc.country == "CN"
    assert len(cetc.addresses) == 1 and cetc.addresses[0].startswith("113 Hezuo Road")
    assert cetc.footnotes == ("3",)
    assert cetc.review_policy == "policy_of_denial"
    assert cetc.added == date(2018, 8, 1)
    assert cetc.line == 3
    both = load_csl(CSL / "csl_2025.csv", sources=("Entity List", "Military End User"))
    assert len(both) == 2


def test_csl_json_results() -> None:
    (sophgo,) = load_csl(CSL / "csl_2026.json")
    assert sophgo.name == "Sophgo Technologies Ltd."
    assert sophgo.aliases == (
        "Beijing Sophgo",
        "Beijing Suanneng Technology Co., Ltd",
        "Sophgo",
        "SOPHON",
    )
    assert sophgo.country == "CN"
    assert sophgo.footnotes == ("4",)
    assert sophgo.review_policy == "presumption_of_denial"
    assert sophgo.added is None  # the 2026 projection drops start_date


def test_csl_tsv_and_sniffed_format(tmp_path: Path) -> None:
    rows = list(csv.reader((CSL / "csl_2022.csv").open(encoding="utf-8", newline="")))
    tsv = tmp_path / "consolidated.tsv"
    with tsv.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter="\t", lineterminator="\n").writerows(rows)
    assert [e.name for e in load_csl(tsv)] == [e.name for e in load_csl(CSL / "csl_2022.csv")]
    unnamed = tmp_path / "download"
    unnamed.write_bytes(tsv.read_bytes())
    assert len(load_csl(unnamed)) == 2
    js = tmp_path / "download2"
    js.write_text((CSL / "csl_2026.json").read_text(encoding="utf-8"), encoding="utf-8")
    assert len(load_csl(js)) == 1


def test_csl_bad_rows_are_collected(tmp_path: Path) -> None:
    lines = (CSL / "csl_2022.csv").read_text(encoding="utf-8").splitlines()
    header, phytium, cloud = lines
    bad_date = cloud.replace("2020-08-20", "2020-08-32")
    no_name = cloud.replace("Huawei Cloud Beijing", "")
    path = tmp_path / "bad.csv"
    path.write_text(
        "\n".join([header, phytium, bad_date, "a,b,c", no_name]) + "\n", encoding="utf-8"
    )
    with pytest.raises(DataError) as info:
        load_csl(path)
    locations = sorted(d.location for d in info.value.diagnostics)
    assert locations == [f"{path}:3", f"{path}:4", f"{path}:5"]
    messages = " ".join(d.message for d in info.value.diagnostics)
    assert "start_date" in messages and "no name" in messages


def test_csl_json_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"results": [\n{"source": "Entity List", "name": ""}\n]}', encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_csl(path)
    assert info.value.diagnostics[0].location == f"{path}:results[0]"
    path.write_text('{"results": [\n{,}\n]}', encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_csl(path)
    assert info.value.diagnostics[0].location == f"{path}:2"
    path.write_text(json.dumps({"total": 0}), encoding="utf-8")
    with pytest.raises(DataError):
        load_csl(path)


def test_split_addresses() -> None:
    addresses, country = split_addresses("Beijing, CN; Room 1, Kowloon, HK")
    assert addresses == ("Beijing, CN", "Room 1, Kowloon, HK")
    assert country == "CN"
    assert split_addresses("") == ((), "")
