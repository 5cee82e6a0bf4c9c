"""Properties of evaluation that must hold for every ruleset version in rules/ear."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chiprules
from chiprules.eval.python import SINK, Undecided
from chiprules.eval.reference import Env, decide, partial_verdict
from chiprules.model.classes import UNLISTED, VariableTable

from .conftest import ROOT

EAR = ROOT / "rules" / "ear"
RULES = chiprules.load(EAR)
WRITTEN = chiprules.load(EAR, timeline="written")
MODELS = [(RULES, m) for m in RULES.on_timeline("enforced")] + [
    (WRITTEN, m) for m in WRITTEN.on_timeline("written") if m.timeline == "written"]
IDS = [f"{m.version}" for _, m in MODELS]

COUNTRIES = ["CN", "HK", "MO", "VN", "AE", "SA", "IL", "IN", "SG", "DE", "US", "NI", "KH", "RU", "JP", "TW"]
NAMES = ["Huawei Technologies Co., Ltd.", "SMIC", "Sugon", "Contoso Research", "Example Cloud Ltd."]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def numbers(points):
    pts = [p for p in points if isinstance(p, Decimal)]
    near = [p + d for p in pts for d in (Decimal("-0.01"), Decimal(0), Decimal("0.01")) if p + d >= 0]
    return st.one_of(
        st.sampled_from(near or [Decimal(1)]),
        st.decimals(min_value=0, max_value=50000, places=2, allow_nan=False, allow_infinity=False),
    )


def counts(points):
    pts = [int(p) for p in points if isinstance(p, Decimal) and p == p.to_integral_value()]
    near = [p + d for p in pts for d in (-1, 0, 1) if p + d >= 0]
    return st.one_of(st.sampled_from(near or [1]), st.integers(min_value=0, max_value=50000))


def record_strategy(rules, model):
    table = VariableTable.build(model)
    fields = {}
    for name, var in table.variables.items():
        if name not in model.fields:
            continue
        if model.fields[name].kind == "integer":  # a count: whole numbers at and around its lines
            strat = counts(var.representatives)
        elif var.kind == "number":
            strat = numbers(var.representatives)
        elif var.kind == "country":
            strat = st.sampled_from(sorted(set(var.representatives) | set(COUNTRIES)))
        elif var.kind == "party":
            strat = st.sampled_from(sorted(set(var.representatives) | set(NAMES)))
        elif var.kind == "date":
            strat = st.sampled_from(var.representatives)
        else:
            strat = st.sampled_from(var.representatives)
        fields[name] = st.one_of(st.none(), strat)
    fields["die_area"] = st.one_of(st.none(), st.decimals(min_value=1, max_value=1000, places=1))
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not None})


def on_date(model) -> dt.date:
    return model.effective or dt.date(2024, 1, 1)


@pytest.mark.slow
@pytest.mark.parametrize("pair", MODELS, ids=IDS)
def test_compiled_agrees_with_reference_interpreter(pair):
    rules, model = pair
    version = rules.compiled(model)

    @SETTINGS
    @given(record_strategy(rules, model))
    def check(raw):
        record = rules.prepare(raw).record
        on = on_date(model)
        fast = version.decide(record, on, {}, SINK)
        slow = partial_verdict(Env(model, record, on, version.screens))
        if type(fast) is not Undecided:
            assert slow is not None
            assert (fast.outcome, set(fast.classification), fast.review_policy, set(fast.exceptions)) == (
                slow.outcome, set(slow.classification), slow.review_policy, set(slow.exceptions))
        else:
            assert slow is None
        engine = rules.evaluate(raw, as_of=on)
        ref = decide(model, record, on, version.screens)
        assert engine.outcome == (ref.verdict.outcome if ref.verdict else "indeterminate")

    check()


@pytest.mark.parametrize("pair", MODELS, ids=IDS)
def test_raising_tpp_or_density_never_decontrols(pair):
    rules, model = pair

    @SETTINGS
    @given(st.decimals(min_value=0, max_value=40000, places=2), st.decimals(min_value=0, max_value=20, places=2),
           st.decimals(min_value=0, max_value=5000, places=2), st.decimals(min_value=0, max_value=5, places=2),
           st.booleans(), st.sampled_from(["ic", "computer"]))
    def check(tpp, pd, d_tpp, d_pd, datacenter, kind):
        base = {"tpp": tpp, "performance_density": pd, "datacenter": datacenter, "item_kind": kind,
                "interconnect_bw": Decimal(900), "destination": "DE", "end_user": "Contoso Research",
                "end_user_hq": "DE", "dram_bw": Decimal(4000)}
        higher = dict(base, tpp=tpp + d_tpp, performance_density=pd + d_pd)
        on = on_date(model)
        low = rules.evaluate(base, as_of=on)
        high = rules.evaluate(higher, as_of=on)
        threshold_classes = {c for c in low.classification if c.startswith(("3A090.a", "3A090.b", "4A090"))}
        if threshold_classes:
            assert high.classification, (base, low.classification, higher)

    check()


def completions(rules, model, record, missing_fields):
    """Every combination of class representatives for the missing fields."""
    table = VariableTable.build(model)
    pools = []
    for name in missing_fields:
        var = table.variables.get(name)
        if name == "die_area":
            pools.append([Decimal(1), Decimal(100), Decimal(300), Decimal(600), Decimal(1000), Decimal(3000)])
        elif var is not None:
            pools.append(list(var.representatives))
        else:
            pools.append([None])
    for combo in itertools.product(*pools):
        filled = dict(record)
        filled.update({k: v for k, v in zip(missing_fields, combo, strict=True) if v is not None})
        yield filled


@pytest.mark.slow
@pytest.mark.parametrize("pair", MODELS, ids=IDS)
def test_indeterminate_means_two_outcomes_are_reachable(pair):
    rules, model = pair

    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(record_strategy(rules, model))
    def check(raw):
        on = on_date(model)
        d = rules.evaluate(raw, as_of=on)
        if d.outcome == "indeterminate":
            # a missing field takes each class's value; a possible match is made real (the
            # entry's own name) or not (an unlisted name)
            fields = list(d.missing)
            settle = {m.field: [m.entry, UNLISTED] for m in d.possible_matches}
            outcomes = set()
            for filled in completions(rules, model, raw, fields):
                for names in itertools.product(*settle.values()):
                    outcomes.add(rules.evaluate(dict(filled, **dict(zip(settle, names, strict=True))), as_of=on).outcome)
            outcomes.discard("indeterminate")
            assert len(outcomes) >= 2, (raw, d.missing, d.possible_matches, outcomes)
        elif d.outcome != "error":
            # the facts still missing once the catalog and the defaults have filled the record
            missing = [f for f in ("die_area", "datacenter", "end_user_hq", "end_user", "destination")
                       if d.record.get(f) is None and f in model.fields]
            for filled in itertools.islice(completions(rules, model, raw, missing), 24):
                d2 = rules.evaluate(filled, as_of=on)
                if d2.outcome == "indeterminate" and d2.possible_matches:
                    # a filled-in country can weaken a name's screening to a possible match
                    # (the country is evidence); one way of settling it gives the outcome
                    settle = {m.field: [m.entry, UNLISTED] for m in d2.possible_matches}
                    outcomes = {rules.evaluate(dict(filled, **dict(zip(settle, names, strict=True))),
                                               as_of=on).outcome
                                for names in itertools.product(*settle.values())}
                    assert d.outcome in outcomes or outcomes == {"indeterminate"}, (raw, filled, outcomes)
                else:
                    assert d2.outcome == d.outcome, (raw, filled)

    check()


def loosened(record_st):
    """Records as callers write them: some values typed, some text, some missing."""
    def loosen(pair):
        record, picks = pair
        out = {}
        for (k, v), pick in zip(record.items(), picks, strict=False):
            if pick == 1:
                out[k] = v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
            elif pick == 2:
                out[k] = None
            elif pick == 3:
                out[k] = " NA"
            else:
                out[k] = v
        return out

    return st.tuples(record_st, st.lists(st.sampled_from([0, 0, 0, 1, 2, 3]), min_size=12, max_size=12)).map(loosen)


@pytest.mark.slow
@pytest.mark.parametrize("pair", MODELS, ids=IDS)
def test_typed_fast_path_agrees_with_general_path(pair):
    """A plain dict of typed values takes a generated fast path through `prepare` and
    `evaluate_many`; any other mapping the general one. They give the same decisions."""
    from types import MappingProxyType

    rules, model = pair
    on = on_date(model)

    @settings(SETTINGS, max_examples=8)
    @given(loosened(record_strategy(rules, model)), st.booleans())
    def check(raw, with_id):
        if with_id:
            raw = {"id": "R-1", **raw}
        general = rules.prepare(MappingProxyType(raw))
        fast = rules.prepare(raw)
        assert list(fast.record.items()) == list(general.record.items())
        assert (fast.problems, fast.warnings) == (general.problems, general.warnings)
        for as_of in (on, None):
            if as_of is None:
                raw = {**raw, "export_date": on}
            a = list(rules.evaluate_many([raw], as_of=as_of))
            b = list(rules.evaluate_many([MappingProxyType(raw)], as_of=as_of))
            assert a == b
            assert list(a[0].record.items()) == list(b[0].record.items())
            assert a[0].reasons == b[0].reasons
            assert a[0].to_json() == b[0].to_json()
            assert a[0].location == b[0].location

    check()
