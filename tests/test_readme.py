"""The README's Python example runs as written."""

from __future__ import annotations

import os
import re

from .conftest import ROOT


def test_readme_python_example_runs(capsys, tmp_path):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    block = block.replace("for d in rules.evaluate_many(records): ...", "")
    assert '"decided.parquet"' in block
    block = block.replace('"decided.parquet"', repr(str(tmp_path / "decided.parquet")))
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - our own documentation
    finally:
        os.chdir(cwd)
    assert "licence required" in capsys.readouterr().out
    assert (tmp_path / "decided.parquet").stat().st_size > 0
