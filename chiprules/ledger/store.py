"""The ledger: what earlier runs drew on quotas and licences, kept in a SQLite file.

``chiprules eval RULES RECORDS --ledger FILE`` seeds the running totals from it and
records the run's draws in one transaction at the end of the run: a run killed before
its commit leaves the file as it was, and SQLite's journal makes the commit itself all
or nothing. A record id already in the ledger is not drawn again: its recorded draws are
replayed, so running the same records twice gives the same decisions and the same file.

Tables: ``meta`` (the schema version, the ruleset's name and timeline), ``runs`` (one row
per run), ``records`` (each record that touched a running total: its fingerprint and run)
and ``draws`` (what each record drew or fed, with the words of its use).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

from chiprules.core.diagnostics import error
from chiprules.core.errors import LedgerError
from chiprules.ledger.tally import Draw, QuotaUse

SCHEMA = "1"
_TABLES = {"meta", "runs", "records", "draws"}
_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (run INTEGER PRIMARY KEY, at TEXT NOT NULL, source TEXT NOT NULL, records INTEGER NOT NULL);
CREATE TABLE records (record TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, day TEXT NOT NULL,
                      run INTEGER NOT NULL REFERENCES runs(run));
CREATE TABLE draws (record TEXT NOT NULL REFERENCES records(record), kind TEXT NOT NULL, name TEXT NOT NULL,
                    key TEXT NOT NULL, period TEXT NOT NULL, day TEXT NOT NULL, amount TEXT NOT NULL,
                    use TEXT NOT NULL, run INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX draws_run ON draws(run);
CREATE INDEX records_run ON records(run);
"""


def _refuse(path, message, help=None, code="ledger-file"):
    raise LedgerError(f"{path}: {message}", [error(code, message, location=str(path), help=help)])


class Ledger:
    """A ledger file, opened for one ruleset (its name and timeline)."""

    def __init__(self, path: str | Path, ruleset: str, timeline: str, *, create: bool = True):
        self.path = Path(path)
        self.ruleset, self.timeline = ruleset, timeline
        exists = self.path.exists()
        if not exists and not create:
            _refuse(self.path, "no ledger here", "give the file `eval --ledger` wrote")
        if exists and not self.path.is_file():
            _refuse(self.path, "not a file", "give a ledger file, or a new name to start one")
        try:
            self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            self.db.execute("PRAGMA foreign_keys = ON")
            if exists and self.path.stat().st_size > 0:
                self._check()
            else:
                self._create()
        except sqlite3.DatabaseError as exc:
            _refuse(self.path, f"not a chiprules ledger, or a damaged one ({exc})",
                    "give the file `eval --ledger` wrote, or a new name to start one; "
                    "restore a damaged ledger from a copy")
        except OSError as exc:
            _refuse(self.path, f"cannot open the ledger: {exc.strerror or exc}")

    @classmethod
    def open_existing(cls, path) -> Ledger:
        """Open a ledger for inspection, whatever rules it was kept for."""
        self = cls.__new__(cls)
        self.path = Path(path)
        if not self.path.is_file():
            _refuse(self.path, "no ledger here", "give the file `eval --ledger` wrote")
        try:
            self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            meta = self._meta()
            self.ruleset, self.timeline = meta.get("ruleset", ""), meta.get("timeline", "")
        except sqlite3.DatabaseError as exc:
            _refuse(self.path, f"not a chiprules ledger, or a damaged one ({exc})",
                    "restore a damaged ledger from a copy")
        return self

    def _meta(self) -> dict:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not _TABLES <= tables:
            raise sqlite3.DatabaseError("its tables are not a ledger's")
        ok = self.db.execute("PRAGMA quick_check").fetchone()
        if not ok or ok[0] != "ok":
            raise sqlite3.DatabaseError(f"integrity check: {ok[0] if ok else 'no answer'}")
        return dict(self.db.execute("SELECT key, value FROM meta"))

    def _check(self) -> None:
        meta = self._meta()
        if meta.get("schema") != SCHEMA:
            _refuse(self.path, f"ledger schema {meta.get('schema')!r}; this chiprules reads schema {SCHEMA}")
        if (meta.get("ruleset"), meta.get("timeline")) != (self.ruleset, self.timeline):
            _refuse(self.path, f"this ledger is kept for rules `{meta.get('ruleset')}` on the "
                    f"`{meta.get('timeline')}` timeline, not `{self.ruleset}` on the `{self.timeline}` timeline",
                    "use the ledger kept for these rules, or a new file", code="ledger-rules")

    def _create(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for stmt in _DDL.strip().split(";"):
                if stmt.strip():
                    self.db.execute(stmt)
            self.db.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("schema", SCHEMA), ("ruleset", self.ruleset), ("timeline", self.timeline)])
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()

    # ---- reading

    def seed(self):
        """Every total drawn so far: (kind, name, key, period, amount)."""
        kinds = {"quota": "quota", "feed": "feed", "licence": "licence"}
        for kind, name, key, period, total in self.db.execute(
                "SELECT kind, name, key, period, group_concat(amount, ' ') FROM draws "
                "GROUP BY kind, name, key, period"):
            yield kinds[kind], name, key, period, sum((Decimal(a) for a in total.split()), Decimal(0))

    def recorded(self, record: str):
        """(fingerprint, run, uses) of a record an earlier run decided, or None."""
        row = self.db.execute("SELECT fingerprint, run FROM records WHERE record = ?", (record,)).fetchone()
        if row is None:
            return None
        uses = [_use(json.loads(u)) for (u,) in self.db.execute(
            "SELECT use FROM draws WHERE record = ? ORDER BY seq", (record,))]
        return row[0], row[1], uses

    # ---- writing

    def commit(self, source: str, records: list[tuple[str, str, dt.date]], draws: list[Draw]) -> int | None:
        """Record a run: its new records (id, fingerprint, day) and their draws, all at once."""
        if not records:
            return None
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
            cur = db.execute("INSERT INTO runs (at, source, records) VALUES (?, ?, ?)", (at, source, len(records)))
            run = cur.lastrowid
            db.executemany("INSERT INTO records VALUES (?, ?, ?, ?)",
                           [(rid, fp, day.isoformat(), run) for rid, fp, day in records])
            db.executemany("INSERT INTO draws VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                (d.record, d.kind, d.name, d.key, d.period, d.day.isoformat(), str(d.amount),
                 json.dumps(_use_json(d.use)), run, i) for i, d in enumerate(draws)])
            if os.environ.get("CHIPRULES_LEDGER_PAUSE"):  # tests: hold the transaction open to be killed
                time.sleep(float(os.environ["CHIPRULES_LEDGER_PAUSE"]))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return run

    def undo(self, run: int | None = None) -> tuple[int, int, int] | None:
        """Remove a run (the last one unless named): (run, records, draws) removed, or None."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            if run is None:
                row = db.execute("SELECT max(run) FROM runs").fetchone()
                run = row[0] if row else None
            if run is None or db.execute("SELECT 1 FROM runs WHERE run = ?", (run,)).fetchone() is None:
                db.execute("ROLLBACK")
                return None
            n_draws = db.execute("DELETE FROM draws WHERE run = ?", (run,)).rowcount
            n_records = db.execute("DELETE FROM records WHERE run = ?", (run,)).rowcount
            db.execute("DELETE FROM runs WHERE run = ?", (run,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return run, n_records, n_draws

    # ---- reporting

    def runs(self):
        return list(self.db.execute(
            "SELECT r.run, r.at, r.source, r.records, "
            "(SELECT count(*) FROM draws d WHERE d.run = r.run AND d.amount != '0') FROM runs r ORDER BY r.run"))

    def balances(self):
        """Per total: (kind, name, key, period, unit, drawn, limit, draws) over every run."""
        out = {}
        for kind, name, key, period, amount, use in self.db.execute(
                "SELECT kind, name, key, period, amount, use FROM draws ORDER BY run, seq"):
            u = json.loads(use)
            if u.get("status") not in ("drawn", "over", "fed"):
                continue  # a licence not valid that day, an amount not known: no total was touched
            k = (kind, name, key, period)
            row = out.setdefault(k, {"unit": u.get("unit") or "", "drawn": Decimal(0), "limit": None, "draws": 0,
                                     "over": 0})
            row["drawn"] += Decimal(amount)
            if Decimal(amount):
                row["draws"] += 1
            elif u.get("status") == "over":
                row["over"] += 1
            if u.get("limit") is not None and kind != "feed":
                row["limit"] = Decimal(u["limit"])
        return out

    def history(self, name: str):
        """The draws on one quota or licence in day order: (day, key, period, amount, status)."""
        return [(dt.date.fromisoformat(day), key, period, Decimal(amount), kind, json.loads(use))
                for day, key, period, amount, kind, use in self.db.execute(
                    "SELECT day, key, period, amount, kind, use FROM draws WHERE name = ? ORDER BY day, record",
                    (name,))]


def _use_json(u: QuotaUse) -> dict:
    return {"kind": u.kind, "name": u.name, "title": u.title, "cite": u.cite, "key": u.key,
            "period": u.period, "unit": u.unit, "limit": None if u.limit is None else str(u.limit),
            "used": str(u.used), "draw": None if u.draw is None else str(u.draw), "status": u.status,
            "effect": u.effect, "share": None if u.share is None else str(u.share),
            "fed_total": None if u.fed_total is None else str(u.fed_total)}


def _use(j: dict) -> QuotaUse:
    def dec(v):
        return None if v is None else Decimal(v)

    return QuotaUse(j["kind"], j["name"], j["title"], j["cite"], j["key"], j["period"], j["unit"], dec(j["limit"]),
                    Decimal(j["used"]), dec(j["draw"]), j["status"], j["effect"], dec(j["share"]),
                    dec(j["fed_total"]))
