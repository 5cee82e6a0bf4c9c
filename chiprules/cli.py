"""The `chiprules` command line, on the package's public entry points: `chiprules.load` and
`Rules`, the checker and formatter, the diff and the plots, and the decision's own words."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import difflib
import json
import sys
import time
import warnings
from pathlib import Path

import click
from rich.console import Console

import chiprules
from chiprules.batch.duck import DECISION_COLUMNS, BatchEngine, output_format
from chiprules.batch.plan import Plan
from chiprules.batch.spark import SparkBatch
from chiprules.batch.tables import csv_cell, record_rows, write_rows
from chiprules.core.dates import as_date
from chiprules.core.diagnostics import render_all, summary_line
from chiprules.core.errors import ChiprulesError, DataError, RecordError, RulesError
from chiprules.core.escape import formula_safe, printable
from chiprules.data.countries import RetiredCountry, UnknownCountry, country_name, resolve_country
from chiprules.data.records import read_records
from chiprules.eval.explain import decision_json, explain_decision, screening_json, screening_words
from chiprules.eval.prepare import UnknownFieldWarning, near_field, unknown_field_message
from chiprules.lang.checker import check_file
from chiprules.lang.formatter import format_file
from chiprules.ledger import Ledger
from chiprules.ledger.tally import amount_text
from chiprules.model.checked import OUTCOMES
from chiprules.model.walk import unsettled_zones
from chiprules.report import plot as P
from chiprules.report.diff import diff as run_diff
from chiprules.report.diff_render import render
from chiprules.report.examples import run_examples
from chiprules.report.quota_plot import draw_quota, quota_series
from chiprules.report.versions import fragment_warnings, scaffold
from chiprules.screening.names import has_name
from chiprules.serve import Logs, Served, Settings, create_app
from chiprules.serve.server import run as run_server

# Exit statuses, the same for every command (docs/reliability.md):
EXIT_OK = 0  # all fine
EXIT_FINDINGS = 1  # check, fmt --check, test: the rules have errors, need formatting, or an example fails
EXIT_RECORDS = 2  # eval: some records were malformed (each reported on its own row)
EXIT_FAIL_ON = 3  # eval, screen: a --fail-on outcome or status was found
EXIT_INPUT = 4  # a records, names or output file cannot be read or written
EXIT_RULES = 5  # the rules (or a data file beside them) do not load
EXIT_USAGE = 64  # the command line itself is wrong: an unknown option, a bad date or country


def _fail(exc: ChiprulesError, fmt: str = "text") -> None:
    click.echo(exc.render(fmt), err=True)


def _exit_for(exc: ChiprulesError) -> int:
    """The exit status of a failed command: the rules, the input, or what was asked of them
    (a version or date the rules do not have)."""
    if isinstance(exc, RulesError | DataError):
        return EXIT_RULES
    return EXIT_INPUT if isinstance(exc, RecordError) else EXIT_USAGE


def _usage(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


class _Commands(click.Group):
    """The command group, with its own exit status for a wrong command line (64, not 2: 2
    means malformed records)."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            exc.show()
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def _rules_files(paths) -> list[Path]:
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*.rules") if q.is_file()))
        else:
            out.append(p)
    return out


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chiprules")
def main():
    """chiprules: export controls on advanced AI chips, as rules you can read, test and diff.

    Exit statuses, for every command: 0 all fine; 1 the rules have errors, need
    formatting or fail an example (check, fmt --check, test); 2 some records were
    malformed (eval); 3 a --fail-on outcome or status was found; 4 an input or
    output file cannot be read or written; 5 the rules do not load; 64 a wrong
    command line.
    """


# ---- check ----------------------------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="Diagnostics as text for people or JSON for editors and CI.")
def check(paths, fmt):
    """Parse and check rules files or folders; diagnostics go to stderr.

    Exit status 0 when clean (warnings allowed), 1 when there are errors.
    """

    diags = []
    files = _rules_files(paths)
    if not files:
        click.echo(f"error: no .rules files in {', '.join(paths)}", err=True)
        sys.exit(EXIT_FINDINGS)
    models = []
    for f in files:
        model, ds = check_file(f)
        diags.extend(ds)
        models.append(model)
    if not any(d.is_error for d in diags):
        diags.extend(fragment_warnings(models))
    n_err = sum(d.is_error for d in diags)
    if fmt == "json":
        click.echo(render_all(diags, "json"))
    elif diags:
        click.echo(render_all(diags), err=True)
    if fmt == "text":
        click.echo(f"checked {len(files)} file{'s' if len(files) != 1 else ''}: "
                   + ("no problems" if not diags else summary_line(n_err, len(diags) - n_err)),
                   err=True)
        zones = {}
        for model in models:
            for key, zone in (unsettled_zones(model) if model is not None else {}).items():
                zones.setdefault((key, zone.span.source.name if zone.span else "?",
                                  zone.span.line if zone.span else 0), zone)
        for (key, where, line), zone in sorted(zones.items()):
            click.echo(f"unsettled law: `{key}` at {where}:{line}: {zone.why}", err=True)
    sys.exit(EXIT_FINDINGS if n_err else EXIT_OK)


# ---- lsp ----------------------------------------------------------------------------------


@main.command()
@click.option("--stdio", is_flag=True, help="Speak on stdin and stdout (the default, and the only way).")
def lsp(stdio):
    """Run the language server for editors (Language Server Protocol over stdio)."""
    # imported here: the server's protocol library adds half a second to every other command
    from chiprules.lsp import serve

    serve()


# ---- fmt ----------------------------------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--check", "check_only", is_flag=True, help="Change nothing; exit 1 if a file would change.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print what would change as a unified diff; change nothing.")
def fmt(paths, check_only, show_diff):
    """Format rules files canonically, keeping comments.

    With --check or --diff no file is written; --check exits 1 if a file would change."""

    changed, failed = [], 0
    files = _rules_files(paths)
    if not files:
        click.echo(f"error: no .rules files in {', '.join(paths)}", err=True)
        sys.exit(EXIT_FINDINGS)
    for f in files:
        try:
            old, new = format_file(f)
        except ChiprulesError as exc:
            _fail(exc)
            failed += 1
            continue
        if old == new:
            continue
        changed.append(f)
        if show_diff:
            click.echo("".join(difflib.unified_diff(
                old.splitlines(True), new.splitlines(True), f"{f} (before)", f"{f} (formatted)")))
        if not (check_only or show_diff):
            f.write_text(new, encoding="utf-8")
    verb = "would reformat" if check_only or show_diff else "reformatted"
    for f in changed:
        click.echo(f"{verb} {f}", err=True)
    if failed:
        sys.exit(1)
    sys.exit(1 if check_only and changed else 0)


# ---- new-version --------------------------------------------------------------------------


@main.command("new-version")
@click.argument("rules", type=click.Path(exists=True, file_okay=False))
@click.argument("date")
@click.option("--timeline", type=click.Choice(["both", "enforced", "written"]), default="both", show_default=True,
              help="Copy the latest version of this timeline (both: of each, one file when they are the same).")
def new_version(rules, date, timeline):
    """Scaffold the version(s) in force from DATE, copied from the latest version in RULES.

    Examples dated before DATE are re-dated to it; those that then fail are set aside as
    comments saying what they expected and what they get. The report names the shared files
    the new version includes: editing one changes every version that includes it.
    """
    try:
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            raise ChiprulesError(f"`{date}` is not a date: write YYYY-MM-DD") from None
        made = scaffold(rules, day, timeline)
    except ChiprulesError as exc:
        _fail(exc)
        sys.exit(_exit_for(exc))
    for s in made:
        where = f" ({s.timeline} timeline)" if s.timeline else ""
        click.echo(f"wrote {s.path}: version {s.version}, copied from {s.copied_from}{where}")
        click.echo("  header: write its `source` and, in the comment at the top, what it changes")
        click.echo(f"  examples: {s.kept} kept, {len(s.redated)} of them re-dated to {s.version[:10]}; "
                   f"{len(s.set_aside)} set aside as comments (they fail under the copy)")
        for name, expected, actual in s.set_aside:
            click.echo(f"    {name}: expected {expected}; actual {actual}")
        click.echo("  shared files it includes (editing one changes every version listed):")
        for f, users in s.shared:
            span = f"{users[0]} to {users[-1]}" if len(users) > 2 else ", ".join(users)
            click.echo(f"    {f}: {len(users)} version{'s' if len(users) != 1 else ''} ({span})")
        click.echo("  to change a shared file for this version only, copy it under a new name and point "
                   "this version's `include` at the copy")


# ---- test ---------------------------------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-v", "--verbose", is_flag=True, help="List passing examples too.")
def test(paths, verbose):
    """Run the examples written in the rules; show expected against actual for each failure."""

    files = _rules_files(paths)
    if not files:
        click.echo(f"error: no .rules files in {', '.join(paths)}", err=True)
        sys.exit(EXIT_FINDINGS)
    try:
        results = run_examples(files)
    except ChiprulesError as exc:
        _fail(exc)
        sys.exit(EXIT_FINDINGS)
    passed = failed = 0
    for res in results:
        if res.ok:
            passed += 1
            if verbose:
                click.echo(f"PASS {res.where}: {res.name}")
        else:
            failed += 1
            click.echo(res.report())
    click.echo(f"{passed} passed, {failed} failed")
    if not passed + failed:
        click.echo(f"error: no examples in {', '.join(paths)}", err=True)
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


# ---- eval ---------------------------------------------------------------------------------


@main.command(name="eval")
@click.argument("rules", type=click.Path(exists=True))
@click.argument("records", type=click.Path(allow_dash=True))
@click.option("--as-of", "as_of", help="Decide every record as of this date (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl", "csv"]), default="table",
              help="Output on stdout: a terminal table, JSON Lines, or CSV.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the decisions to this file instead, beside the input's own columns: "
                   ".parquet, .csv or .jsonl.")
@click.option("--engine", type=click.Choice(["auto", "batch", "record", "spark"]), default="auto",
              show_default=True,
              help="batch: DuckDB, embedded (the default for -o); record: one record at a time (the "
                   "default on stdout); spark: Apache Spark (see --master).")
@click.option("--memory-limit", "memory_limit", metavar="SIZE",
              help="Memory for the batch engine (default 2GB; larger inputs spill to a temporary folder), or for the Spark driver (default 4GB).")
@click.option("--master", help="Spark master URL for --engine spark (default local[*]).")
@click.option("--reasons", is_flag=True, help="Add every reason (rules, citations, values) to the output.")
@click.option("--explain", is_flag=True, help="Explain every decision in plain words.")
@click.option("--fail-on", "fail_on", type=click.Choice([str(o) for o in OUTCOMES]), multiple=True,
              help="Exit 3 if any record has this outcome (repeatable).")
@click.option("--timeline", type=click.Choice(["enforced", "written"]), default="enforced",
              help="After 2025-05-13: the regime as enforced (default) or as written.")
@click.option("--input-format", "input_format", type=click.Choice(["csv", "tsv", "json", "jsonl", "parquet"]),
              help="Override the format guessed from the file name.")
@click.option("--licences", "licences_path", type=click.Path(dir_okay=False),
              help="A CSV file of the licences the exporter holds: a shipment one covers is decided as "
                   "covered while its balance lasts.")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False),
              help="A SQLite file of earlier draws on quotas and licences: seeds the balances and records "
                   "this run's draws (created when missing).")
def eval_(rules, records, as_of, fmt, output, engine, memory_limit, master, reasons, explain, fail_on, timeline,
          input_format, licences_path, ledger_path):
    """Decide every record in RECORDS under RULES (a file or a folder of dated versions).

    Each record uses the version in force on its export_date (or --as-of). RECORDS is a
    CSV, TSV, JSON, JSON Lines or Parquet file, or `-` for JSON Lines on stdin.

    With -o, the decisions go to a file (Parquet, CSV or JSON Lines, from its name), one
    row per input record in input order, beside the input's own columns; the batch
    engine decides them (DuckDB, with bounded memory). Without -o, decisions are printed
    one record at a time. --engine chooses otherwise.

    With --licences or --ledger, or when the rules declare quotas the records can draw
    on, records are decided in export_date order (ties by id) by the per-record engine,
    each drawing on the running totals; output stays in input order. --ledger keeps the
    draws between runs and ends with each quota's use on stderr.

    Exit status: 0 done; 2 some records were malformed (each still has its row);
    3 a --fail-on outcome was found; 4 RECORDS, the licences or the ledger cannot be
    read (or the ledger is kept for other rules); 5 the rules do not load; 64 a wrong
    command line.
    """
    try:
        if as_of is not None:
            dt.date.fromisoformat(as_of)
    except ValueError:
        _usage(f"--as-of `{as_of}` is not a date; write YYYY-MM-DD")
    tallied = licences_path is not None or ledger_path is not None
    if tallied and engine in ("batch", "spark"):
        _usage(f"--engine {engine} decides no licences, quotas or ledgers; leave --engine out, or "
               "give --engine record, with --licences or --ledger")
    ledger = None
    try:
        ruleset = chiprules.load(rules, timeline=timeline)
        if engine == "auto":
            engine = "batch" if output is not None and records != "-" else "record"
            if engine == "batch" and (tallied or ruleset.quotas_in_play(_columns(records, input_format), timeline)):
                engine = "record"  # the batch engine decides no quotas
        licences = chiprules.load_licences(licences_path) if licences_path is not None else ()
        if ledger_path is not None:
            ledger = chiprules.open_ledger(ledger_path, ruleset, timeline)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownFieldWarning)  # said once below, in the house style
            if engine == "record":
                counts = _eval_record(ruleset, records, input_format, as_of, fmt, output, explain, reasons,
                                      timeline, licences, ledger, tallied)
                near = ruleset.preparer.near_misses
            else:
                counts = _eval_table(ruleset, records, input_format, as_of, fmt, output, explain, reasons,
                                     engine, memory_limit, master, timeline)
                near = _near_misses(ruleset, records, input_format)
    except ChiprulesError as exc:
        _fail(exc)
        sys.exit(_exit_for(exc))
    except OSError as exc:  # the ledger's disk, mid-run
        click.echo(f"error: {ledger_path}: cannot write the ledger: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_INPUT)
    for name, guess in near.items():
        click.echo(f"warning: {records}: {unknown_field_message(name, guess)}", err=True)
    n = sum(counts.values())
    summary = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts.get(o))
    click.echo(f"{n} record{'s' if n != 1 else ''}: {summary or 'none'}", err=True)
    if ledger is not None:
        run = getattr(ledger, "last_run", None)
        click.echo(f"ledger {ledger_path}: " + (f"run {run} recorded" if run else "nothing new to record"),
                   err=True)
        click.echo(ledger_summary(ledger), err=True, nl=False)
        ledger.close()
    if any(counts.get(o) for o in fail_on):
        sys.exit(EXIT_FAIL_ON)
    sys.exit(EXIT_RECORDS if counts.get("error") else EXIT_OK)


def _columns(records, input_format) -> list[str]:
    """The field names of a records file's first record (its columns)."""
    try:
        first = next(iter(read_records(records, input_format)), None)
    except ChiprulesError:
        return []
    return list(first.data) if first is not None else []


def ledger_summary(ledger) -> str:
    """Each quota's and licence's use by key, from the ledger: one line each."""
    lines = []
    for (kind, name, key, period), row in sorted(ledger.balances().items(), key=lambda kv: (kv[0][1], kv[0][2],
                                                                                           kv[0][3], kv[0][0])):
        if kind == "feed":
            lines.append(f"  {name} [{key}, {period}]: fed {amount_text(row['drawn'], row['unit'])}")
            continue
        label = f"licence {name} [{key}, {period}]" if kind == "licence" else f"{name} [{key}, {period}]"
        if kind == "licence":
            label = f"licence {name} [{period}]"
        used = amount_text(row["drawn"], row["unit"] if kind != "licence" or key == "TPP" else "")
        limit = row["limit"]
        if limit is not None:
            unit = row["unit"] if kind != "licence" or key == "TPP" else ""
            left = amount_text(limit - row["drawn"], unit)
            text = f"{used} of {amount_text(limit, unit)} used, {left} left"
        else:
            text = f"{used} used"
        text += f" ({row['draws']} draw{'s' if row['draws'] != 1 else ''}"
        text += f", {row['over']} over the limit)" if row["over"] else ")"
        lines.append(f"  {label}: {text}")
    head = "ledger balances:" if lines else "ledger balances: none"
    return "\n".join([head, *lines]) + "\n"


def _near_misses(ruleset, records, input_format) -> dict[str, str]:
    """Columns of a records file that no version reads but are spelled close to a field."""
    first = next(iter(read_records(records, input_format)), None)
    if first is None:
        return {}
    specs = ruleset.specs
    found = {}
    for name in first.data:
        if name not in specs:
            guess = near_field(name, specs)
            if guess is not None:
                found[name] = guess
    return found


def _eval_record(ruleset, records, input_format, as_of, fmt, output, explain, reasons, timeline=None,
                 licences=(), ledger=None, tallied=False) -> dict:
    """The per-record engine: streamed to stdout, or to a file in the batch layout."""
    counts = {str(o): 0 for o in OUTCOMES}

    def decide(recs):
        return ruleset.evaluate_many(recs, as_of=as_of, timeline=timeline, licences=licences, ledger=ledger,
                                     source=str(records))
    if output is not None:
        raws = []

        def read():
            for rec in read_records(records, input_format):
                raws.append(rec)
                yield rec

        def rows():
            for d in decide(read()):
                rec = raws.pop(0)
                counts[str(d.outcome)] += 1
                row = next(record_rows(ruleset, [rec], [d]))
                if tallied:
                    row["licence"], row["quotas"] = d.licence, quota_notes(d) or None
                _add_reasons(row, d, explain, reasons)
                yield row

        write_rows(rows(), output, output_format(output))
        return counts
    out = sys.stdout
    writer = _writer(fmt, out, explain, tallied)
    tty = sys.stderr.isatty()
    start = time.monotonic()
    n = 0
    for d in decide(read_records(records, input_format)):
        n += 1
        counts[str(d.outcome)] += 1
        writer(d)
        if explain and fmt == "table":
            out.write(printable(explain_decision(d), keep_newlines=True) + "\n\n")
        if tty and n % 5000 == 0:
            rate = n / max(time.monotonic() - start, 1e-9)
            sys.stderr.write(f"\r{n:,} records, {rate:,.0f}/s ")
            sys.stderr.flush()
    if tty and n >= 5000:
        sys.stderr.write("\r" + " " * 40 + "\r")
    writer(None)
    return counts


def _add_reasons(row: dict, d, explain: bool, reasons: bool) -> None:
    if reasons:
        row["reasons"] = json.dumps([r.to_json() for r in d.reasons], ensure_ascii=False)
    if explain:
        row["explanation"] = explain_decision(d)


def _eval_table(ruleset, records, input_format, as_of, fmt, output, explain, reasons, engine, memory_limit,
                master, timeline) -> dict:
    """The batch engine (DuckDB) or Spark: the whole table at once."""
    with _progress() as progress:
        if engine == "spark":
            runner = SparkBatch(ruleset, timeline=timeline, as_of=as_of, master=master, progress=progress,
                                memory=memory_limit)
        else:
            runner = BatchEngine(ruleset, timeline=timeline, as_of=as_of, memory_limit=memory_limit,
                                 progress=progress)
        if output is not None and not (explain or reasons):
            runner.decide_file(records, input_format, output)
            return runner.counts
        table = runner.decide_file(records, input_format)
    rows = table.to_pylist()
    if explain or reasons:
        decisions = ruleset.evaluate_many(read_records(records, input_format), as_of=as_of)
        for row, d in zip(rows, decisions, strict=True):
            _add_reasons(row, d, explain, reasons)
    if output is not None:
        write_rows(rows, output, output_format(output))
    elif fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False, default=str))
    elif fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        columns = list(rows[0]) if rows else list(DECISION_COLUMNS)
        w.writerow(columns)
        for row in rows:
            w.writerow([csv_cell(k, row.get(k)) for k in columns])
    else:
        _table_rows(rows, explain)
    return runner.counts


def _table_rows(rows, explain: bool) -> None:
    """The batch columns as the terminal table."""
    write = _table_writer(sys.stdout)
    for row in rows:
        write(_Row(row))
        if explain:
            sys.stdout.write(printable(row["explanation"], keep_newlines=True) + "\n\n")


class _Row:
    """A batch row read as the table writer reads a decision."""

    def __init__(self, row: dict):
        self.id, self.outcome = row["id"], row["outcome"]
        self.classification = tuple(row["classification"] or ())
        self.jurisdiction = tuple((row.get("jurisdiction") or "").split(";")) if row.get("jurisdiction") else ()
        self.review_policy = row["review_policy"]
        self.license_exceptions = tuple(_Named(n) for n in row["license_exceptions"] or ())
        self.ruleset = _Named(row["ruleset_version"]) if row["ruleset_version"] else None
        if self.ruleset is not None:
            self.ruleset.version = row["ruleset_version"]
        self.errors, self.warnings = tuple(row["errors"] or ()), tuple(row["warnings"] or ())
        self.missing = tuple(row["missing"] or ())
        self.notes = tuple(row["possible_matches"] or ()) + tuple(
            f"unsettled: {u.split(':', 1)[0]}" for u in row["unsettled"] or ())


class _Named:
    def __init__(self, name):
        self.name = name


@contextlib.contextmanager
def _progress():
    """A spinner with the batch engine's stage on stderr, when it is a terminal; else silence."""
    if not sys.stderr.isatty():
        yield None
        return
    console = Console(stderr=True)
    with console.status("starting") as status:
        yield lambda message: status.update(message)


def quota_notes(d) -> str:
    """What a decision drew on quotas and licences, in a few words each."""
    return "; ".join(u.note() for u in d.quota_uses)


def _writer(fmt, out, explain, tallied=False):

    if fmt == "jsonl":
        def write(d):
            if d is None:
                return
            obj = decision_json(d, explain)
            out.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
        return write
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["id", "outcome", "classification", "jurisdiction", "review_policy", "license_exceptions", "missing",
                    "possible_matches", "unsettled", "version", "ruleset_hash", "rules_fired", "errors", "warnings", "location"]
                   + (["licence", "quotas"] if tallied else []) + (["explanation"] if explain else []))

        def write(d):
            if d is None:
                return
            row = [
                d.id, d.outcome, ";".join(d.classification), ";".join(d.jurisdiction), d.review_policy or "",
                ";".join(g.name for g in d.license_exceptions), ";".join(d.missing),
                ";".join(possible_note(m) for m in d.possible_matches),
                " | ".join(f"{u.condition}: {u.why} ({u.cite})" for u in d.unsettled), d.ruleset.version if d.ruleset else "", d.ruleset.content_hash if d.ruleset else "",
                ";".join(d.rules_fired), " | ".join(d.errors), " | ".join(d.warnings),
                d.location or "",
            ]
            if tallied:
                row += [d.licence or "", quota_notes(d)]
            if explain:
                row.append(explain_decision(d))
            w.writerow([formula_safe(c) for c in row])
        return write
    return _table_writer(out)


def possible_note(m) -> str:
    """A possible list match in a few words: ``possible match: end_user ~ Inspur Group Co., Ltd. (83.5)``."""
    return f"possible match: {m.field} ~ {m.entry} ({m.score:g})"


def _table_writer(out):
    cols = (("id", 10), ("outcome", 20), ("classification", 16), ("jurisdiction", 14), ("review", 24),
            ("exceptions", 10),
            ("version", 10), ("notes", 0))
    header_done = []

    def cell(text, width):
        text = printable(str(text))
        if width == 0:
            return text
        if len(text) > width:
            text = text[: width - 1] + "…"
        return text.ljust(width)

    def write(d):
        if d is None:
            return
        if not header_done:
            out.write("  ".join(cell(name, w) for name, w in cols).rstrip() + "\n")
            out.write("  ".join(("-" * w if w else "-----") for _, w in cols) + "\n")
            header_done.append(True)
        if d.outcome == "error":
            notes = "; ".join(d.errors)
        elif d.outcome == "indeterminate":
            found = d.notes if isinstance(d, _Row) else [possible_note(m) for m in d.possible_matches] + [
                f"unsettled: {u.condition}" for u in d.unsettled]
            notes = "; ".join(([f"missing: {', '.join(d.missing)}"] if d.missing else []) + list(found))
        else:
            uses = getattr(d, "quota_uses", ())
            notes = "; ".join([u.note() for u in uses if u.status != "unknown"] + list(d.warnings))
        row = (d.id, d.outcome, ", ".join(d.classification) or "-", ", ".join(d.jurisdiction) or "-",
               d.review_policy or "-",
               ", ".join(g.name for g in d.license_exceptions) or "-",
               d.ruleset.version if d.ruleset else "-", notes)
        out.write("  ".join(cell(v, w) for v, (_, w) in zip(row, cols, strict=True)).rstrip() + "\n")

    return write


# ---- sql ----------------------------------------------------------------------------------


@main.command()
@click.argument("rules", type=click.Path(exists=True))
@click.option("--dialect", type=click.Choice(["duckdb", "spark", "postgres", "bigquery", "snowflake"]),
              default="duckdb", show_default=True, help="The SQL dialect to print.")
@click.option("--as-of", "as_of", help="Only the version in force on this date, deciding every row on it.")
@click.option("--timeline", type=click.Choice(["enforced", "written"]), default="enforced",
              help="After 2025-05-13: the regime as enforced (default) or as written.")
def sql(rules, dialect, as_of, timeline):
    """Print RULES as one SQL query, for a warehouse.

    The query reads a table `shipments` (a text column per record field) and one table
    of party screenings per party field and list (named in its header), and gives the
    batch engine's decision columns. Rows left with a NULL outcome need chiprules itself:
    a missing fact to split on, or a spelling only the record reader understands.
    """
    try:
        loaded = chiprules.load(rules, timeline=timeline)
        if as_of is not None:
            on = as_date(as_of)
            model = loaded.in_force(on, timeline)
            if model is None:
                raise ChiprulesError(f"no version of these rules is in force on {on.isoformat()}")
            loaded = chiprules.Rules([model], loaded.catalog, timeline, loaded.source)
            on_fixed = on
        else:
            on_fixed = None
        click.echo(Plan(loaded, timeline, on_fixed).query(dialect), nl=False)
    except ChiprulesError as exc:
        _fail(exc)
        sys.exit(_exit_for(exc))


# ---- screen -------------------------------------------------------------------------------


@main.command()
@click.argument("rules", type=click.Path(exists=True))
@click.argument("names", nargs=-1)
@click.option("--file", "names_file", type=click.Path(allow_dash=True),
              help="Read names from a file, one per line (`-` for stdin).")
@click.option("--list", "list_names", multiple=True, help="Screen against this list only (repeatable).")
@click.option("--as-of", "as_of", help="Screen against the entries in force on this date (default: today).")
@click.option("--country", help="The party's country, as evidence (ISO code or name).")
@click.option("--address", help="The party's address, as evidence.")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table",
              help="A table for people, or one JSON object per name and list.")
@click.option("--fail-on", "fail_on", type=click.Choice(["match", "possible"]),
              help="Exit 3 when a name matches (or, with `possible`, matches or possibly matches).")
@click.option("--timeline", type=click.Choice(["enforced", "written"]), default="enforced",
              help="Which timeline picks the version in force.")
def screen(rules, names, names_file, list_names, as_of, country, address, fmt, fail_on, timeline):
    """Screen party NAMES against the party lists of RULES, as `eval` does for records.

    Each name gets `match`, `possible` or `none` ("no listed party found", which is not
    a clearance) per list, with the best entry, its score and why. Exit status: 0 done;
    3 a --fail-on status was found; 4 --file cannot be read; 5 the rules do not load;
    64 a wrong command line (no names, a name with nothing to screen, a bad date or
    country).
    """

    try:
        on = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        _usage(f"--as-of `{as_of}` is not a date; write YYYY-MM-DD")
    if country is not None:
        try:
            country = resolve_country(country)
        except (UnknownCountry, RetiredCountry) as exc:
            guess = getattr(exc, "suggested_code", None)
            _usage(f"--country `{printable(country)}` is not a country"
                   + (f"; did you mean `{guess}` ({country_name(guess)})?" if guess else
                      "; write an ISO 3166-1 alpha-2 code such as `CN`, or a country name"))
    todo = list(names)
    if names_file:
        try:
            text = sys.stdin.read() if names_file == "-" else Path(names_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            click.echo(f"error: cannot read `{names_file}`: {exc}", err=True)
            sys.exit(EXIT_INPUT)
        todo += [line.strip() for line in text.splitlines() if line.strip()]
    if not todo:
        _usage("no names to screen; give NAMES or --file")

    blank = [n for n in todo if not has_name(n)]
    if blank:
        click.echo(f"error: {', '.join(repr(n) for n in blank[:3])} "
                   f"{'has' if len(blank) == 1 else 'have'} no name to screen (only punctuation or a legal "
                   "form); give the party's name", err=True)
        sys.exit(EXIT_USAGE)
    found = {"match": 0, "possible": 0, "none": 0}
    rows = []
    try:
        loaded = chiprules.load(rules, timeline=timeline)
        model = loaded.in_force(on, timeline)
        if model is None:
            raise ChiprulesError(f"no version of these rules is in force on {on.isoformat()}")
        for name in todo:
            for m in loaded.screen(name, on, country=country, address=address, lists=list_names,
                                   timeline=timeline):
                found[m.status] += 1
                rows.append(m)
    except ChiprulesError as exc:
        _fail(exc)
        sys.exit(_exit_for(exc))
    if fmt == "jsonl":
        for m in rows:
            click.echo(json.dumps(screening_json(m), ensure_ascii=False))
    else:
        click.echo(f"screened on {on.isoformat()} against version {model.version}")
        for m in rows:
            score = f"{m.score:g}" if m.score is not None else "-"
            head = {"match": "MATCH   ", "possible": "POSSIBLE", "none": "none    "}[m.status]
            click.echo(f"{head}  {score:>5}  {printable(m.name)}  [{m.list}]")
            click.echo(f"          {printable(screening_words(m))}")
    click.echo(f"{len(todo)} name{'s' if len(todo) != 1 else ''}: {found['match']} match, "
               f"{found['possible']} possible, {found['none']} no listed party found", err=True)
    hit = found["match"] + (found["possible"] if fail_on == "possible" else 0)
    sys.exit(3 if fail_on and hit else 0)


# ---- plot ---------------------------------------------------------------------------------


@main.command()
@click.argument("old", type=click.Path(exists=True))
@click.argument("new")
@click.argument("new_version", required=False)
@click.option("--records", "records_path", type=click.Path(allow_dash=True),
              help="Replay a records file (`-`: JSON Lines on stdin): list every record whose decision "
                   "changes.")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text",
              help="text for a terminal, md for a memo, json for tools.")
@click.option("--timeline", type=click.Choice(["enforced", "written"]), default="enforced",
              help="Which timeline to take version ids from, when OLD is a folder.")
def diff(old, new, new_version, records_path, fmt, timeline):
    """What changed from OLD to NEW, as a memo by cause: each change to the rules, groups and
    lists, with the shipments whose outcome it changes in words and witness records checked
    under both versions; then every region exactly, and every structural change.

    OLD and NEW are rules files; or OLD is a folder of versions and NEW and NEW_VERSION are two
    version ids in it (e.g. `chiprules diff rules/ear 2022-10-07 2023-11-17`).
    """

    try:
        if Path(old).is_dir():
            if new_version is None:
                raise ChiprulesError("with a folder, give two version ids: "
                                     "`chiprules diff FOLDER OLD_VERSION NEW_VERSION`")
            rules = chiprules.load(old, timeline=timeline)
            old_rules = chiprules.Rules([rules.version(new)], rules.catalog, timeline)
            new_rules = chiprules.Rules([rules.version(new_version)], rules.catalog, timeline)
        else:
            if new_version is not None:
                raise ChiprulesError("give two rules files, or a folder and two version ids")
            old_rules = chiprules.load(old, timeline=timeline)
            new_rules = chiprules.load(new, timeline=timeline)
        records = read_records(records_path) if records_path else None
        report = run_diff(old_rules, new_rules, records=records)
    except ChiprulesError as exc:
        _fail(exc)
        sys.exit(_exit_for(exc))
    click.echo(render(report, fmt), nl=False)


@main.command()
@click.argument("rules", type=click.Path(exists=True))
@click.option("-o", "--output", "output", required=True, type=click.Path(),
              help="The picture to write: a .png or .svg file.")
@click.option("--as-of", "as_of", help="Map the version in force on this date (default: the latest).")
@click.option("--version", "version_key", help="Map this version (an id such as 2023-11-17).")
@click.option("--destination", help="Label regions by outcome and review policy for this country.")
@click.option("--datacenter", type=click.Choice(["yes", "no"]), default="yes", show_default=True,
              help="Map chips designed or marketed for datacenters, or not.")
@click.option("--against", help="Hatch what changed since OTHER: a rules file or folder, or a "
                                "version id or date among RULES.")
@click.option("--records", "records_path", type=click.Path(),
              help="Plot the chips of this records file instead of the catalog.")
@click.option("--set", "facts", multiple=True, metavar="FIELD=VALUE",
              help="Hold another fact fixed, e.g. --set dram_bw=4800 (repeatable).")
@click.option("--timeline", type=click.Choice(["enforced", "written"]), default="enforced",
              help="After 2025-05-13: the regime as enforced (default) or as written.")
@click.option("--plane", type=click.Choice(sorted(P.PLANES)), default=",".join(P.TPP_PLANE), show_default=True,
              help="The two fields on the axes: dram_bw,interconnect_bw shows the H20 letter's reach "
                   "and its unsettled zone (with --destination CN).")
@click.option("--ledger", "ledger_path", type=click.Path(dir_okay=False),
              help="With --quota: draw a quota's (or a licence's) use over time from this ledger.")
@click.option("--quota", "quota_name", help="The quota or licence number whose use to draw (with --ledger).")
def plot(rules, output, as_of, version_key, destination, datacenter, against, records_path, facts,
         timeline, plane, ledger_path, quota_name):
    """Draw the TPP x performance-density plane (or --plane) as RULES decide it.

    The regions are exact: they come from the thresholds in the rules, each
    decided by the evaluator; where the law does not decide (an `unsettled`
    condition), the region is hatched and the legend names the condition and its
    source. Chips of the catalog (or of --records) are plotted as points. With
    --ledger and --quota, draws instead the use of a quota (or a licence) over
    time, per key and period, with its limit. Exit status 0 on success; 4 a file
    cannot be read or the picture cannot be written; 5 the rules do not load; 64 a
    wrong command line.
    """
    if (ledger_path is None) != (quota_name is None):
        _usage("--ledger and --quota go together: the ledger to read, and the quota or licence to draw")
    if ledger_path is not None:
        try:
            book = Ledger.open_existing(ledger_path)
            draw_quota(quota_series(book, quota_name), quota_name, output)
        except ChiprulesError as exc:
            _fail(exc)
            sys.exit(EXIT_INPUT)
        click.echo(f"wrote {output}", err=True)
        return

    try:
        if Path(output).suffix.lower() not in P.FORMATS:
            raise ChiprulesError(f"cannot write `{output}`: the picture must be "
                                 + " or ".join(f"`{f}`" for f in P.FORMATS))
        fixed = {}
        for item in facts:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise ChiprulesError(f"--set `{item}`: write FIELD=VALUE")
            fixed[name.strip()] = value.strip()
        on = P._date(as_of) if as_of is not None else None
        loaded = chiprules.load(rules, timeline=timeline)
        if version_key is not None:
            model = loaded.version(version_key)
        elif on is not None:
            model = loaded.in_force(on)
            if model is None:
                raise ChiprulesError(f"no version of `{rules}` is in force on {on}")
        else:
            model = loaded.latest
        kw = dict(destination=destination, datacenter=datacenter == "yes", fixed=fixed, timeline=timeline,
                  plane=P.PLANES[plane])
        region_map = P.regions(model, rules=loaded, as_of=on, **kw)
        changed, against_name, notes = None, None, []
        if against is not None:
            if Path(against).exists():
                other_rules = chiprules.load(against, timeline=timeline)
                old = other_rules.in_force(on) if on is not None else None
                old = old or other_rules.latest
            else:
                other_rules = loaded
                try:
                    old = loaded.version(against)
                except ChiprulesError:
                    try:
                        old = loaded.in_force(dt.date.fromisoformat(against))
                    except ValueError:
                        old = None
                    if old is None:
                        raise ChiprulesError(
                            f"--against `{against}` is no file, version or date in force in `{rules}`; "
                            f"versions: {', '.join(m.version for m in loaded.models)}") from None
            changed = P.changes(old, model, rules=loaded, as_of=on, **kw)
            against_name = old.version
            old_map = P.regions(old, rules=other_rules, **kw)
            if old_map.held:
                notes.append(f"held fixed for {old.version}, which reads it too: {', '.join(old_map.held)}")
        if records_path is not None:
            chips = []
            for raw in read_records(records_path):
                problems = [raw.problem] if raw.problem is not None else []
                if not problems:
                    prepared = loaded.prepare(raw.data)
                    problems = [p.message for p in prepared.problems]
                if problems:
                    click.echo(f"warning: {raw.location}: skipped: {'; '.join(problems)}", err=True)
                    continue
                chips.append(prepared.record)
        else:
            chips = loaded.catalog
        try:
            P.draw(region_map, output, chips=chips, changes=changed, against=against_name, notes=notes)
        except OSError as exc:
            click.echo(f"error: cannot write `{output}`: {exc.strerror or exc}; check that its folder exists "
                       "and can be written", err=True)
            sys.exit(EXIT_INPUT)
    except ChiprulesError as exc:
        _fail(exc)
        sys.exit(_exit_for(exc))
    click.echo(output)


# ---- serve --------------------------------------------------------------------------------


@main.command()
@click.argument("rules", type=click.Path(exists=True))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the default keeps the service to this machine.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--token", envvar="CHIPRULES_TOKEN", show_envvar=True,
              help="Require `Authorization: Bearer TOKEN` on every route but /health.")
@click.option("--allow-edit", "allow_edit", is_flag=True,
              help="Let the workbench save the versions' files (inside the rules root only).")
@click.option("--decision-log", "decision_log", type=click.Path(dir_okay=False),
              help="Append one JSON line per decision to this file (record hash, outcome, ruleset, time).")
@click.option("--timeline", type=click.Choice(["enforced", "written"]), default="enforced",
              help="The timeline of requests that name none.")
@click.option("--max-body", "max_body", default=1 << 20, show_default=True, type=click.IntRange(1),
              help="Largest request body, in bytes.")
@click.option("--max-records", "max_records", default=1000, show_default=True, type=click.IntRange(1),
              help="Most records (or names) in one request.")
@click.option("--time-limit", "time_limit", default=10.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds one request may take.")
@click.option("--reload-interval", "reload_interval", default=1.0, show_default=True, type=click.FloatRange(0),
              help="Seconds between looks at the rules files for changes; 0 turns reloading off.")
@click.option("--cors-origin", "cors_origins", multiple=True,
              help="Allow browsers on this origin to call the API (repeatable; none by default).")
def serve(rules, host, port, token, allow_edit, decision_log, timeline, max_body, max_records, time_limit,
          reload_interval, cors_origins):
    """Serve decisions on RULES over HTTP, and the workbench at `/`.

    The API is under /v1 (described at /openapi.json), with /health and /ready. The
    rules reload when their files change; rules that do not check leave the last good
    ones serving, with the diagnostics at /ready. Runs until stopped (Ctrl-C).
    """
    try:
        logs = Logs(decision_log=decision_log)
    except OSError as exc:
        click.echo(f"error: cannot open the decision log `{decision_log}`: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_INPUT)
    try:
        served = Served(rules, timeline=timeline, interval=reload_interval, log=logs.event)
    except ChiprulesError as exc:
        _fail(exc)
        sys.exit(_exit_for(exc))
    settings = Settings(token=token or None, allow_edit=allow_edit, max_body=max_body, max_records=max_records,
                        time_limit=time_limit, cors_origins=tuple(cors_origins))
    app = create_app(served, settings, logs)
    n = len(served.rules.models)
    click.echo(f"serving {n} version{'s' if n != 1 else ''} of {rules} (rules {served.current.hash}) "
               f"at http://{host}:{port}/ : the workbench at /, the API under /v1, its schema at /openapi.json",
               err=True)
    if host not in ("127.0.0.1", "localhost", "::1") and not token:
        click.echo("warning: listening beyond this machine without a token; set --token or CHIPRULES_TOKEN",
                   err=True)
    try:
        run_server(app, host, port)
    finally:
        logs.close()


if __name__ == "__main__":  # pragma: no cover
    main()


# ---- ledger --------------------------------------------------------------------------------


@main.group()
def ledger():
    """Inspect or reverse the runs a ledger (`eval --ledger FILE`) has recorded."""


@ledger.command(name="show")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="Text for people, or JSON for tools.")
def ledger_show(path, fmt):
    """Show a ledger: its rules, its runs, and each quota's and licence's use by key.

    Exit status: 0 shown; 4 the file is not a ledger, or is damaged."""
    try:
        book = Ledger.open_existing(path)
        runs, balances = book.runs(), book.balances()
    except ChiprulesError as exc:
        _fail(exc)
        sys.exit(EXIT_INPUT)
    if fmt == "json":
        click.echo(json.dumps({
            "ruleset": book.ruleset, "timeline": book.timeline,
            "runs": [{"run": r, "at": at, "source": src, "records": n, "draws": k} for r, at, src, n, k in runs],
            "balances": [{"kind": kind, "name": name, "key": key, "period": period, "unit": row["unit"] or "units",
                          "used": str(row["drawn"]), "limit": None if row["limit"] is None else str(row["limit"]),
                          "draws": row["draws"], "over": row["over"]}
                         for (kind, name, key, period), row in sorted(balances.items())],
        }, ensure_ascii=False, indent=2))
        return
    click.echo(f"ledger {path}: rules `{book.ruleset}`, {book.timeline} timeline")
    if not runs:
        click.echo("no runs recorded")
    for r, at, src, n, k in runs:
        click.echo(f"  run {r}  {at}  {printable(src)}: {n} record{'s' if n != 1 else ''}, "
                   f"{k} draw{'s' if k != 1 else ''}")
    click.echo(ledger_summary(book), nl=False)


@ledger.command(name="undo")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--run", "run", type=int, help="The run to remove (default: the last).")
def ledger_undo(path, run):
    """Remove a run from a ledger: its records and draws, in one transaction.

    Exit status: 0 removed; 1 no such run; 4 the file is not a ledger, or is damaged."""
    try:
        book = Ledger.open_existing(path)
        removed = book.undo(run)
    except ChiprulesError as exc:
        _fail(exc)
        sys.exit(EXIT_INPUT)
    if removed is None:
        click.echo(f"error: {path}: " + (f"no run {run}" if run is not None else "no runs to undo"), err=True)
        sys.exit(EXIT_FINDINGS)
    r, n, k = removed
    click.echo(f"removed run {r}: {n} record{'s' if n != 1 else ''}, {k} draw{'s' if k != 1 else ''}")
