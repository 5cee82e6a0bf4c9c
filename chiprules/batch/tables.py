"""Decisions as tables: the batch columns, written by any engine.

One row per input record, in input order: the decision columns
(`chiprules.batch.duck.DECISION_COLUMNS`) beside the input's own columns. Lists are
arrays in Parquet and JSON Lines, and joined in CSV (`;`, or ` | ` for texts that
may hold semicolons). Every engine writes the same file for the same input, so an
auditor can join it back, and the tests can compare engines file for file.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from chiprules.batch.duck import CSV_SEPARATORS, DECISION_COLUMNS, LIST_COLUMNS, decision_row
from chiprules.core.escape import formula_safe
from chiprules.data.records import RawRecord

_BATCH = 10_000


def record_rows(rules, records: Iterable[RawRecord], decisions: Iterable) -> Iterator[dict]:
    """Rows of decision columns and the input's own columns, from the per-record engine."""
    taken = set(DECISION_COLUMNS)
    for n, (rec, d) in enumerate(zip(records, decisions, strict=True), 1):
        row = decision_row(rules, d, getattr(rec, "number", n))
        data = rec.data if isinstance(rec, RawRecord) else rec
        for k, v in data.items():
            row[k if k not in taken else f"input_{k}"] = None if v is None or v == "" else str(v)
        yield row


def _schema(columns: list[str]) -> pa.Schema:
    fields = []
    for k in columns:
        if k == "row":
            fields.append((k, pa.int64()))
        elif k in LIST_COLUMNS:
            fields.append((k, pa.list_(pa.string())))
        else:
            fields.append((k, pa.string()))
    return pa.schema(fields)


def csv_cell(key: str, value):
    """A value as a CSV cell: lists joined, numbers as text, nothing a spreadsheet would run
    as a formula (`chiprules.core.escape.formula_safe`)."""
    if key in LIST_COLUMNS and isinstance(value, list):
        return formula_safe(CSV_SEPARATORS[key].join(value))
    return "" if value is None else formula_safe(value)


def write_rows(rows: Iterable[dict], out, fmt: str) -> None:
    """Write rows of decision columns to ``out`` (a path, or a text stream for csv and jsonl)."""
    rows = iter(rows)
    first = next(rows, None)
    columns = list(DECISION_COLUMNS) + ([k for k in first if k not in DECISION_COLUMNS] if first else [])
    if fmt == "parquet":
        schema = _schema(columns)
        with pq.ParquetWriter(out, schema) as writer:
            batch = [first] if first is not None else []
            for row in rows:
                batch.append(row)
                if len(batch) >= _BATCH:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
        return
    stream = open(out, "w", encoding="utf-8", newline="") if isinstance(out, str) else out
    try:
        if fmt == "csv":
            w = csv.writer(stream, lineterminator="\n")
            w.writerow(columns)
            for row in itertools.chain([first] if first is not None else [], rows):
                w.writerow([csv_cell(k, row.get(k)) for k in columns])
        else:
            for row in itertools.chain([first] if first is not None else [], rows):
                stream.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    finally:
        if isinstance(out, str):
            stream.close()


__all__ = ["csv_cell", "record_rows", "write_rows"]
