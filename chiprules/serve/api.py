"""The decision service: an ASGI application (Starlette) over the engine and the reports.

Every answer is JSON (an SVG for the plot, text for a text diff, the workbench page
at `/`). Decisions are the objects `chiprules eval --format jsonl` prints, check
results the diagnostics `chiprules check --format json` prints, screenings the
objects of `chiprules screen --format jsonl`, diffs the reports of `chiprules diff`.
Errors are ``{"error": {"status", "message", "field"?, "diagnostics"?}}`` with the
texts of the command line. No request names a file: versions are named by their id.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import io
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import anyio
import attrs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from chiprules.core.diagnostics import did_you_mean, render_all, summary_line
from chiprules.core.errors import ChiprulesError
from chiprules.core.memo import Memo
from chiprules.data.records import json_records, parse_json
from chiprules.engine import TIMELINES, Rules, load_catalog_for
from chiprules.eval.explain import decision_json, screening_json
from chiprules.lang.checker import check_file, display_name
from chiprules.lang.formatter import format_text
from chiprules.report import plot as P
from chiprules.report.diff import diff as run_diff
from chiprules.report.diff_render import render as render_diff
from chiprules.report.examples import run_model_examples
from chiprules.screening.names import normalize_name
from chiprules.serve.logs import Logs, record_hash
from chiprules.serve.openapi import openapi_document
from chiprules.serve.state import Served
from chiprules.serve.workbench import page

OPEN_PATHS = frozenset({"/health"})  # every other route needs the token, when there is one
DRAFT_NAME = "untitled.rules"


@attrs.frozen
class Settings:
    """Limits and switches of one service."""

    token: str | None = None
    allow_edit: bool = False
    max_body: int = 1 << 20  # bytes in a request body
    max_records: int = 1000  # records (or names) in one request
    time_limit: float = 10.0  # seconds for one request's work
    cors_origins: tuple[str, ...] = ()
    workers: int = 8  # requests worked on at once; the rest wait


class ApiError(Exception):
    """A request the service refuses: the status, what is wrong and in which field."""

    def __init__(self, status: int, message: str, field: str | None = None, diagnostics=(),
                 headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field
        self.diagnostics = list(diagnostics)
        self.headers = headers

    def body(self) -> dict:
        err: dict = {"status": self.status, "message": self.message}
        if self.field is not None:
            err["field"] = self.field
        if self.diagnostics:
            err["diagnostics"] = [d.to_json() for d in self.diagnostics]
            err["text"] = render_all(self.diagnostics)
        return {"error": err}


def json_response(obj, status: int = 200, headers: dict | None = None) -> Response:
    body = json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8")
    return Response(body, status, headers=headers, media_type="application/json")


def error_response(exc: ApiError) -> Response:
    return json_response(exc.body(), exc.status, exc.headers)


def _kind(value) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


# ---- reading requests -------------------------------------------------------------------


class Body:
    """The fields of a JSON request object, each read with its type checked."""

    def __init__(self, obj: dict, allowed: tuple[str, ...]):
        self.obj = obj
        for key in obj:
            if key not in allowed:
                guess = did_you_mean(str(key), allowed)
                raise ApiError(422, f"unknown field `{key}`" + (f" (did you mean `{guess}`?)" if guess else "")
                               + f"; this request takes {', '.join(f'`{a}`' for a in allowed)}", str(key))

    def has(self, name: str) -> bool:
        return name in self.obj and self.obj[name] is not None

    def text(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.obj.get(name)
        if value is None:
            if required:
                raise ApiError(422, f"`{name}` is required", name)
            return default
        if not isinstance(value, str):
            raise ApiError(422, f"`{name}` must be a string, not {_kind(value)}", name)
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.obj.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ApiError(422, f"`{name}` must be true or false, not {_kind(value)}", name)
        return value

    def date(self, name: str) -> str | None:
        value = self.text(name)
        return None if value is None else check_date(value, name)

    def timeline(self, name: str = "timeline") -> str | None:
        value = self.text(name)
        return None if value is None else check_timeline(value, name)

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(name, default=default)
        if value not in choices:
            raise ApiError(422, f"`{name}` `{value}` is not one of {', '.join(f'`{c}`' for c in choices)}", name)
        return value

    def strings(self, name: str) -> list[str] | None:
        value = self.obj.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ApiError(422, f"`{name}` must be a string or an array of strings, not {_kind(value)}", name)
        return value


def check_date(value: str, name: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, f"`{name}` `{value}` is not a date; write YYYY-MM-DD", name) from None
    return value


def check_timeline(value: str, name: str = "timeline") -> str:
    if value not in TIMELINES:
        raise ApiError(422, f"unknown timeline `{value}`; use `enforced` or `written`", name)
    return value


# ---- the application --------------------------------------------------------------------


class Service:
    """The routes, over one `Served` set of rules."""

    def __init__(self, served: Served, settings: Settings, logs: Logs):
        self.served, self.settings, self.logs = served, settings, logs
        self.limiter = anyio.CapacityLimiter(settings.workers)
        self._diffs = Memo(32)
        self._plots = Memo(64)
        self._plot_lock = threading.Lock()

    # ---- plumbing
    async def body(self, request: Request):
        limit = self.settings.max_body
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise ApiError(413, f"the request body is {int(declared):,} bytes; at most {limit:,} are accepted")
        chunks, n = [], 0
        async for chunk in request.stream():
            n += len(chunk)
            if n > limit:
                raise ApiError(413, f"the request body is over {limit:,} bytes, the most accepted")
            chunks.append(chunk)
        raw = b"".join(chunks)
        if not raw.strip():
            raise ApiError(400, "the request body is empty; send a JSON object")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ApiError(400, f"the request body is not UTF-8: byte 0x{raw[exc.start]:02x} at offset "
                                f"{exc.start} cannot be decoded") from None
        try:
            return parse_json(text)
        except json.JSONDecodeError as exc:
            raise ApiError(400, f"the request body is not valid JSON: {exc.msg.lower()} at line {exc.lineno}, "
                                f"column {exc.colno}") from None
        except (ValueError, RecursionError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise ApiError(400, f"the request body is not valid JSON: {reason}") from None

    async def fields(self, request: Request, allowed: tuple[str, ...]) -> Body:
        obj = await self.body(request)
        if not isinstance(obj, dict):
            raise ApiError(422, f"the request body holds {_kind(obj)}; send a JSON object")
        return Body(obj, allowed)

    async def work(self, fn: Callable):
        """Run ``fn`` in a worker thread, within the time limit of a request."""
        limit = self.settings.time_limit
        try:
            with anyio.fail_after(limit):
                return await anyio.to_thread.run_sync(fn, abandon_on_cancel=True, limiter=self.limiter)
        except TimeoutError:
            raise self.too_slow() from None

    def too_slow(self) -> ApiError:
        return ApiError(503, f"the request took longer than {self.settings.time_limit:g} s, the limit for "
                             "one request; send less at a time", headers={"Retry-After": "1"})

    def count(self, items: list, name: str) -> None:
        if len(items) > self.settings.max_records:
            raise ApiError(413, f"`{name}` holds {len(items):,} items; at most {self.settings.max_records:,} "
                                "are accepted in one request", name)

    def version(self, rules: Rules, key: str, field: str, status: int = 422):
        try:
            return rules.version(key)
        except ChiprulesError as exc:
            raise ApiError(status, exc.message, field) from None

    def root_name(self, path: str | None) -> str | None:
        if path is None:
            return None
        p = Path(path).resolve()
        try:
            return p.relative_to(self.served.root.resolve()).as_posix()
        except ValueError:
            return p.name

    # ---- health
    async def health(self, request: Request) -> Response:
        return json_response({"status": "ok"})

    async def ready(self, request: Request) -> Response:
        failure = self.served.failure
        return json_response({
            "ready": True,
            "rules": self.served.current.identity(),
            "stale": failure is not None,
            "reload": failure.to_json() if failure is not None else None,
            "reloads": self.served.reloads,
        })

    # ---- decisions
    async def decisions(self, request: Request) -> Response:
        obj = await self.body(request)
        if isinstance(obj, list):
            obj = {"records": obj}
        if not isinstance(obj, dict):
            raise ApiError(422, f"the request body holds {_kind(obj)}; send an object with `record` or "
                                "`records`, or an array of records")
        body = Body(obj, ("record", "records", "as_of", "timeline", "explain"))
        if "record" in obj and "records" in obj:
            raise ApiError(422, "give `record` (one record) or `records` (an array of records), not both", "records")
        if "record" in obj:
            items = [obj["record"]]
        elif "records" in obj:
            items = obj["records"]
            if not isinstance(items, list):
                raise ApiError(422, f"`records` must be an array of records, not {_kind(items)}", "records")
        else:
            raise ApiError(422, "give `record` (one record) or `records` (an array of records)", "records")
        self.count(items, "records")
        as_of, timeline, explain = body.date("as_of"), body.timeline(), body.flag("explain")
        loaded = self.served.current
        deadline = time.monotonic() + self.settings.time_limit
        log = self.logs.logs_decisions
        request_id = request.scope.get("state", {}).get("request_id")

        def decide():
            out, lines = [], []
            decided = loaded.rules.evaluate_many(json_records(items, "request"), as_of=as_of, timeline=timeline)
            for item, d in zip(items, decided, strict=True):
                if time.monotonic() > deadline:
                    raise TimeoutError
                out.append(decision_json(d, explain))
                if log:
                    lines.append({"event": "decision", "request_id": request_id, "id": d.id,
                                  "input_hash": record_hash(item), "outcome": str(d.outcome),
                                  "classification": list(d.classification), "review_policy": d.review_policy,
                                  "ruleset": d.ruleset.to_json() if d.ruleset else None,
                                  "rules_hash": loaded.hash})
            return out, lines

        try:
            out, lines = await self.work(decide)
        except TimeoutError:
            raise self.too_slow() from None
        self.logs.decisions(lines)
        return json_response({"decisions": out, "rules": loaded.identity()})

    # ---- screening
    async def screen(self, request: Request) -> Response:
        body = await self.fields(request, ("name", "names", "as_of", "country", "address", "lists", "timeline"))
        if body.has("name") and body.has("names"):
            raise ApiError(422, "give `name` or `names`, not both", "names")
        names = body.strings("names") if body.has("names") else body.strings("name")
        if not names:
            raise ApiError(422, "no names to screen; give `name` or `names`", "names")
        self.count(names, "names")
        blank = [n for n in names if not normalize_name(n)]
        if blank:
            raise ApiError(422, f"{', '.join(repr(n) for n in blank[:3])} "
                                f"{'has' if len(blank) == 1 else 'have'} no letters or digits to screen", "names")
        as_of = body.date("as_of")
        on = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
        country, address = body.text("country"), body.text("address")
        lists, timeline = body.strings("lists") or (), body.timeline()
        loaded = self.served.current

        def screen():
            rules = loaded.rules
            model = rules.in_force(on, timeline)
            if model is None:
                raise ApiError(422, f"no version of these rules is in force on {on.isoformat()}", "as_of")
            results = []
            for name in names:
                results.extend(screening_json(m) for m in rules.screen(
                    name, on, country=country, address=address, lists=lists, timeline=timeline))
            return {"on": on.isoformat(), "version": model.version, "results": results,
                    "rules": loaded.identity()}

        return json_response(await self.work(self.guarded(screen)))

    @staticmethod
    def guarded(fn: Callable, field: str | None = None) -> Callable:
        """``fn`` with a chiprules error turned into a refusal of the request."""

        def run():
            try:
                return fn()
            except ChiprulesError as exc:
                raise ApiError(422, exc.message, field, exc.diagnostics) from None

        return run

    # ---- versions
    async def versions(self, request: Request) -> Response:
        loaded = self.served.current
        rules = loaded.rules
        today = dt.date.today()
        items = []
        for m in rules.models:
            items.append({
                "version": m.version, "name": m.name, "title": m.title,
                "effective": m.effective.isoformat() if m.effective else None,
                "until": m.until.isoformat() if m.until else None,
                "timeline": m.timeline, "hash": m.content_hash, "source": m.source,
                "supersedes": m.supersedes, "file": self.root_name(m.path),
                "examples": len(m.examples), "lists": sorted(m.lists),
            })
        timelines = {}
        for t in TIMELINES:
            models = rules.on_timeline(t)
            now_in_force = rules.in_force(today, t)
            timelines[t] = {"versions": [m.version for m in models],
                            "in_force_today": now_in_force.version if now_in_force else None}
        return json_response({"rules": loaded.identity(), "default_timeline": rules.timeline,
                              "versions": items, "timelines": timelines, "editable": self.settings.allow_edit,
                              "chips": [c.name for c in rules.catalog] if rules.catalog else []})

    async def source(self, request: Request) -> Response:
        loaded = self.served.current
        model = self.version(loaded.rules, request.path_params["version"], "version", 404)
        try:
            text = Path(model.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ApiError(404, f"cannot read version `{model.version}`: {exc}", "version") from None
        return json_response({"version": model.version, "file": self.root_name(model.path), "text": text,
                              "editable": self.settings.allow_edit})

    async def save(self, request: Request) -> Response:
        if not self.settings.allow_edit:
            raise ApiError(403, "this service does not write files; start it with `--allow-edit` to save "
                                "rules from the workbench")
        loaded = self.served.current
        model = self.version(loaded.rules, request.path_params["version"], "version", 404)
        body = await self.fields(request, ("text",))
        text = body.text("text", required=True)
        root = self.served.root.resolve()
        target = Path(model.path).resolve()
        if not target.is_relative_to(root) or target.suffix != ".rules":
            raise ApiError(403, f"version `{model.version}` is not a rules file inside the rules root "
                                f"`{display_name(root)}`; it cannot be written")

        def write():
            tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)
            replaced = self.served.check_now()
            failure = self.served.failure
            return {"saved": self.root_name(str(target)), "reloaded": replaced,
                    "rules": self.served.current.identity(),
                    "reload": failure.to_json() if failure is not None else None}

        return json_response(await self.work(write))

    # ---- rules text
    def draft_path(self, version: str | None) -> Path:
        if version is not None:
            model = self.version(self.served.current.rules, version, "version")
            return Path(model.path)
        folder = self.served.path if self.served.path.is_dir() else self.served.path.parent
        return folder / DRAFT_NAME

    async def check(self, request: Request) -> Response:
        body = await self.fields(request, ("text", "version", "examples", "records", "as_of", "explain"))
        text = body.text("text", required=True)
        path = self.draft_path(body.text("version"))
        want_examples = body.flag("examples", True)
        items = body.obj.get("records")
        if items is not None:
            if not isinstance(items, list):
                raise ApiError(422, f"`records` must be an array of records, not {_kind(items)}", "records")
            self.count(items, "records")
        as_of, explain = body.date("as_of"), body.flag("explain")

        def check():
            model, diags = check_file(path, text=text)
            n_err = sum(d.is_error for d in diags)
            out = {
                "file": display_name(path),
                "diagnostics": [d.to_json() for d in sorted(diags, key=lambda d: d.sort_key())],
                "errors": n_err, "warnings": len(diags) - n_err,
                "summary": summary_line(n_err, len(diags) - n_err),
                "text": render_all(diags),
                "version": model.version if model is not None else None,
                "examples": None,
            }
            if want_examples and model is not None and model.examples:
                out["examples"] = [{"name": r.name, "where": r.where, "ok": r.ok, "expected": r.expected,
                                    "actual": r.actual} for r in run_model_examples(model)]
            if items is not None:  # tried on records: decided by the text alone, if it checks
                out["decisions"] = None
                if model is not None:
                    draft = Rules([model], load_catalog_for(path), model.timeline or self.served.timeline)
                    decided = draft.evaluate_many(json_records(items, "request"), as_of=as_of)
                    out["decisions"] = [decision_json(d, explain) for d in decided]
            return out

        return json_response(await self.work(self.guarded(check)))

    async def format(self, request: Request) -> Response:
        body = await self.fields(request, ("text", "version"))
        text = body.text("text", required=True)
        name = display_name(self.draft_path(body.text("version")))

        def fmt():
            formatted = format_text(text, name)
            return {"text": formatted, "changed": formatted != text}

        return json_response(await self.work(self.guarded(fmt, "text")))

    # ---- reports
    async def diff(self, request: Request) -> Response:
        body = await self.fields(request, ("old", "new", "format", "records"))
        old_key, new_key = body.text("old", required=True), body.text("new", required=True)
        fmt = body.choice("format", ("json", "text", "md"), "json")
        items = body.obj.get("records")
        if items is not None:
            if not isinstance(items, list):
                raise ApiError(422, f"`records` must be an array of records, not {_kind(items)}", "records")
            self.count(items, "records")
        loaded = self.served.current
        rules = loaded.rules
        old_model = self.version(rules, old_key, "old")
        new_model = self.version(rules, new_key, "new")

        def compare():
            key = (old_model.content_hash, old_model.path, new_model.content_hash, new_model.path)
            report = self._diffs.get(key) if items is None else None
            if report is None:
                old_rules = Rules([old_model], rules.catalog, old_model.timeline or rules.timeline)
                new_rules = Rules([new_model], rules.catalog, new_model.timeline or rules.timeline)
                records = json_records(items, "request") if items is not None else None
                report = run_diff(old_rules, new_rules, records=records)
                if items is None:
                    self._diffs.remember(key, report)
            return report

        report = await self.work(self.guarded(compare))
        if fmt == "json":
            return json_response(report.to_json())
        media = "text/markdown" if fmt == "md" else "text/plain"
        return Response(render_diff(report, fmt), media_type=f"{media}; charset=utf-8")

    async def plot(self, request: Request) -> Response:
        q = request.query_params
        allowed = ("version", "as_of", "destination", "datacenter", "against", "timeline", "plane")
        for key in q:
            if key not in allowed:
                guess = did_you_mean(key, allowed)
                raise ApiError(422, f"unknown parameter `{key}`" + (f" (did you mean `{guess}`?)" if guess else ""),
                               key)
        as_of = check_date(q["as_of"], "as_of") if "as_of" in q else None
        timeline = check_timeline(q["timeline"]) if "timeline" in q else None
        datacenter = q.get("datacenter", "yes")
        if datacenter not in ("yes", "no"):
            raise ApiError(422, f"`datacenter` `{datacenter}` is not one of `yes`, `no`", "datacenter")
        destination = q.get("destination") or None
        plane = q.get("plane", ",".join(P.TPP_PLANE))
        if plane not in P.PLANES:
            raise ApiError(422, f"`plane` `{plane}` is not one of " + ", ".join(f"`{k}`" for k in sorted(P.PLANES)),
                           "plane")
        loaded = self.served.current
        rules = loaded.rules
        on = dt.date.fromisoformat(as_of) if as_of else None
        if "version" in q:
            model = self.version(rules, q["version"], "version")
        elif on is not None:
            model = rules.in_force(on, timeline)
            if model is None:
                raise ApiError(422, f"no version of these rules is in force on {on}", "as_of")
        else:
            model = rules.latest if timeline is None else (rules.on_timeline(timeline) or [rules.latest])[-1]
        old = None
        against = q.get("against")
        if against:
            try:
                old = rules.version(against)
            except ChiprulesError:
                try:
                    old = rules.in_force(dt.date.fromisoformat(against), timeline)
                except ValueError:
                    old = None
                if old is None:
                    raise ApiError(422, f"`against` `{against}` is no version or date in force in these rules; "
                                        f"versions: {', '.join(m.version for m in rules.models)}",
                                   "against") from None
        key = (loaded.hash, model.version, as_of, destination, datacenter, old.version if old else None, timeline,
               plane)

        def draw():
            svg = self._plots.get(key)
            if svg is not None:
                return svg
            kw = dict(destination=destination, datacenter=datacenter == "yes", fixed={},
                      timeline=timeline or rules.timeline, plane=P.PLANES[plane])
            with self._plot_lock:
                region_map = P.regions(model, rules=rules, as_of=on, **kw)
                changed = P.changes(old, model, rules=rules, as_of=on, **kw) if old is not None else None
                fig = P.draw(region_map, None, chips=rules.catalog, changes=changed,
                             against=old.version if old else None)
                buf = io.BytesIO()
                import matplotlib

                with matplotlib.rc_context({"svg.hashsalt": "chiprules"}):
                    fig.savefig(buf, format="svg", metadata={"Date": None})
            return self._plots.remember(key, buf.getvalue())

        svg = await self.work(self.guarded(draw))
        return Response(svg, media_type="image/svg+xml")

    # ---- the workbench and the schema
    async def workbench(self, request: Request) -> Response:
        return HTMLResponse(page(self.settings.allow_edit, bool(self.settings.token)))

    async def openapi(self, request: Request) -> Response:
        return json_response(openapi_document(self.settings))


def _wrap(handler: Callable, logs: Logs) -> Callable:
    """A route that answers every refusal and failure in JSON, never with a traceback."""

    async def route(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc)
        except ChiprulesError as exc:
            return error_response(ApiError(422, exc.message, None, exc.diagnostics))
        except Exception as exc:  # noqa: BLE001 - a failure is reported, never shown as a traceback
            logs.event({"event": "error", "path": request.url.path, "error": f"{type(exc).__name__}: {exc}"})
            return error_response(ApiError(500, "the service failed on this request; the log says why"))

    return route


class Guard:
    """The outermost layer: request ids, the bearer token, and the access log."""

    def __init__(self, app, settings: Settings, logs: Logs):
        self.app, self.settings, self.logs = app, settings, logs

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        seen = {"status": 500, "bytes": 0}

        async def sending(message):
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-request-id", request_id.encode())]
            elif message["type"] == "http.response.body":
                seen["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            if self.settings.token and scope["path"] not in OPEN_PATHS and not self.allowed(scope):
                exc = ApiError(401, "this service needs a bearer token: send `Authorization: Bearer TOKEN`",
                               headers={"WWW-Authenticate": "Bearer"})
                await error_response(exc)(scope, receive, sending)
            else:
                await self.app(scope, receive, sending)
        finally:
            client = scope.get("client")
            self.logs.access(request_id=request_id, method=scope["method"], path=scope["path"],
                             status=seen["status"], ms=round((time.perf_counter() - start) * 1000, 2),
                             bytes=seen["bytes"], client=client[0] if client else None)

    def allowed(self, scope) -> bool:
        token = self.settings.token.encode()
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, given = value.partition(b" ")
                if scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), token):
                    return True
        if scope["path"] == "/":  # the page itself: a browser opens it as /?token=...
            query = Request(scope).query_params.get("token")
            if query is not None and hmac.compare_digest(query.encode(), token):
                return True
        return False


def create_app(served: Served, settings: Settings | None = None, logs: Logs | None = None) -> Starlette:
    """The service over ``served``: the API under /v1, /health, /ready, /openapi.json and the workbench."""
    settings = settings or Settings()
    logs = logs or Logs()
    svc = Service(served, settings, logs)

    def r(path, handler, methods=("GET",)):
        return Route(path, _wrap(handler, logs), methods=list(methods))

    routes = [
        r("/", svc.workbench),
        r("/health", svc.health),
        r("/ready", svc.ready),
        r("/openapi.json", svc.openapi),
        r("/v1/decisions", svc.decisions, ("POST",)),
        r("/v1/screen", svc.screen, ("POST",)),
        r("/v1/versions", svc.versions),
        r("/v1/versions/{version}/source", svc.source),
        r("/v1/versions/{version}/source", svc.save, ("PUT",)),
        r("/v1/check", svc.check, ("POST",)),
        r("/v1/format", svc.format, ("POST",)),
        r("/v1/diff", svc.diff, ("POST",)),
        r("/v1/plot", svc.plot),
    ]

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            message = f"no route `{request.method} {request.url.path}`; the routes are listed at /openapi.json"
        elif exc.status_code == 405:
            message = f"`{request.url.path}` does not take {request.method}"
        else:
            message = exc.detail or "the request was refused"
        return error_response(ApiError(exc.status_code, message, headers=exc.headers))

    middleware = [Middleware(Guard, settings=settings, logs=logs)]
    if settings.cors_origins:  # off unless origins are named; outside the guard, for preflight requests
        middleware.insert(0, Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                                        allow_methods=["GET", "POST", "PUT"],
                                        allow_headers=["Authorization", "Content-Type"]))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        served.start()  # the watcher runs while the application is served
        try:
            yield
        finally:
            served.stop()

    app = Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: http_error},
                    lifespan=lifespan)
    app.state.service = svc
    return app
