"""Shared test switches: `pytest --update-goldens` rewrites golden files.

Hypothesis runs under the `ci` profile unless HYPOTHESIS_PROFILE names another:

- `ci` (the default): the same examples on every run (derandomized, no example
  database), no deadline, and a failing example printed with its reproduction blob;
- `dev`: fresh random examples on every run, remembered in the local example
  database, no deadline: `HYPOTHESIS_PROFILE=dev python -m pytest`.

A test's own `@settings(max_examples=...)` still sets its number of examples.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None, derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite golden files from the current output")


@pytest.fixture
def update_goldens(request) -> bool:
    return request.config.getoption("--update-goldens")


def check_golden(path: Path, actual: str, update: bool) -> None:
    """Compare ``actual`` with the golden file, or rewrite it under --update-goldens."""
    if update or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not update:
            pytest.fail(f"golden file {path} was missing and has been written; review it")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from {path}; run `pytest --update-goldens` and review the diff"


@pytest.fixture
def golden(update_goldens):
    def compare(path: Path, actual: str) -> None:
        check_golden(path, actual, update_goldens)

    return compare


_FIGURES: list[str] = []  # the figures of this run, in the process that prints the summary


@pytest.fixture
def report(request):
    """``report(line)``: a figure to print at the end of the run (e.g. precision and recall).
    The line travels with the test's report, so it reaches the summary from a worker process
    too when the run is spread over several (pytest-xdist)."""
    return lambda line: request.node.user_properties.append(("figure", line))


def pytest_runtest_logreport(report):
    if report.when == "teardown":
        _FIGURES.extend(v for k, v in report.user_properties if k == "figure")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _FIGURES:
        terminalreporter.section("figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


# first: xdist's own hook reads the marks to name the groups
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Spread over processes (`scripts/test` runs pytest-xdist with `--dist loadgroup`), the
    tests that share a module-scoped fixture (a Spark session, a server, a diff that takes
    a minute) run in one process, so the fixture is made once; the others go where there
    is room."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    # tests of one module that share a fixture, directly or through another test, form one group
    parent: dict = {}

    def root(key):
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    uses = []
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        shared = [] if info is None else sorted(
            (item.module.__name__, name) for name, defs in info.name2fixturedefs.items()
            if defs and defs[-1].scope == "module")
        for other in shared[1:]:
            parent[root(other)] = root(shared[0])
        uses.append((item, shared))
    for item, shared in uses:
        if shared:
            module, name = root(shared[0])
            item.add_marker(pytest.mark.xdist_group(f"{module}:{name}"))
