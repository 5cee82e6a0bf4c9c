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
# both timelines load every version file of the folder; the examples of each file once
MODELS = {m.path: m for m in chiprules.load(RULES / "ear").models}
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
