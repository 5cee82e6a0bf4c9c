"""The service's logs: one JSON object per line.

- the **access log** (on stderr by default): one line per request, with its method,
  path (never the query, which may carry the token), status, duration and size;
- events: reloads of the rules, with the diagnostics of rules that did not check;
- the **decision log** (opt-in, a JSON Lines file): one line per decision, with a
  hash of the record as received, the outcome, the ruleset version and hash, and
  the time; the record itself is not written.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from pathlib import Path
from typing import IO

from chiprules.serve.state import now


def record_hash(item: object) -> str:
    """The SHA-256 of a record as received, in a canonical JSON form (sorted keys)."""
    text = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Logs:
    def __init__(self, stream: IO[str] | None = None, decision_log: str | Path | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self._lock = threading.Lock()
        self._decisions: IO[str] | None = None
        self.decision_path = Path(decision_log) if decision_log else None
        if self.decision_path is not None:
            self._decisions = self.decision_path.open("a", encoding="utf-8")

    def write(self, obj: dict) -> None:
        line = json.dumps({"time": now(), **obj}, ensure_ascii=False, default=str)
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # a closed stderr must not fail a request
                pass

    def access(self, **fields) -> None:
        self.write({"event": "access", **fields})

    def event(self, obj: dict) -> None:
        self.write(obj)

    @property
    def logs_decisions(self) -> bool:
        return self._decisions is not None

    def decisions(self, lines: list[dict]) -> None:
        if self._decisions is None or not lines:
            return
        at = now()
        text = "".join(json.dumps({"time": at, **obj}, ensure_ascii=False, default=str) + "\n" for obj in lines)
        with self._lock:
            self._decisions.write(text)
            self._decisions.flush()

    def close(self) -> None:
        if self._decisions is not None:
            self._decisions.close()
            self._decisions = None
