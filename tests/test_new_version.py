"""`chiprules new-version`: the next version scaffolded from the latest one checks, is formatted
and passes its examples; the examples it could not keep are set aside visibly, none dropped."""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

from chiprules.cli import main

from .conftest import ROOT


def run(*args):
    res = CliRunner().invoke(main, list(args))
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout, res.stderr


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    root = tmp_path_factory.mktemp("nv") / "rules"
    shutil.copytree(ROOT / "rules", root)
    code, out, err = run("new-version", str(root / "ear"), "2027-01-01")
    assert code == 0, err
    return root, out


def test_new_version_checks_formats_and_passes(scaffolded):
    root, out = scaffolded
    new = [root / "ear" / "2027-01-01.rules", root / "ear" / "2027-01-01-written.rules"]
    assert all(p.exists() for p in new), out
    assert run("check", str(root))[0] == 0
    assert run("fmt", "--check", *map(str, new))[0] == 0
    code, report, _ = run("test", *map(str, new))
    assert code == 0 and report.strip().endswith("0 failed"), report


def test_new_version_keeps_or_sets_aside_every_example(scaffolded):
    root, out = scaffolded
    for new, old in (("2027-01-01", "2026-07-14"), ("2027-01-01-written", "2026-07-14-written")):
        text = (root / "ear" / f"{new}.rules").read_text(encoding="utf-8")
        before = (ROOT / "rules" / "ear" / f"{old}.rules").read_text(encoding="utf-8")
        kept = re.findall(r"(?m)^example ", text)
        aside = re.findall(r"(?m)^# example ", text)
        assert len(kept) + len(aside) == len(re.findall(r"(?m)^example ", before))
        assert text.count("# SET ASIDE by new-version") == len(aside)
        # no kept example is dated before the new version: it would be decided by none
        dates = re.findall(r"(?m)^\s+export_date: ([0-9-]+)", text)
        assert all(d >= "2027-01-01" for d in dates), dates
        assert f"version {new}" in text or f'version "{new}"' in text
        assert f"supersedes {old}" in text or f'supersedes "{old}"' in text
    assert re.search(r"ear/common/3a090.rules: [0-9]+ versions \(2023-11-17 to ", out)  # who shares it


def test_new_version_refuses_an_earlier_date(tmp_path):
    root = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", root)
    code, _, err = run("new-version", str(root / "ear"), "2026-01-01")
    assert code == 64 and "is not after" in err
    code, _, err = run("new-version", str(root / "ear"), "1 January 2027")
    assert code == 64 and "write YYYY-MM-DD" in err


# ---- W310: a shared fragment edited since the last commit -----------------------------------------


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_check_warns_when_a_shared_fragment_changes_decisions(tmp_path):
    import subprocess

    root = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", root)
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "rules"], check=True)
    fragment = root / "ear" / "common" / "3a090.rules"
    text = fragment.read_text(encoding="utf-8")
    fragment.write_text("# a comment changes no rule\n" + text, encoding="utf-8")
    code, _, err = run("check", str(root))
    assert code == 0 and "W310" not in err
    fragment.write_text(text.replace("= tpp >= 4800 or", "= tpp >= 4000 or"), encoding="utf-8")
    code, _, err = run("check", str(root))
    assert code == 0
    assert "warning[W310]: `3a090.rules` differs from the last commit and changes the rules of" in err
    assert "2023-11-17, 2024-03-15" in err and "copy it under a new name" in err
