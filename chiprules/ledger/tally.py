"""Running totals over a run's shipments: quotas declared in the rules, and licences on file.

A record is first decided alone (the engine); then, in `export_date` order, the tally
applies what the rules' quotas and the exporter's licences say about it:

- a quota that governs a licence exception: a record granted the exception draws its
  amount while the total stays within the limit; a record that would pass the limit keeps
  no such exception (the rules then decide it without it);
- a quota that governs a licence requirement's review: a record that needs the licence
  draws while within; past the limit, the review takes the quota's `otherwise` policy
  (the stricter of the two);
- a share limit (`limit 50 %`, `fed when ...`): the records the `fed` condition holds for
  make the total the share is taken of;
- a licence on file covers a record that needs a licence while its balance lasts: the
  outcome stays `license_required` (the law's answer), and the decision names the licence
  and what it draws.

A record whose quota amount or key is not known draws nothing, and a warning names the
missing fact. An exception the quota governs is then not available (an exception is
relied on by the exporter, who must show it holds); a review path keeps the review the
rules give (the review is the regulator's to apply, and the record says nothing against it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from decimal import Decimal
from fractions import Fraction

import attrs

from chiprules import model as M
from chiprules.data.licences import Licence
from chiprules.eval.decision import Decision, Verdict
from chiprules.eval.reference.kleene import Env, evaluate

DRAWN, OVER, UNKNOWN, FED, INVALID = "drawn", "over", "unknown", "fed", "not valid"


def amount_text(value, unit: str) -> str:
    """``26,900,000 TPP``; ``1,000 units``."""
    if value is None:
        return "unknown"
    q = Decimal(value) if not isinstance(value, Decimal) else value
    if isinstance(value, Fraction):
        q = Decimal(value.numerator) / Decimal(value.denominator)
    q = q.quantize(Decimal(1)) if q == q.to_integral_value() else q.normalize()
    text = f"{q:,f}" if q == q.to_integral_value() else f"{q:,}"
    word = unit or "units"
    if word == "units" and q == 1:
        word = "unit"
    return f"{text} {word}"


@attrs.frozen
class QuotaUse:
    """What one record did to one running total: a quota's, or a licence's."""

    kind: str  # quota | licence
    name: str  # the quota's name, or the licence number
    title: str | None
    cite: str | None
    key: str  # the key's values, e.g. `consignee Example Cloud`; "" for a licence
    period: str  # `2025`, `2025-01-13 to 2027-12-31`, `all time`, or the licence's validity
    unit: str  # "" for units
    limit: Decimal | None  # for a share: the share of what was fed so far
    used: Decimal  # drawn before this record
    draw: Decimal | None  # this record's amount (None: not known)
    status: str  # drawn | over | unknown | fed | not valid
    effect: str | None = None  # what the limit did to the decision, in words
    share: Decimal | None = None  # for a share limit, the percentage
    fed_total: Decimal | None = None

    @property
    def remaining(self) -> Decimal | None:
        if self.limit is None:
            return None
        left = self.limit - self.used - (self.draw if self.status == DRAWN and self.draw is not None else 0)
        return left

    def to_json(self) -> dict:
        out = {"kind": self.kind, "name": self.name, "key": self.key, "period": self.period,
               "unit": self.unit or "units", "status": self.status,
               "limit": _num(self.limit), "used": _num(self.used), "draw": _num(self.draw),
               "remaining": _num(self.remaining)}
        if self.share is not None:
            out["share_percent"] = _num(self.share)
            out["fed"] = _num(self.fed_total)
        if self.effect:
            out["effect"] = self.effect
        return out

    def words(self) -> str:
        u = self.unit
        what = f"licence {self.name}" if self.kind == "licence" else f"quota `{self.name}`"
        where = f" for {self.key}" if self.key else ""
        when = f" ({self.period})" if self.period else ""
        if self.status == FED:
            return (f"{what}{where}{when}: this shipment adds {amount_text(self.draw, u)} to the "
                    f"{amount_text(self.fed_total, u)} its share is taken of")
        if self.status == INVALID:
            return f"{what}{where}: {self.effect}"
        if self.status == UNKNOWN:
            return f"{what}{where}{when}: {self.effect}"
        limit = amount_text(self.limit, u)
        if self.share is not None:
            limit += f" ({_num(self.share)} % of {amount_text(self.fed_total, u)})"
        head = (f"{what}{where}{when}: limit {limit}; used before this shipment {amount_text(self.used, u)}; "
                f"this shipment {amount_text(self.draw, u)}")
        if self.status == DRAWN:
            return f"{head}; remaining {amount_text(self.remaining, u)}"
        left = self.limit - self.used
        return f"{head}, over the {amount_text(max(left, Decimal(0)), u)} remaining: {self.effect}"

    def note(self) -> str:
        """A few words for the table."""
        label = f"licence {self.name}" if self.kind == "licence" else self.name
        if self.status == DRAWN:
            return f"{label}: {amount_text(self.remaining, self.unit)} left"
        if self.status == FED:
            return f"{label}: fed {amount_text(self.draw, self.unit)}"
        if self.status == OVER:
            return f"{label}: over ({amount_text(self.draw, self.unit)} asked, " \
                   f"{amount_text(max(self.limit - self.used, Decimal(0)), self.unit)} left)"
        if self.status == INVALID and self.effect:
            return f"{label}: {self.effect.split(';')[0]}"
        return f"{label}: {self.status}"


def _num(v):
    if v is None:
        return None
    if isinstance(v, Fraction):
        v = Decimal(v.numerator) / Decimal(v.denominator)
    v = Decimal(v)
    return int(v) if v == v.to_integral_value() else float(v)


def _dec(f: Fraction) -> Decimal:
    return Decimal(f.numerator) / Decimal(f.denominator) if f.denominator != 1 else Decimal(f.numerator)


def period_of(q: M.Quota, on: dt.date) -> str | None:
    """The period a quota counts ``on`` in, or None when ``on`` is outside its span."""
    if q.period == "year":
        return str(on.year)
    if q.period == "span":
        if not (q.start <= on <= q.end):
            return None
        return f"{q.start} to {q.end}"
    return "all time"


def fingerprint(record: dict) -> str:
    """A digest of a prepared record's facts: a record id seen again must have the same facts."""
    facts = {k: str(v) for k, v in sorted(record.items()) if v is not None and k != "id"}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]


def _norm_name(name) -> str:
    return re.sub(r"[\s.,]+", " ", str(name).casefold()).strip()


@attrs.define
class Draw:
    """A row of the ledger: what one record drew (or fed) on one total."""

    record: str
    kind: str  # quota | feed | licence
    name: str
    key: str
    period: str
    day: dt.date
    amount: Decimal  # 0 when nothing was drawn
    use: QuotaUse


def draws_of(d: Decision, on: dt.date) -> list[Draw]:
    """The ledger rows of a decided record: one per running total it touched."""
    out = []
    for u in d.quota_uses:
        if u.kind == "licence":
            kind, key = "licence", "TPP" if u.unit == "TPP" else "units"
        else:
            kind, key = ("feed" if u.status == FED else "quota"), u.key
        amount = u.draw if u.status in (DRAWN, FED) and u.draw is not None else Decimal(0)
        out.append(Draw(d.id, kind, u.name, key, u.period, on, amount, u))
    return out


class Tally:
    """The running totals of a run: seeded from a ledger, fed by each record in order."""

    def __init__(self, licences=(), seed=()):
        self.licences: tuple[Licence, ...] = tuple(licences)
        self.used: dict[tuple, Decimal] = {}  # (kind, name, key, period) -> drawn so far
        for kind, name, key, period, amount in seed:
            k = (kind, name, key, period)
            self.used[k] = self.used.get(k, Decimal(0)) + Decimal(amount)

    # ---- which records take part

    @staticmethod
    def quotas_of(version) -> tuple[M.Quota, ...]:
        return version.model.quotas if version is not None else ()

    def touches(self, d: Decision, version, on) -> bool:
        """Does the record's decision depend on the running totals (so on order)? A record
        whose quota conditions are known not to hold (or, for a share quota, not known to
        hold) touches none, and streams."""
        if d.outcome in ("error", "indeterminate") or on is None:
            return False
        if self.licences and d.outcome == "license_required" and self._candidates(d):
            return True
        env = None
        for q in self.quotas_of(version):
            governed = self._governed(q, d)
            if not governed and q.fed is None:
                continue
            if env is None:
                env = Env(version.model, d.record, on, version.screens)
                env.classes = d.classification
            if q.fed is not None and evaluate(q.fed, env) is True:
                return True
            if governed:
                applies = evaluate(q.when, env)
                if applies is True or (applies is None and q.fed is None):
                    return True
        return False

    @staticmethod
    def _governed(q: M.Quota, d: Decision) -> bool:
        if q.governs == "exception":
            return any(g.name == q.governed for g in d.license_exceptions)
        detail = d._detail
        fired = detail.fired if isinstance(detail, Verdict) else ()
        return d.outcome == "license_required" and q.governed in fired

    # ---- applying

    def apply(self, d: Decision, version, on: dt.date) -> Decision:
        """The record's decision after the quotas and licences, drawing on the totals."""
        if d.outcome in ("error", "indeterminate") or on is None or version is None:
            return d
        uses = []
        record = d.record
        env = None
        for q in self.quotas_of(version):
            feeds = q.fed is not None
            governed = self._governed(q, d)
            if not (feeds or governed):
                continue
            if env is None:
                env = Env(version.model, record, on, version.screens)
                env.classes = d.classification
            period = period_of(q, on)
            if period is None:
                continue
            key = self._key(q, record)
            amount = env.arith(q.counts)
            if feeds and evaluate(q.fed, env) is True and key is not None and amount is not None:
                k = ("feed", q.name, key, period)
                total = self.used.get(k, Decimal(0))
                self.used[k] = total + _dec(amount)
                use = QuotaUse("quota", q.name, q.title, q.cite, key, period, q.unit, None, Decimal(0),
                               _dec(amount), FED, share=q.share, fed_total=total + _dec(amount))
                uses.append(use)
            if not governed:
                continue
            applies = evaluate(q.when, env)
            if applies is False or (applies is None and q.fed is not None):
                # a share quota needs its own facts (e.g. whether the end user is in the US):
                # a record that does not say is decided as the rules say
                continue
            d, use = self._draw(q, d, key, period, amount, applies, on)
            uses.append(use)
        if self.licences and d.outcome == "license_required":
            d, found = self._licence(d, on)
            uses.extend(found)
        if uses:
            d.quota_uses = tuple(uses)
        return d

    def _key(self, q: M.Quota, record: dict) -> str | None:
        parts = []
        for f in q.per:
            v = record.get(f)
            if v is None:
                return None
            if isinstance(v, bool):
                v = "yes" if v else "no"
            parts.append(f"{f} {v}")
        return ", ".join(parts)

    def _draw(self, q: M.Quota, d: Decision, key, period, amount, applies, on):
        missing = [f for f in (*q.per,) if d.record.get(f) is None]
        if amount is None:
            missing += [f for f in q.reads if d.record.get(f) is None and f not in missing]
        if key is None or amount is None or applies is None:
            why = (f"`{'`, `'.join(missing)}` not given" if missing else "its conditions are not known")
            if q.governs == "exception":  # an exception is relied on: it must be shown to hold
                effect = f"cannot be counted ({why}): {self._withhold(q, d)}"
                d = self._without(q, d)
            else:  # a review path is the regulator's to apply: the rules' own review stands
                effect = f"was not counted ({why}): the review is as the rules say"
            use = QuotaUse("quota", q.name, q.title, q.cite, key or "", period or "", q.unit, q.limit,
                           Decimal(0), None, UNKNOWN, effect)
            d.warnings = (*d.warnings, f"quota `{q.name}` {effect}")
            return d, use
        amount = _dec(amount)
        k = ("quota", q.name, key, period)
        used = self.used.get(k, Decimal(0))
        fed_total = None
        limit = q.limit
        if q.share is not None:
            fed_total = self.used.get(("feed", q.name, key, period), Decimal(0))
            limit = fed_total * q.share / 100
        if used + amount <= limit:
            self.used[k] = used + amount
            use = QuotaUse("quota", q.name, q.title, q.cite, key, period, q.unit, limit, used, amount, DRAWN,
                           share=q.share, fed_total=fed_total)
            return d, use
        effect = self._withhold(q, d)
        use = QuotaUse("quota", q.name, q.title, q.cite, key, period, q.unit, limit, used, amount, OVER, effect,
                       share=q.share, fed_total=fed_total)
        return self._without(q, d), use

    @staticmethod
    def _withhold(q: M.Quota, d: Decision) -> str:
        if q.governs == "exception":
            return f"License Exception {q.governed} is not available"
        return f"review {str(q.otherwise).replace('_', ' ')} under `{q.governed}`"

    @staticmethod
    def _without(q: M.Quota, d: Decision) -> Decision:
        """The decision without what the quota governs."""
        detail = d._detail
        if q.governs == "exception":
            grants = tuple(g for g in d.license_exceptions if g.name != q.governed)
            d.license_exceptions = grants
            if not grants:
                d.outcome = M.Outcome.LICENSE_REQUIRED
            if isinstance(detail, Verdict):
                d._detail = attrs.evolve(detail, outcome=str(d.outcome),
                                         exceptions=tuple(e for e in detail.exceptions if e[0] != q.governed))
        else:
            policy = str(q.otherwise)
            if d.review_policy is None or M.STRICTNESS[policy] > M.STRICTNESS[d.review_policy]:
                d.review_policy = policy
                if isinstance(detail, Verdict):
                    d._detail = attrs.evolve(detail, review_policy=policy)
        d._reasons = None
        return d

    # ---- licences

    def _candidates(self, d: Decision) -> list[Licence]:
        r = d.record
        dest, end_user, consignee = r.get("destination"), r.get("end_user"), r.get("consignee")
        out = []
        for lic in self.licences:
            if lic.destination != dest or end_user is None or _norm_name(lic.end_user) != _norm_name(end_user):
                continue
            if lic.consignee and (consignee is None or _norm_name(lic.consignee) != _norm_name(consignee)):
                continue
            if not any(M.eccn_covers(i, c) for i in lic.items for c in d.classification):
                continue
            out.append(lic)
        return out

    def _licence(self, d: Decision, on: dt.date):
        cands = self._candidates(d)
        if not cands:
            return d, []
        r = d.record
        qty, tpp = r.get("quantity"), r.get("tpp")
        first_problem = None
        for lic in cands:
            period = f"{lic.valid_from} to {lic.valid_to}"
            if not lic.valid_on(on):
                state = f"expired on {lic.valid_to}" if on > lic.valid_to else f"not valid before {lic.valid_from}"
                why = f"{state}; the rules decide without it"
                use = QuotaUse("licence", lic.number, None, None, "", period, "", None, Decimal(0), None,
                               INVALID, why)
                first_problem = first_problem or use
                continue
            checks = []  # (unit, limit, amount)
            if lic.quantity is not None:
                checks.append(("units", lic.quantity, None if qty is None else Decimal(qty)))
            if lic.tpp is not None:
                checks.append(("TPP", lic.tpp, None if qty is None or tpp is None else Decimal(qty) * Decimal(tpp)))
            unknown = [c for c in checks if c[2] is None]
            if unknown:
                need = "`quantity`" if qty is None else "`tpp`"
                use = QuotaUse("licence", lic.number, None, None, "", period, "", None, Decimal(0), None, UNKNOWN,
                               f"cannot be drawn on: {need} not given; the rules decide without it")
                first_problem = first_problem or use
                continue
            over = None
            for unit, limit, amount in checks:
                used = self.used.get(("licence", lic.number, unit, period), Decimal(0))
                if used + amount > limit:
                    over = (unit, limit, amount, used)
                    break
            if over is not None:
                unit, limit, amount, used = over
                use = QuotaUse("licence", lic.number, None, None, "", period, "" if unit == "units" else unit,
                               limit, used, amount, OVER, "the rules decide without it")
                first_problem = first_problem or use
                continue
            drawn = []
            for unit, limit, amount in checks:
                k = ("licence", lic.number, unit, period)
                used = self.used.get(k, Decimal(0))
                self.used[k] = used + amount
                use = QuotaUse("licence", lic.number, None, None, "", period, "" if unit == "units" else unit,
                               limit, used, amount, DRAWN, lic.conditions and f"conditions: {lic.conditions}")
                drawn.append(use)
            d.licence = lic.number
            d._reasons = None
            return d, drawn
        return d, [first_problem]


def replay(d: Decision, version, uses) -> Decision:
    """A record an earlier run decided: its recorded uses, applied again without drawing."""
    quotas = {q.name: q for q in Tally.quotas_of(version)}
    for u in uses:
        if u.kind == "quota" and u.status == OVER and u.name in quotas:
            d = Tally._without(quotas[u.name], d)
        elif u.kind == "quota" and u.status == UNKNOWN and u.name in quotas:
            if quotas[u.name].governs == "exception":
                d = Tally._without(quotas[u.name], d)
            d.warnings = (*d.warnings, f"quota `{u.name}` {u.effect}")
        elif u.kind == "licence" and u.status == DRAWN:
            d.licence = u.name
    if uses:
        d.quota_uses = tuple(uses)
    return d
