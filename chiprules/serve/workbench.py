"""The workbench page: server-rendered HTML with a small script and style sheet inlined.

Everything the page shows comes from the service's own API; it needs no build step
and loads nothing from elsewhere.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def _asset(name: str) -> str:
    return resources.files("chiprules.serve").joinpath("static", name).read_text(encoding="utf-8")


def page(editable: bool, token_required: bool) -> str:
    settings = json.dumps({"editable": editable, "tokenRequired": token_required})
    return (_asset("index.html")
            .replace("/*STYLE*/", _asset("app.css"))
            .replace("/*SETTINGS*/", settings.replace("</", "<\\/"))
            .replace("/*SCRIPT*/", _asset("app.js")))
