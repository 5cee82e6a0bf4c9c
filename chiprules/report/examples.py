"""Running the examples written inside rules files."""

from __future__ import annotations

from pathlib import Path

import attrs

from chiprules.core.diagnostics import error
from chiprules.core.errors import RulesError
from chiprules.engine import Rules, load_catalog_for
from chiprules.eval.decision import Decision
from chiprules.lang.checker import check_file
from chiprules.model.checked import CheckedRuleset, ExampleCase


@attrs.frozen
class ExampleResult:
    name: str
    where: str
    ok: bool
    expected: str
    actual: str
    decision: Decision | None = None

    def report(self) -> str:
        lines = [f"FAIL {self.where}: {self.name}",
                 f"  expected: {self.expected}",
                 f"  actual:   {self.actual}"]
        if self.decision is not None:
            lines += ["  " + ln for ln in self.decision.explain().splitlines()]
        return "\n".join(lines)


def describe_expect(case: ExampleCase) -> str:
    e = case.expect
    parts = [e.outcome]
    if e.classified is not None:
        parts.append("classified " + (", ".join(e.classified) or "none"))
    if e.jurisdiction is not None:
        parts.append("jurisdiction " + ", ".join(e.jurisdiction))
    if e.review is not None:
        parts.append(f"review {e.review}")
    if e.exceptions is not None:
        parts.append("exceptions " + (", ".join(e.exceptions) or "none"))
    if e.notify is not None:
        parts.append("notify " + (", ".join(e.notify) or "none"))
    if e.missing is not None:
        parts.append("missing " + ", ".join(e.missing))
    if e.possible is not None:
        parts.append("possible " + ", ".join(e.possible))
    if e.unsettled is not None:
        parts.append("unsettled " + ", ".join(e.unsettled))
    return ", ".join(parts)


def describe_decision(d: Decision, case: ExampleCase) -> str:
    e = case.expect
    parts = [d.outcome]
    if e.classified is not None or d.classification:
        parts.append("classified " + (", ".join(d.classification) or "none"))
    if e.jurisdiction is not None:
        parts.append("jurisdiction " + (", ".join(d.jurisdiction) or "none"))
    if e.review is not None or d.review_policy:
        parts.append(f"review {d.review_policy or 'none'}")
    if e.exceptions is not None or d.license_exceptions:
        parts.append("exceptions " + (", ".join(g.name for g in d.license_exceptions) or "none"))
    if e.notify is not None:
        parts.append("notify " + (", ".join(_notified(d)) or "none"))
    if e.missing is not None or d.missing:
        parts.append("missing " + (", ".join(d.missing) or "none"))
    if e.possible is not None or d.possible_matches:
        parts.append("possible " + (", ".join(_possible_fields(d)) or "none"))
    if e.unsettled is not None or d.unsettled:
        parts.append("unsettled " + (", ".join(_unsettled(d)) or "none"))
    if d.errors:
        parts.append("errors: " + "; ".join(d.errors))
    return ", ".join(parts)


def matches(d: Decision, case: ExampleCase) -> bool:
    e = case.expect
    if d.outcome != e.outcome:
        return False
    if e.classified is not None and set(d.classification) != set(e.classified):
        return False
    if e.jurisdiction is not None and set(d.jurisdiction) != set(e.jurisdiction):
        return False
    if e.review is not None and d.review_policy != e.review:
        return False
    if e.exceptions is not None and {g.name for g in d.license_exceptions} != set(e.exceptions):
        return False
    if e.notify is not None and set(_notified(d)) != set(e.notify):
        return False
    if e.missing is not None and set(d.missing) != set(e.missing):
        return False
    if e.possible is not None and set(_possible_fields(d)) != set(e.possible):
        return False
    if e.unsettled is not None and set(_unsettled(d)) != set(e.unsettled):
        return False
    return True


def _unsettled(d: Decision) -> list[str]:
    """The conditions whose unsettled zones the decision turns on (a zone key without its ``#n``)."""
    return sorted({u.condition.partition("#")[0] for u in d.unsettled})


def _notified(d: Decision) -> list[str]:
    """The available licence exceptions that carry a notification duty for this record."""
    return [g.name for g in d.license_exceptions if g.notify]


def _possible_fields(d: Decision) -> list[str]:
    return sorted({m.field for m in d.possible_matches})


def run_model_examples(model: CheckedRuleset) -> list[ExampleResult]:
    rules = Rules([model], load_catalog_for(Path(model.path)), model.timeline or "enforced")
    out = []
    for case in model.examples:
        record = dict(case.record)
        as_of = record.get("export_date") or model.effective
        d = rules.evaluate(record, as_of=as_of, id=case.name)
        where = f"{case.span.source.name}:{case.span.line}" if case.span is not None else model.path
        out.append(ExampleResult(case.name, where, matches(d, case), describe_expect(case),
                                 describe_decision(d, case), d))
    return out


def run_examples(files) -> list[ExampleResult]:
    """Run the examples of every version file among ``files``; raise on rules errors."""
    results, diags = [], []
    for f in files:
        model, ds = check_file(Path(f))
        errs = [d for d in ds if d.is_error]
        if errs:
            diags.extend(errs)
            continue
        if model is None or not model.examples:
            continue
        results.extend(run_model_examples(model))
    if diags:
        raise RulesError("the rules have errors", diags)
    if not results and files:
        pass
    return results


__all__ = ["ExampleResult", "run_examples", "run_model_examples", "error"]
