"""The package's import layers hold (the contracts in pyproject.toml, checked by import-linter)."""

from __future__ import annotations

import shutil
import subprocess

from .conftest import ROOT


def test_import_layers_and_the_independent_oracle_hold():
    exe = shutil.which("lint-imports")
    assert exe is not None, "import-linter is not installed: pip install -e '.[dev]'"
    res = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_no_import_inside_functions_but_optional_dependencies():
    # matplotlib, pyspark and anyascii are optional, and the language server (with its protocol
    # library) loads only for `chiprules lsp`; everything else is imported at the top
    allowed = ("matplotlib", "pyspark", "anyascii", "TYPE_CHECKING", "chiprules.eval.decision",
               "chiprules.lsp")
    found = []
    for path in sorted((ROOT / "chiprules").rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.lstrip()
            if line != stripped and stripped.startswith(("import ", "from ")) and " import " in stripped \
                    or line != stripped and stripped.startswith("import "):
                if not any(a in stripped for a in allowed):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {stripped}")
    assert not found, "\n".join(found)
