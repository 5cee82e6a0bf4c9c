"""Scaffolding the next version of a folder of versions (`chiprules new-version`).

The latest version on a timeline is copied under the new date with its header re-dated.
Its examples are re-dated to the new version (an example dated before it would be decided
by no version at all); those that then fail under the new version are set aside as
comments that say what they expected and what they now get, so that none fails unseen and
none is silently kept. The report names the shared files the new version includes: editing
one changes every version that includes it.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import attrs

from chiprules.core.diagnostics import warning
from chiprules.core.errors import ChiprulesError
from chiprules.engine import load
from chiprules.lang import ast as A
from chiprules.lang.checker import check_file
from chiprules.lang.formatter import format_text
from chiprules.lang.parser import parse_text
from chiprules.report.diff import structural
from chiprules.report.examples import run_model_examples

STATEMENT = re.compile(r"^(include|group|treat|list|field|derive|condition|classify|require|exception|example)\b",
                       re.M)
EXPORT_DATE = re.compile(r"(export_date\s*:\s*)([0-9]{4}-[0-9]{2}-[0-9]{2})")


@attrs.frozen
class Scaffold:
    path: Path
    version: str
    copied_from: str
    timeline: str | None
    kept: int
    redated: tuple[str, ...]
    set_aside: tuple[tuple[str, str, str], ...]  # (example, expected, actual)
    shared: tuple[tuple[str, tuple[str, ...]], ...]  # (included file, versions including it)


def _header(text: str) -> tuple[int, int]:
    start = text.index("ruleset")
    m = STATEMENT.search(text, start)
    return start, (m.start() if m else len(text))


def _rewrite_header(text: str, version: str, date: dt.date, old_version: str, timeline: str | None) -> str:
    start, end = _header(text)
    head = text[start:end]
    vtext = version if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", version) else f'"{version}"'
    old = old_version if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", old_version) else f'"{old_version}"'
    head = re.sub(r"(?m)^(\s*)version\s+\S+", lambda m: f"{m[1]}version {vtext}", head, count=1)
    head = re.sub(r"(?m)^(\s*)effective\s+\S+", lambda m: f"{m[1]}effective {date.isoformat()}", head, count=1)
    head = re.sub(r"(?m)^\s*until\s+\S+\n", "", head)
    head = re.sub(r'(?m)^(\s*)source\s+"(?:[^"\\]|\\.)*"',
                  lambda m: f'{m[1]}source "to be written: the source of version {version}"', head, count=1)
    if re.search(r"(?m)^\s*supersedes\s+\S+", head):
        head = re.sub(r"(?m)^(\s*)supersedes\s+\S+", lambda m: f"{m[1]}supersedes {old}", head, count=1)
    else:
        head = head.rstrip("\n") + f"\n  supersedes {old}\n\n"
    intro = (f"# Version {version}, in force from {date.isoformat()}: write here what it changes and on what\n"
             f"# authority. Scaffolded from version {old_version}"
             + (f" ({timeline} timeline)" if timeline else "") + "; the rules below are still that version's.\n\n")
    return intro + head + text[end:]


def _redate(text: str, date: dt.date, module: A.Module) -> tuple[str, list[str]]:
    """Every example dated before ``date`` re-dated to it; the names of those re-dated."""
    out, done, last = [], [], 0
    for item in module.items:
        if not isinstance(item, A.Example) or item.span is None:
            continue
        chunk = text[item.span.start:item.span.end]

        def later(m):
            return m[1] + date.isoformat() if dt.date.fromisoformat(m[2]) < date else m[0]

        new = EXPORT_DATE.sub(later, chunk)
        if new != chunk:
            done.append(item.name.value)
        out += [text[last:item.span.start], new]
        last = item.span.end
    out.append(text[last:])
    return "".join(out), done


def _set_aside(text: str, module: A.Module, failing: dict[str, tuple[str, str]]) -> str:
    out, last = [], 0
    for item in module.items:
        if not isinstance(item, A.Example) or item.span is None or item.name.value not in failing:
            continue
        expected, actual = failing[item.name.value]
        start = text.rfind("\n", 0, item.span.start) + 1
        chunk = text[start:item.span.end]
        note = ["# SET ASIDE by new-version: this example of the version copied fails here.",
                f"#   expected: {expected}", f"#   actual:   {actual}",
                "# Fix the record or the expectation and uncomment it, or delete it."]
        out += [text[last:start], "\n".join(note + ["# " + line if line else "#" for line in chunk.split("\n")])]
        last = item.span.end
    out.append(text[last:])
    return "".join(out)


def _shared(model, models) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The files a version includes, each with the other versions that include it too."""
    out = []
    own = Path(model.path).resolve()
    for f in model.files[1:]:
        p = Path(f).resolve()
        if p == own:
            continue
        users = tuple(m.version for m in models if p in {Path(x).resolve() for x in m.files})
        rel = Path(f).resolve().relative_to(own.parent.parent) if own.parent.parent in p.parents else Path(f)
        out.append((str(rel), users))
    return tuple(out)


def scaffold(folder: str | Path, date: dt.date, timeline: str = "both") -> list[Scaffold]:
    """Write the next version(s) of ``folder`` in force from ``date``; see the module doc."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ChiprulesError(f"`{folder}` is not a folder of versions")
    kinds = ["enforced", "written"] if timeline == "both" else [timeline]
    every = {m.path: m for kind in ("enforced", "written") for m in load(folder, timeline=kind).models}
    plans = []
    for kind in kinds:
        latest = load(folder, timeline=kind).latest
        if latest.timeline is None and any(p[1].path == latest.path for p in plans):
            continue  # both timelines end in the same version: one new file serves both
        plans.append((kind, latest))
    out = []
    for kind, latest in plans:
        if latest.effective is not None and date <= latest.effective:
            raise ChiprulesError(f"{date} is not after {latest.version}, the latest version on the {kind} "
                                 f"timeline (in force from {latest.effective})")
        written = latest.timeline == "written"
        version = f"{date.isoformat()}-written" if written else date.isoformat()
        target = folder / f"{version}.rules"
        if target.exists():
            raise ChiprulesError(f"`{target}` already exists")
        text = Path(latest.path).read_text(encoding="utf-8")
        text = _rewrite_header(text, version, date, latest.version, latest.timeline)
        text, redated = _redate(text, date, parse_text(text, str(target)))
        target.write_text(format_text(text, str(target)), encoding="utf-8")
        set_aside: list[tuple[str, str, str]] = []
        try:
            for _ in range(3):
                model, diags = check_file(target, as_version=True)
                errors = [d for d in diags if d.is_error]
                if errors or model is None:
                    raise ChiprulesError(f"the copy `{target}` does not check: {errors[0].message if errors else ''}")
                failing = {r.name: (r.expected, r.actual) for r in run_model_examples(model) if not r.ok}
                if not failing:
                    break
                set_aside += [(n, e, a) for n, (e, a) in failing.items()]
                text = target.read_text(encoding="utf-8")
                text = _set_aside(text, parse_text(text, str(target)), failing)
                target.write_text(format_text(text, str(target)), encoding="utf-8")
        except Exception:
            target.unlink(missing_ok=True)
            raise
        kept = len(model.examples)
        out.append(Scaffold(target, version, latest.version, latest.timeline, kept,
                            tuple(n for n in redated if n not in {s[0] for s in set_aside}), tuple(set_aside),
                            _shared(model, list(every.values()))))
    return out


__all__ = ["Scaffold", "scaffold"]


# ---- shared fragments that changed -------------------------------------------------------------


def _git(cwd: Path, *args: str) -> tuple[int, str]:
    try:
        res = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return 1, ""
    return res.returncode, res.stdout


def _root_of(path: Path) -> Path | None:
    for parent in path.resolve().parents:
        if (parent / "chiprules.toml").exists():
            return parent
    return None


def _versions_moved(frag: Path, root: Path, before: str, ms, structural) -> list[str]:
    """The versions among ``ms`` whose rules differ when ``frag`` holds ``before`` instead."""
    moved = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / root.name
        shutil.copytree(root, copy)
        (copy / frag.relative_to(root)).write_text(before, encoding="utf-8")
        for m in ms:
            old, _ = check_file(copy / Path(m.path).resolve().relative_to(root), as_version=True)
            if old is None:
                continue
            if [c for c in structural(old, m) if c.kind != "header"]:
                moved.append(m.version)
    return moved


def fragment_warnings(models) -> list:
    """W310 for every file included by several of ``models`` (checked versions) that differs from
    the last commit in a way that changes the rules of the versions including it."""
    users: dict[Path, list] = {}
    for m in models:
        if m is None or not m.version:
            continue
        for f in m.files[1:]:
            users.setdefault(Path(f).resolve(), []).append(m)
    out = []
    for frag, ms in sorted(users.items()):
        if len(ms) < 2:
            continue
        code, changed = _git(frag.parent, "status", "--porcelain", "--", frag.name)
        if code != 0 or not changed.strip() or changed.startswith("??"):
            continue
        code, top = _git(frag.parent, "rev-parse", "--show-toplevel")
        root = _root_of(frag)
        if code != 0 or root is None:
            continue
        rel = frag.relative_to(Path(top.strip()).resolve()).as_posix()
        code, before = _git(frag.parent, "show", f"HEAD:{rel}")
        if code != 0:
            continue
        try:
            moved = _versions_moved(frag, root, before, ms, structural)
        except OSError:  # the copy could not be made: no warning rather than a crash
            continue
        if moved:
            shown = ", ".join(moved[:6]) + (f" and {len(moved) - 6} more" if len(moved) > 6 else "")
            out.append(warning(
                "W310", f"`{frag.name}` differs from the last commit and changes the rules of {len(moved)} "
                f"version{'s' if len(moved) != 1 else ''} that include it: {shown}",
                location=next(f for f in ms[0].files if Path(f).resolve() == frag),
                help="to change it for one version only, copy it under a new name and include the copy "
                     "there; otherwise run `chiprules test` and `chiprules diff` on the versions named"))
    return out
