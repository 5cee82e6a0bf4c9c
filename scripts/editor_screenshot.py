"""Draw docs/img/editor.png: the language server's real answers on a real rules file.

A misspelt group name is typed into `rules/ear/2026-07-14.rules`; the picture shows the
lines around it highlighted by the TextMate grammar (tokenised in node by vscode-textmate,
as VS Code does), the diagnostic the service publishes with its quick fix, and the hover
the service gives for the group `RS_SCOPE` on the same line. The page is an HTML mock of
an editor window, rendered by headless Chromium.

    python scripts/editor_screenshot.py [--chromium PATH] [-o docs/img/editor.png]
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chiprules.editor import hover, service  # noqa: E402

FIRST, LAST = 64, 97  # the lines shown, 1-based
COLOURS = [
    ("comment", "#6a9955"), ("string", "#ce9178"), ("keyword.control", "#c586c0"),
    ("keyword.other.unit", "#4ec9b0"), ("keyword.operator.logical", "#569cd6"), ("keyword", "#569cd6"),
    ("storage", "#569cd6"), ("constant.numeric", "#b5cea8"), ("constant.language", "#4fc1ff"),
    ("constant.other.eccn", "#dcdcaa"), ("constant.other.country", "#4fc1ff"), ("entity.name", "#dcdcaa"),
    ("variable", "#9cdcfe"), ("punctuation", "#d4d4d4"),
]


def colour(scope: str) -> str:
    for prefix, c in COLOURS:
        if scope.startswith(prefix):
            return c
    return "#d4d4d4"


def markdown(text: str) -> str:
    """The little Markdown the hover uses: code blocks, bold, code, bullets, rules."""
    out, in_code = [], False
    for line in text.split("\n"):
        if line.startswith("```"):
            out.append("</pre>" if in_code else "<pre class=code>")
            in_code = not in_code
            continue
        if in_code:
            out.append(html.escape(line))
            continue
        s = html.escape(line)
        s = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", s)
        s = re.sub(r"`(.+?)`", r"<code>\1</code>", s)
        s = re.sub(r"^\*(.+)\*$", r"<i>\1</i>", s)
        if s.startswith("- "):
            s = "&bull; " + s[2:]
        out.append("<hr>" if s == "---" else (s + "<br>" if s else "<div class=gap></div>"))
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    ap.add_argument("-o", "--output", default=str(ROOT / "docs/img/editor.png"))
    args = ap.parse_args()
    path = ROOT / "rules/ear/2026-07-14.rules"
    text = path.read_text(encoding="utf-8").replace("- MACAU_D5\n", "- MACAU_D\n", 1)
    ws = service.Workspace()
    ws.open(path, text)
    (diag,) = [d for d in service.diagnostics(ws, path) if d.path == path]
    fix = service.code_actions(ws, path, diag.start, diag.end)[0]
    at = text.index("in RS_SCOPE") + 5
    tip = hover.hover(ws, path, at)
    lines = json.loads(subprocess.run(
        ["node", str(ROOT / "editors/vscode/test/tokenize.js"), "--lines"], input=text,
        capture_output=True, text=True, check=True).stdout)
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    rows = []
    for n in range(FIRST, LAST + 1):
        col, cells = starts[n - 1], []
        for tok, scope in lines[n - 1]:
            a, b = col, col + len(tok)
            esc = html.escape(tok)
            if a < diag.end and b > diag.start:
                esc = f"<span class=squiggle>{esc}</span>"
            cells.append(f"<span style='color:{colour(scope)}'>{esc}</span>")
            col = b
        rows.append(f"<div class=line><span class=no>{n}</span>{''.join(cells) or '&nbsp;'}</div>")
    diag_line = text.count("\n", 0, diag.start) + 1
    hover_line = text.count("\n", 0, at) + 1
    d = diag.diagnostic
    page = f"""<!doctype html><meta charset=utf-8><style>
body {{ margin:0; background:#1e1e1e; font:14px/20px 'DejaVu Sans Mono', monospace; color:#d4d4d4; }}
.bar {{ background:#2d2d2d; color:#ccc; padding:6px 12px; font:13px sans-serif; }}
.tab {{ background:#1e1e1e; display:inline-block; padding:4px 12px; border-top:1px solid #0078d4; }}
.editor {{ position:relative; padding:8px 0; }}
.line {{ white-space:pre; height:20px; }}
.no {{ display:inline-block; width:48px; text-align:right; padding-right:16px; color:#6e7681; }}
.squiggle {{ text-decoration: underline wavy #f14c4c; text-underline-offset:3px; }}
.box {{ position:absolute; background:#252526; border:1px solid #454545; padding:8px 12px; font:13px/18px sans-serif;
        box-shadow:0 2px 8px #000a; }}
.box code, .box pre {{ font:12px 'DejaVu Sans Mono', monospace; color:#ce9178; }}
.box pre {{ margin:4px 0; color:#d4d4d4; }}
.box hr {{ border:0; border-top:1px solid #454545; }}
.gap {{ height:6px; }}
.err {{ color:#f14c4c; font-weight:bold; }}
.fix {{ color:#3794ff; }}
</style>
<div class=bar><span class=tab>2026-07-14.rules</span> &nbsp; rules › ear</div>
<div class=editor>{''.join(rows)}
<div class=box style="left:300px; top:{(diag_line - FIRST + 1) * 20 + 12}px; width:520px">
<span class=err>{html.escape(d.code)}</span> {html.escape(d.message)}<br>
help: {html.escape(d.help or '')}<br><span class=fix>Quick fix: {html.escape(fix.title)}</span></div>
<div class=box style="left:250px; top:{(hover_line - FIRST) * 20 + 8 - 352}px; width:640px; height:330px;
 overflow:hidden">{markdown(tip.markdown)}</div>
</div>"""
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "editor.html"
        page_path.write_text(page, encoding="utf-8")
        subprocess.run([args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--screenshot={args.output}", "--window-size=1180,730", page_path.as_uri()],
                       check=True, capture_output=True, timeout=120)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
