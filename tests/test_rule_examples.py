"""The examples written inside `rules/`, one pytest test each.

`chiprules test rules/` runs them from the command line; here every example is its own
test case, named after its file and its title, so a failure names the example and shows
expected against actual with the decision's explanation. Each version is loaded and its
examples decided once (the first test of a version runs them all; the rest read the
cached results).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

import chiprules
from chiprules.report.examples import run_model_examples

from .conftest import ROOT

RULES = ROOT / "rules"
# both timelines load every version file of a folder; the examples of each file once. Each
# folder of versions is a ruleset: the chips (`ear`) and the weights of AI models (`weights`)
MODELS = {m.path: m for folder in ("ear", "weights") for m in chiprules.load(RULES / folder).models}
CASES = [(path, i, case.name) for path, m in MODELS.items() for i, case in enumerate(m.examples)]


@functools.cache
def results(path: str):
    return run_model_examples(MODELS[path])


@pytest.mark.parametrize(("path", "index", "name"), CASES,
                         ids=[f"{Path(path).name}: {name}" for path, _, name in CASES])
def test_rules_example(path, index, name):
    res = results(path)[index]
    assert res.name == name
    assert res.ok, res.report()


def test_every_file_with_examples_is_covered():
    """No example escapes: every .rules file under rules/ that writes an example is a version
    loaded above, and its examples are all collected."""
    written = {}
    for f in sorted(RULES.rglob("*.rules")):
        n = sum(line.startswith("example ") for line in f.read_text(encoding="utf-8").splitlines())
        if n:
            written[f.resolve()] = n
    loaded = {Path(p).resolve(): len(m.examples) for p, m in MODELS.items() if m.examples}
    assert loaded == written
    assert len(CASES) == sum(written.values())


# ---- the `exceptions none` and `notify` clauses ------------------------------------------------

CLAUSE_FIELDS = """\
field export_date: date
field destination: country
field tpp: number TPP
"""

CLAUSE_VERSION = """\
ruleset clauses version "2024-01-01" effective 2024-01-01
classify 3A090.a when tpp >= 4800
require license RS cite "r" for 3A090 when destination in {CN, VN} review case_by_case
  allows NAC, ACA
exception NAC cite "n" when destination in {CN} notify "tell BIS"
exception ACA cite "a" when destination in {VN}
"""


def clause_results(tmp_path, examples: str) -> list:
    (tmp_path / "chiprules.toml").write_text("# root\n", encoding="utf-8")
    (tmp_path / "fields.rules").write_text(CLAUSE_FIELDS, encoding="utf-8")
    (tmp_path / "ear").mkdir()
    path = tmp_path / "ear" / "2024-01-01.rules"
    path.write_text('include "../fields.rules"\n' + CLAUSE_VERSION + examples, encoding="utf-8")
    (model,) = chiprules.load(tmp_path / "ear").models
    return run_model_examples(model)


def test_exceptions_none_and_notify_pass_and_fail(tmp_path):
    results = clause_results(tmp_path, """
example "CN: NAC, notified" record { destination: CN, tpp: 5000 }
  expect license_exception exceptions NAC notify NAC
example "VN: ACA, no notice" record { destination: VN, tpp: 5000 }
  expect license_exception exceptions ACA notify none
example "US: none" record { destination: US, tpp: 5000 }
  expect no_license_required exceptions none notify none
example "wrong: VN notified" record { destination: VN, tpp: 5000 }
  expect license_exception notify ACA
example "wrong: CN without exceptions" record { destination: CN, tpp: 5000 }
  expect license_exception exceptions none
""")
    assert [r.ok for r in results] == [True, True, True, False, False]
    assert results[3].expected == "license_exception, notify ACA"
    assert results[3].actual == ("license_exception, classified 3A090.a, review case_by_case, exceptions ACA, "
                                 "notify none")
    assert results[4].expected == "license_exception, exceptions none"
    assert results[4].actual.endswith("exceptions NAC")


def test_notify_names_a_declared_exception(tmp_path):
    with pytest.raises(chiprules.RulesError) as info:
        clause_results(tmp_path, """
example "typo" record { destination: CN, tpp: 5000 } expect license_exception notify NACC
""")
    assert "E215" in str(info.value.render("text")) and "did you mean `NAC`" in info.value.render("text")
