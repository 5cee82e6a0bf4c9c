"""The rules a service decides with, and reloading them when their files change.

`Served` holds one loaded `Rules` at a time. A watcher thread compares a
fingerprint of the files under the rules root (name, size, modification time)
every ``interval`` seconds; when it changes, the rules are loaded and checked
again beside the ones in use. Only rules that check replace them, in one
assignment, so a request sees either the old rules or the new, never a mixture;
rules that do not check leave the last good ones serving, and their diagnostics
are kept for `/ready` and written to the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import attrs

import chiprules
from chiprules.core.diagnostics import render_all
from chiprules.core.errors import ChiprulesError
from chiprules.engine import Rules
from chiprules.lang.checker import find_root

#: the files of a rules root that can change what the rules mean
WATCHED_SUFFIXES = frozenset({".rules", ".csv", ".tsv", ".toml", ".json", ".jsonl", ".txt"})
MAX_WATCHED = 20_000


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@attrs.frozen
class Loaded:
    """One set of rules that checked, with when it was loaded and a hash of all its versions."""

    rules: Rules
    loaded_at: str
    hash: str

    @classmethod
    def of(cls, rules: Rules) -> Loaded:
        digest = hashlib.sha256()
        for m in rules.models:
            digest.update(f"{m.version}:{m.timeline}:{m.content_hash}\n".encode())
        return cls(rules, now(), digest.hexdigest()[:16])

    def identity(self) -> dict:
        return {"hash": self.hash, "loaded_at": self.loaded_at, "versions": len(self.rules.models)}


@attrs.frozen
class Failure:
    """A reload whose rules did not check: the last good rules go on serving."""

    at: str
    message: str
    diagnostics: tuple = ()

    def to_json(self) -> dict:
        return {
            "at": self.at,
            "message": self.message,
            "diagnostics": [d.to_json() for d in self.diagnostics],
            "text": render_all(self.diagnostics) if self.diagnostics else f"error: {self.message}",
        }


def fingerprint(root: Path) -> tuple:
    """Name, size and modification time of every watched file under ``root``."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or Path(name).suffix.lower() not in WATCHED_SUFFIXES:
                continue
            p = os.path.join(dirpath, name)
            try:
                st = os.stat(p)
            except OSError:
                continue
            out.append((p, st.st_size, st.st_mtime_ns))
            if len(out) >= MAX_WATCHED:
                return tuple(out)
    return tuple(out)


class Served:
    """The rules in use, reloaded atomically when their files change."""

    def __init__(self, path: str | Path, *, timeline: str = "enforced", interval: float = 1.0,
                 log: Callable[[dict], None] | None = None):
        self.path = Path(path)
        self.timeline = timeline
        self.interval = interval
        self.root = find_root(self.path)
        self.log = log or (lambda event: None)
        self._seen = fingerprint(self.root)
        self.current = Loaded.of(self._load())  # raises ChiprulesError: the service does not start
        self.failure: Failure | None = None
        self.reloads = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _load(self) -> Rules:
        rules = chiprules.load(self.path, timeline=self.timeline)
        for m in rules.models:  # compile every version now, not on the first request after a reload
            rules.compiled(m)
        return rules

    @property
    def rules(self) -> Rules:
        return self.current.rules

    def check_now(self) -> bool:
        """Reload if any watched file changed since the last look; True if the rules were replaced."""
        with self._lock:
            seen = fingerprint(self.root)
            if seen == self._seen:
                return False
            self._seen = seen
            return self._reload()

    def _reload(self) -> bool:
        try:
            rules = self._load()
        except ChiprulesError as exc:
            self.failure = Failure(now(), exc.message, tuple(exc.diagnostics))
            self.log({"event": "reload", "ok": False, "serving": self.current.hash,
                      "message": exc.message, "diagnostics": [d.to_json() for d in exc.diagnostics]})
            return False
        except Exception as exc:  # noqa: BLE001 - a reload must never stop the service
            self.failure = Failure(now(), f"the rules could not be loaded: {type(exc).__name__}: {exc}")
            self.log({"event": "reload", "ok": False, "serving": self.current.hash,
                      "message": self.failure.message})
            return False
        old = self.current.hash
        self.current = Loaded.of(rules)
        self.failure = None
        self.reloads += 1
        self.log({"event": "reload", "ok": True, "previous": old, "serving": self.current.hash,
                  "versions": len(rules.models)})
        return True

    # ---- the watcher thread
    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="chiprules-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check_now()
            except Exception as exc:  # noqa: BLE001 - keep watching
                self.log({"event": "reload", "ok": False, "message": f"{type(exc).__name__}: {exc}"})
