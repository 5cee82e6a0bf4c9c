"""Decisions: the outcome of evaluating one record, and how it explains itself."""

from __future__ import annotations

import datetime as dt

import attrs

from chiprules.eval.explain import explain_decision
from chiprules.model.checked import STRICTNESS


@attrs.frozen
class Verdict:
    """What the rules decide for a record whose relevant facts are all known."""

    outcome: str
    classification: tuple[str, ...]
    review_policy: str | None
    exceptions: tuple[tuple[str, tuple[str, ...]], ...]  # (name, notification duties)
    fired: tuple[str, ...]  # ids of requirements that fired
    #: the jurisdiction rules that hold (what brings the item under the EAR); () when the
    #: rules have none, or the item is not subject to the EAR
    jurisdiction: tuple[str, ...] = ()


@attrs.frozen
class RulesetInfo:
    name: str
    version: str
    effective: dt.date | None
    content_hash: str
    timeline: str = "enforced"
    path: str | None = None

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "effective": self.effective.isoformat() if self.effective else None,
            "hash": self.content_hash,
            "timeline": self.timeline,
        }


@attrs.frozen
class UnsettledLaw:
    """A zone where the public law does not decide, on which an undecided record turns."""

    condition: str  # the zone's key: the condition's name (``#2`` for its second zone)
    why: str
    cite: str

    @classmethod
    def of(cls, zone) -> UnsettledLaw:
        return cls(zone.key, zone.why, zone.cite)

    def to_json(self) -> dict:
        return {"condition": self.condition, "why": self.why, "cite": self.cite}

    def words(self) -> str:
        return f"`{self.condition}`: {self.why} ({self.cite})"

    def reason(self) -> Reason:
        return Reason(self.condition, "unsettled", self.why, self.cite,
                      detail="the public law does not decide whether the condition holds here")


@attrs.frozen
class ListMatch:
    """The screening of one party name against one list: what was found, and why."""

    field: str  # end_user, consignee, end_user_parent
    name: str  # the name screened
    list: str
    status: str  # match | possible | none
    entry: str | None = None  # the listed name of the best candidate
    form: str | None = None  # the listed name, alias or acronym that scored
    form_kind: str | None = None  # name | alias | acronym
    score: float | None = None
    why: str | None = None
    cite: str | None = None  # the Federal Register citations of the entry
    added: dt.date | None = None
    removed: dt.date | None = None
    review_policy: str | None = None
    requirement: str | None = None  # the entry's licence requirement, as listed

    @classmethod
    def of_result(cls, field: str, name, list_name: str, res) -> ListMatch:
        """The screening of ``name`` from the screener's ``ScreenResult``: its best candidate,
        or for no match the nearest miss. An entry that states no review policy is read as
        presumption of denial."""
        c = res.best or (res.candidates[0] if res.candidates else None)
        if c is None:
            return cls(field, str(name), list_name, res.status)
        e = c.entry
        policy = e.review_policy if e.review_policy in STRICTNESS else "presumption_of_denial"
        return cls(field, str(name), list_name, res.status, e.name, c.form, c.kind, c.score, c.why,
                   e.citation or None, e.added, e.removed, policy, e.license_requirement or None)

    def to_json(self) -> dict:
        out = {"field": self.field, "name": self.name, "list": self.list, "status": self.status}
        if self.entry is not None:
            out.update({
                "entry": self.entry, "form": self.form, "form_kind": self.form_kind, "score": self.score,
                "why": self.why, "cite": self.cite,
                "added": self.added.isoformat() if self.added else None,
                "removed": self.removed.isoformat() if self.removed else None,
                "review_policy": self.review_policy, "requirement": self.requirement,
            })
        return out


@attrs.frozen
class Reason:
    """A rule that fired, with the conditions that held and the values used."""

    rule: str
    kind: str  # classify | require | exception | list
    title: str | None
    cite: str | None
    conditions: tuple[str, ...] = ()
    detail: str | None = None  # e.g. the review policy taken, a matched list entry
    matches: tuple[ListMatch, ...] = ()  # the party screenings behind the reason

    def to_json(self) -> dict:
        out = {"rule": self.rule, "kind": self.kind, "cite": self.cite, "conditions": list(self.conditions)}
        if self.title:
            out["title"] = self.title
        if self.detail:
            out["detail"] = self.detail
        if self.matches:
            out["matches"] = [m.to_json() for m in self.matches]
        return out


@attrs.frozen
class ExceptionGrant:
    name: str
    title: str | None
    cite: str | None
    notify: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"name": self.name, "title": self.title, "cite": self.cite,
                "notification": list(self.notify) or None}


_new = object.__new__


class Decision:
    """The outcome for one record under one ruleset version (DESIGN section 4).

    A plain slotted class rather than an attrs one: a run makes one per record,
    and construction cost matters there. Treat instances as immutable.
    ``reasons`` are worked out on first use, so deciding many records does not pay
    for explanations nobody reads: ``explain(record, detail)`` gives them, a
    function a run shares between its decisions.
    """

    # the attributes every decision sets are slots; the rarely set ones (missing facts,
    # errors, warnings, location, possible matches) are class-level defaults, overridden
    # per instance only when given
    __slots__ = ("id", "outcome", "classification", "review_policy", "license_exceptions",
                 "ruleset", "record", "_explain", "_detail", "_reasons", "__dict__")

    missing: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    location: str | None = None
    #: for `indeterminate`: the possible list matches (``ListMatch``) a reviewer must settle
    possible_matches: tuple = ()
    #: for `indeterminate`: the requirements that fire whatever the missing facts are
    settled_fired: tuple[str, ...] = ()
    #: for `indeterminate`: the zones of unsettled law (``UnsettledLaw``) the outcome turns on
    unsettled: tuple = ()
    #: what the record drew on the running totals of a run (quotas and licences; ``QuotaUse``)
    quota_uses: tuple = ()
    #: the number of the licence on file that covers the record (its outcome stays `license_required`)
    licence: str | None = None

    def __init__(self, id: str, outcome: str, classification: tuple[str, ...] = (),
                 review_policy: str | None = None, license_exceptions: tuple = (),
                 missing: tuple[str, ...] = (), ruleset: RulesetInfo | None = None,
                 errors: tuple[str, ...] = (), warnings: tuple[str, ...] = (), record: dict | None = None,
                 location: str | None = None, explain=None, detail=None, reasons: tuple | None = None,
                 possible_matches: tuple = ()):
        self.id = id
        self.outcome = outcome
        self.classification = classification
        self.review_policy = review_policy
        self.license_exceptions = license_exceptions
        self.ruleset = ruleset
        self.record = record if record is not None else {}
        self._explain = explain
        self._detail = detail
        self._reasons = reasons
        if missing:
            self.missing = missing
        if errors:
            self.errors = errors
        if warnings:
            self.warnings = warnings
        if location is not None:
            self.location = location
        if possible_matches:
            self.possible_matches = possible_matches

    @classmethod
    def _decided(cls, id, outcome, classification, review_policy, license_exceptions, ruleset, record,
                 explain, detail):
        """A decision with none of the rarely set attributes: the hot path of `evaluate_many`."""
        d = _new(cls)
        d.id = id
        d.outcome = outcome
        d.classification = classification
        d.review_policy = review_policy
        d.license_exceptions = license_exceptions
        d.ruleset = ruleset
        d.record = record
        d._explain = explain
        d._detail = detail
        d._reasons = None
        return d

    def _key(self):
        return (self.id, self.outcome, self.classification, self.review_policy, self.license_exceptions,
                self.missing, self.ruleset, self.errors, self.warnings, self.possible_matches, self.unsettled,
                self.jurisdiction, self.licence, self.quota_uses)

    def __eq__(self, other):
        return isinstance(other, Decision) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return (f"Decision(id={self.id!r}, outcome={self.outcome!r}, classification={self.classification!r}, "
                f"review_policy={self.review_policy!r}, missing={self.missing!r})")

    @property
    def jurisdiction(self) -> tuple[str, ...]:
        """What brings the item under the EAR: the jurisdiction rules that hold (`us_origin`,
        `de_minimis`, ...), or ``("not_subject",)`` for an item the EAR does not reach. Empty
        when the record is undecided or errs, or the rules have no jurisdiction rules."""
        if self.outcome == "not_subject":
            return ("not_subject",)
        detail = self._detail
        return detail.jurisdiction if isinstance(detail, Verdict) else ()

    @property
    def rules_fired(self) -> tuple[str, ...]:
        """The ids of the rules that fired: the classifications that hold, the licence
        requirements that apply and the exceptions granted (for an undecided record, those
        that hold whatever the missing facts are)."""
        detail = self._detail
        fired = detail.fired if isinstance(detail, Verdict) else self.settled_fired
        return (*self.classification, *fired, *(g.name for g in self.license_exceptions))

    @property
    def reasons(self) -> tuple[Reason, ...]:
        if self._reasons is None:
            explain = self._explain
            self._reasons = (() if explain is None else tuple(explain(self.record, self._detail))) + tuple(
                u.reason() for u in self.unsettled)
        return self._reasons

    def to_json(self) -> dict:
        out = {
            "id": self.id,
            "outcome": self.outcome,
            "classification": list(self.classification),
            "jurisdiction": ";".join(self.jurisdiction) or None,
            "review_policy": self.review_policy,
            "license_exceptions": [g.to_json() for g in self.license_exceptions],
            "reasons": [r.to_json() for r in self.reasons],
            "missing": list(self.missing),
            "possible_matches": [m.to_json() for m in self.possible_matches],
            "ruleset": self.ruleset.to_json() if self.ruleset else None,
        }
        if self.unsettled:
            out["unsettled"] = [u.to_json() for u in self.unsettled]
        if self.licence is not None:
            out["licence"] = self.licence
        if self.quota_uses:
            out["quotas"] = [u.to_json() for u in self.quota_uses]
        if self.errors:
            out["errors"] = list(self.errors)
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out

    def explain(self) -> str:
        """The decision in plain words, for an audit file."""
        return explain_decision(self)
