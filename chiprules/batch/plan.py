"""The whole batch plan as sqlglot trees, for any engine: typing, catalog, version, decision.

Relations, each built on the one before (a runner gives them these names):

``raw``
    The input: a column per input column under its record-field name, and ``__row``.
``typed``
    Every field typed as `chiprules.eval.prepare` types it, for the values written the
    usual way; ``__regular`` is false for a row with any other spelling (the per-record
    engine decides it, reading every spelling and naming every problem).
``chips``
    The catalog's figures per distinct chip name (made by the runner, in Python).
``prepared0``
    Catalog figures and defaults filled in, ``__on`` (the day) and ``__v`` (the version in
    force, NULL for a row the plan leaves to the per-record engine).
``m0``, ``m1`` ...
    Per party field and list: the screening of each distinct (name, evidence, epoch).
``prepared``
    ``prepared0`` with each party's status, policy and note.
``decided``
    The decision columns per row (`chiprules.batch.sql`), one select per version.

Every identifier and literal goes through sqlglot; the trees print in any dialect
sqlglot knows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlglot import exp

from chiprules import model as M
from chiprules.batch.sql import (
    NUMBER,
    NUMBER_DIGITS,
    OUTCOME_CODE,
    POLICY_RANK,
    UnsupportedInSql,
    VersionSql,
    alias,
    and_,
    case,
    cast,
    coalesce,
    col,
    is_null,
    literal,
    not_,
    note_col,
    or_,
    outcome_name,
    paren,
    policy_col,
    review_name,
    signature_columns,
    status_col,
)
from chiprules.core.escape import FORMULA_RE, NUMBER_RE
from chiprules.data.countries import all_country_codes
from chiprules.eval.screens import EVIDENCE, PARTY_ORDER
from chiprules.ir import nodes as I
from chiprules.ir.lower import program_rules, rule_exprs, walk

MISSING_WORDS = ("", "na", "n/a", "null", "-")
BOOL_WORDS = {"yes": True, "y": True, "true": True, "t": True, "1": True, "on": True,
              "no": False, "n": False, "false": False, "f": False, "0": False, "off": False}
DECIMAL_RE = rf"^[0-9]{{1,{NUMBER_DIGITS[0]}}}(\.[0-9]{{1,{NUMBER_DIGITS[1]}}})?$"
INTEGER_RE = r"^[0-9]{1,18}$"
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
CHIP_FIGURES = ("tpp", "die_area", "interconnect_bw", "dram_bw", "memory_bw_density", "datacenter", "item_kind")
#: Source column kinds a runner reports: text, number (decimal or floating point),
#: integer, bool, date, or other (never regular).
SOURCE_KINDS = ("text", "number", "integer", "bool", "date", "other")
#: The decision columns of a batch result, in order (the input's own columns follow).
DECISION_COLUMNS = ("row", "id", "outcome", "classification", "jurisdiction", "review_policy", "license_exceptions",
                    "notifications", "missing", "possible_matches", "unsettled", "rules_fired", "citations",
                    "ruleset_version", "ruleset_hash", "timeline", "errors", "warnings")
#: The decision of a row as the plan stores it (see `chiprules.batch.sql.VersionSql.codes`).
CODE_COLUMNS = (("outcome_code", "TINYINT"), ("review_rank", "TINYINT"), ("cmask", "BIGINT"), ("rmask", "BIGINT"),
                ("emask", "BIGINT"), ("dmask", "BIGINT"), ("jrule", "TINYINT"))
#: What the columns users read are made from (`Plan.expanded`): the version and the codes.
WORD_KEYS = ("__v", *(c for c, _ in CODE_COLUMNS))


def s(value: str) -> exp.Expression:
    return exp.Literal.string(value)


def n(value: int) -> exp.Expression:
    return exp.Literal.number(value)


def in_(e: exp.Expression, values) -> exp.Expression:
    values = sorted(values)
    return exp.In(this=e, expressions=[s(v) for v in values]) if values else exp.false()


def regex(e: exp.Expression, pattern: str) -> exp.Expression:
    return exp.RegexpLike(this=e, expression=s(pattern))


def formula_safe_sql(e: exp.Expression) -> exp.Expression:
    """`chiprules.core.escape.formula_safe` in SQL, for text written to CSV by the database."""
    risky = and_([regex(e, FORMULA_RE), not_(regex(e, NUMBER_RE))])
    return case([(risky, exp.DPipe(this=s("'"), expression=e))], e)


def table(name: str, alias_: str | None = None) -> exp.Expression:
    t = exp.to_table(name, quoted=True) if "." not in name else exp.to_table(name)
    return exp.alias_(t, alias_, table=True) if alias_ else t


class Plan:
    """The batch plan of a ruleset on one timeline (``as_of``: decide every row on that day)."""

    def __init__(self, rules, timeline: str, as_of: dt.date | None):
        self.rules = rules
        self.timeline = timeline
        self.on_fixed = as_of
        self.models = rules.on_timeline(timeline)
        self.versions = [rules.compiled(m, timeline) for m in self.models]
        self.specs = rules.preparer.specs
        self.sqls: list[VersionSql] = []
        self.sql_ok: list[bool] = []
        for v, version in enumerate(self.versions):
            vs = VersionSql(v, version.program, version.model)
            try:  # what SQL cannot decide exactly goes to the per-record engine
                vs.stage_classify(), vs.stage_require(), vs.stage_exceptions(), vs.codes()
                ok = True
            except UnsupportedInSql:
                ok = False
            self.sqls.append(vs)
            self.sql_ok.append(ok)
        #: the versions a row can take: all of them, or with ``as_of`` the one in force that day
        #: (the plan's relations hold the others' SQL only when rows can reach them)
        self.live = set(range(len(self.models))) if as_of is None else \
            {v for v in [self._version_on(as_of)] if v is not None}
        #: per (party field, list): the versions that screen it
        self.screened_by: dict[tuple[str, str], set[int]] = {}
        licence_read: set[tuple[str, str]] = set()  # read by a rule other than a jurisdiction rule
        for v, version in enumerate(self.versions):
            jurisdiction = {id(r) for r in version.program.jurisdiction}
            for rule in program_rules(version.program):
                for e in rule_exprs(rule):
                    for node in walk(e):
                        tests = [(node.field, node.list)] if type(node) is I.Listed else \
                            node.tests if type(node) is I.PolicyListed else ()
                        for key in tests:
                            self.screened_by.setdefault(key, set()).add(v)
                            if id(rule) not in jurisdiction:
                                licence_read.add(key)
        self.parties = sorted(self.screened_by, key=lambda p: (PARTY_ORDER.get(p[0], len(PARTY_ORDER)), p))
        #: the parties (indices into ``parties``) that only jurisdiction rules read, such as the
        #: Footnote 4 parties of the Entity List FDP rule: their screening rarely matters (an item
        #: made in the United States is subject whoever the parties are), so the batch engine
        #: screens them only for the rows left undecided without them (see ``BatchEngine``)
        self.deferred = [i for i, p in enumerate(self.parties) if p not in licence_read]
        self.signatures: dict[int, list] = {}
        for vs in self.decidable():
            if self.versions[vs.v].splitter.signer.usable:
                try:
                    self.signatures[vs.v] = signature_columns(vs.v, vs.model, vs.program, self.day_points(vs.v),
                                                              EVIDENCE)
                except UnsupportedInSql:
                    pass
        self.signature_width = max((len(c) for c in self.signatures.values()), default=0)
        self._texts: dict = {}

    def decidable(self) -> list[VersionSql]:
        """The versions SQL decides that rows can take (``live``)."""
        return [vs for vs, ok in zip(self.sqls, self.sql_ok, strict=True) if ok and vs.v in self.live]

    def _version_on(self, day: dt.date) -> int | None:
        """The version a row of that day takes: the arms of ``prepared0``'s ``__v``, in Python."""
        last = len(self.models) - 1
        for v, model in reversed(list(enumerate(self.models))):
            if (model.effective is None or day >= model.effective) and \
                    (model.until is None or v != last or day <= model.until):
                return v
        return None

    def sql(self, what: str, dialect: str, *args) -> str:
        """The text of a relation of the plan in a dialect, made once (the trees are large)."""
        key = (what, dialect, repr(args))
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = getattr(self, what)(*args).sql(dialect)
        return text

    @classmethod
    def of(cls, rules, timeline: str, as_of: dt.date | None) -> Plan:
        """The plan of a ruleset, made once per timeline and day (kept on the rules)."""
        plans = rules.__dict__.setdefault("_batch_plans", {})
        key = (timeline, as_of)
        if key not in plans:
            plans[key] = cls(rules, timeline, as_of)
        return plans[key]

    # ---- typing
    def typed_column(self, name: str, kind: str) -> tuple[exp.Expression, exp.Expression]:
        """(value, regular) for a field whose source column has ``kind`` (see SOURCE_KINDS)."""
        spec = self.specs[name]
        c = col(name)
        if kind == "text":
            missing = or_([is_null(c), in_(exp.Lower(this=exp.Trim(this=c)), MISSING_WORDS)])
        else:
            missing = is_null(c)
        target = spec.kind
        if target in ("quantity", "integer"):
            if kind not in ("text", "number", "integer"):
                return exp.null(), missing
            src = c if kind == "text" else cast(c, "VARCHAR")
            well = regex(src, DECIMAL_RE if target == "quantity" else INTEGER_RE)
            value = cast(src, NUMBER if target == "quantity" else "BIGINT")
            good = well
            if target == "quantity" and not spec.allow_zero:
                good = and_([well, exp.GT(this=case([(well, value)]), expression=literal(Decimal(0)))])
            return case([(well, value)]), or_([missing, good])
        if target == "bool":
            if kind == "bool":
                return c, exp.true()
            if kind != "text":
                return exp.null(), missing
            word = exp.Lower(this=exp.Trim(this=c))
            yes = [w for w, b in BOOL_WORDS.items() if b]
            no = [w for w, b in BOOL_WORDS.items() if not b]
            return (case([(in_(word, yes), exp.true()), (in_(word, no), exp.false())]),
                    or_([missing, in_(word, BOOL_WORDS)]))
        if target == "date":
            if kind == "date":
                return c, exp.true()
            if kind != "text":
                return exp.null(), missing
            well = and_([regex(c, DATE_RE), exp.NEQ(this=exp.Substring(this=c, start=n(1), length=n(4)),
                                                     expression=s("0000"))])
            value = case([(well, exp.TryCast(this=c, to=exp.DataType.build("DATE")))])
            return value, or_([missing, and_([well, not_(is_null(value))])])
        if kind != "text":
            return exp.null(), missing
        value = case([(not_(missing), c)])
        if target == "country":
            return value, or_([missing, in_(c, all_country_codes())])
        if target == "enum":
            return value, or_([missing, in_(c, spec.values)])
        # text and party names: as written, with nothing to strip
        return value, or_([missing, exp.EQ(this=c, expression=exp.Trim(this=c))])

    def sql_type(self, field: str) -> str:
        return {"quantity": NUMBER, "integer": "BIGINT", "bool": "BOOLEAN", "date": "DATE"}.get(
            self.specs[field].kind, "VARCHAR")

    def typed(self, present: dict[str, str], odd: exp.Expression) -> exp.Select:
        """``typed`` from ``raw``: ``present`` maps the fields the input has to their source kind;
        ``odd`` is true for rows the runner already knows the plan must not decide."""
        cols = [col("__row")]
        regular = []
        for field in self.specs:
            if field in present:
                value, ok = self.typed_column(field, present[field])
                regular.append(ok)
            else:
                value = exp.null()
            cols.append(alias(cast(value, self.sql_type(field)), field))
        derived_only = [f for f in self.rules.preparer.derived_only if f in present]
        if derived_only:
            odd = exp.true()  # the per-record engine says the given value is ignored
        cols.insert(1, alias(and_([not_(odd), *regular]), "__regular"))
        return exp.select(*cols).from_(table("raw"))

    # ---- catalog, defaults, day and version
    def prepared0(self) -> exp.Select:
        t = lambda f: col(f, "t")  # noqa: E731
        k = lambda f: col(f, "k")  # noqa: E731
        values: dict[str, exp.Expression] = {}
        for field in self.specs:
            if field == "chip":
                values[field] = coalesce(k("name"), t("chip"))
            elif field in CHIP_FIGURES:
                values[field] = coalesce(t(field), k(field))
            else:
                values[field] = t(field)
        for field, default in self.rules.preparer.literal_defaults:
            values[field] = coalesce(values[field], literal(default) if not isinstance(default, str)
                                     else s(default))
        for field, source in self.rules.preparer.copied_defaults:
            values[field] = coalesce(values[field], values[source])
        regular = and_([t("__regular"), coalesce(k("regular"), exp.true())])
        on = literal(self.on_fixed) if self.on_fixed is not None else values.get("export_date", exp.null())
        arms = []
        for v, model in reversed(list(enumerate(self.models))):
            cond = exp.GTE(this=on, expression=literal(model.effective)) if model.effective else exp.true()
            if model.until is not None and v == len(self.models) - 1:
                cond = and_([cond, exp.LTE(this=on, expression=literal(model.until))])
            arms.append((cond, n(v)))
        ok = [v for v, good in enumerate(self.sql_ok) if good]
        version = case(arms)
        version = case([(and_([regular, exp.In(this=version, expressions=[n(v) for v in ok])]), version)]) \
            if ok else exp.null()
        select = exp.select(
            col("__row", "t"), alias(regular, "__regular"), alias(col("warning", "k"), "__chip_warning"),
            *[alias(v, f) for f, v in values.items()], alias(on, "__on"), alias(version, "__v"))
        join = exp.Join(this=table("chips", "k"), side="LEFT",
                        on=and_([t("__regular"), exp.EQ(this=t("chip"), expression=col("raw", "k"))]))
        return select.from_(table("typed", "t")).join(join)

    # ---- parties
    def epochs(self, list_name: str) -> list[dt.date]:
        """The days on which entries of a list come into or go out of force."""
        days = set()
        for version in self.versions:
            lst = version.model.lists.get(list_name)
            if lst is not None:
                for e in lst.entries:
                    days.update(d for d in (e.added, e.removed) if d is not None)
        return sorted(days)

    def party_keys(self, i: int, p: str = "p") -> tuple:
        """The key of a party's screening in ``prepared0`` (alias ``p``): name, country, address, epoch."""
        field, list_name = self.parties[i]
        country_field, address_field = EVIDENCE.get(field, (None, None))
        country = col(country_field, p) if country_field else cast(exp.null(), "VARCHAR")
        address = col(address_field, p) if address_field in self.specs else cast(exp.null(), "VARCHAR")
        days = self.epochs(list_name)
        epoch = n(0)
        if days:
            epoch = paren(exp.Add(this=cast(exp.GTE(this=col("__on", p), expression=literal(days[0])), "INTEGER"),
                                  expression=n(0)))
            for d in days[1:]:
                epoch = exp.Add(this=epoch, expression=cast(exp.GTE(this=col("__on", p), expression=literal(d)),
                                                             "INTEGER"))
            epoch = paren(epoch)
        return col(field, p), country, address, epoch

    def party_distinct(self, i: int) -> exp.Select:
        """Each distinct (name, country, address, epoch) of a party field, with a day of its epoch."""
        name, country, address, epoch = self.party_keys(i)
        return (exp.select(alias(name, "name"), alias(country, "country"), alias(address, "address"),
                           alias(epoch, "epoch"), alias(exp.Min(this=col("__on", "p")), "day"))
                .from_(table("prepared0", "p"))
                .where(and_([not_(is_null(name)), exp.In(this=col("__v", "p"), expressions=[
                    n(v) for v in sorted(self.screened_by[self.parties[i]])])]))
                .group_by(n(1), n(2), n(3), n(4)))

    def prepared(self) -> exp.Select:
        """``prepared0`` with each party's screening joined on."""
        select = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("p")))
        for i, (field, list_name) in enumerate(self.parties):
            m = f"m{i}"
            select = select.select(alias(col("status", m), status_col(field, list_name)),
                                   alias(col("policy", m), policy_col(field, list_name)),
                                   alias(col("note", m), note_col(field, list_name)), copy=False)
        select = select.from_(table("prepared0", "p"), copy=False)
        for i in range(len(self.parties)):
            m = f"m{i}"
            name, country, address, epoch = self.party_keys(i)
            on = and_([exp.EQ(this=col("name", m), expression=name),
                       exp.NullSafeEQ(this=col("country", m), expression=country),
                       exp.NullSafeEQ(this=col("address", m), expression=address),
                       exp.EQ(this=col("epoch", m), expression=epoch)])
            select = select.join(exp.Join(this=table(m, m), side="LEFT", on=on), copy=False)
        return select

    # ---- deciding
    def day_points(self, v: int) -> list[dt.date]:
        """Every day on which a rule of version ``v`` or an entry of its lists comes into or goes out of force."""
        model = self.versions[v].model
        days = set()
        for r in model.rules:
            if r.effective is not None:
                days.add(r.effective)
            if r.until is not None:
                days.add(r.until + dt.timedelta(days=1))
        for lst in model.lists.values():
            for e in lst.entries:
                days.update(d for d in (e.added, e.removed) if d is not None)
        return sorted(days)

    def decided(self) -> exp.Expression:
        """``decided``: one select per version over its own rows, joined by UNION ALL."""
        selects = [self.version_select(vs) for vs in self.decidable()]
        if not selects:
            return self.version_select(None)
        out = selects[0]
        for other in selects[1:]:
            out = exp.Union(this=out, expression=other, distinct=False)
        return out

    def version_select(self, vs: VersionSql | None) -> exp.Select:
        """One version's rows of ``decided``: the decision as codes (`VersionSql.codes`), and for an
        undecided row its signature and the notes on its possible matches."""
        notes = [col(note_col(f, lname)) for f, lname in self.parties]
        width = self.signature_width
        head = [col("__row"), col("__v"), col("__chip_warning")]
        if vs is None:
            cols = [*head, *[alias(cast(exp.null(), t), c) for c, t in CODE_COLUMNS],
                    alias(exp.false(), "__signable"),
                    *[alias(cast(exp.null(), "VARCHAR"), f"__s{i}") for i in range(width)],
                    *[alias(cast(exp.null(), "VARCHAR"), note_col(f, lname)) for f, lname in self.parties]]
            return exp.select(*cols).from_(table("prepared")).where(exp.false())
        sig = self.signatures.get(vs.v)
        und = col(vs.names.undecided())
        sig_cols = [alias(case([(und, cast(sig[i], "VARCHAR"))]) if sig is not None and i < len(sig)
                          else cast(exp.null(), "VARCHAR"), f"__s{i}") for i in range(width)]
        note_cols = [alias(case([(und, c)]), c.name) for c in notes]
        body = (exp.select(exp.Star()).from_(table("prepared"))
                .where(exp.EQ(this=col("__v"), expression=n(vs.v))))
        for stage in (vs.stage_classify(), vs.stage_require(), vs.stage_exceptions(), vs.stage_summary()):
            body = exp.select(exp.Star(), *stage).from_(exp.Subquery(this=body))
        cols = [*head, *[alias(cast(c.this, t), name) for c, (name, t) in zip(vs.codes(), CODE_COLUMNS, strict=True)],
                alias(exp.true() if sig is not None else exp.false(), "__signable"), *sig_cols, *note_cols]
        return exp.select(*cols).from_(exp.Subquery(this=body))

    def expanded(self, d: str) -> list[exp.Expression]:
        """The decision columns users read, from the codes of a relation ``d`` with ``__v``, the
        code columns and ``id``; each version's ids and texts come from its own rules."""
        def m(name):
            return col(name, d)

        def per_version(what):
            arms = [(exp.EQ(this=m("__v"), expression=n(vs.v)), vs.expand(what, m)) for vs in self.decidable()]
            return case(arms, cast(exp.Array(expressions=[]), "VARCHAR[]"))

        info = {vs.v: self.versions[vs.v].info for vs in self.decidable()}

        def by_version(attr):
            return case([(exp.EQ(this=m("__v"), expression=n(v)), s(getattr(i, attr))) for v, i in info.items()],
                        cast(exp.null(), "VARCHAR"))

        return [alias(outcome_name(m("outcome_code")), "outcome"),
                alias(per_version("classification"), "classification"),
                alias(case([(exp.EQ(this=m("__v"), expression=n(vs.v)), vs.expand("jurisdiction", m))
                            for vs in self.decidable()],
                           cast(exp.null(), "VARCHAR")), "jurisdiction"),
                alias(review_name(m("review_rank")), "review_policy"),
                alias(per_version("license_exceptions"), "license_exceptions"),
                alias(per_version("notifications"), "notifications"),
                alias(per_version("rules_fired"), "rules_fired"),
                alias(per_version("citations"), "citations"),
                alias(by_version("version"), "ruleset_version"),
                alias(by_version("content_hash"), "ruleset_hash"),
                alias(by_version("timeline"), "timeline")]

    def output_columns(self, inputs: list[str], csv_separators: dict | None = None,
                       text_inputs: set[str] | None = None, words: bool = False) -> list[exp.Expression]:
        """The output's columns over ``d`` (a row of ``final``: codes, or a row Python decided with
        its own ``p_`` columns) beside ``r`` (the input's row): the decision columns, then the
        input's own. With ``csv_separators``, lists are joined (an empty list an empty cell).
        With ``words``, ``d`` also holds the columns made from its codes (``words``), made once
        per distinct decision rather than on every row."""
        expanded = {e.alias: (col(f"w_{e.alias}", "d") if words else e.this) for e in self.expanded("d")}
        py = col("py", "d")
        if "id" in inputs:
            rid = col("id", "r")
            missing = or_([is_null(rid), in_(exp.Lower(this=exp.Trim(this=rid)), MISSING_WORDS)])
            sql_id = case([(missing, cast(col("row", "d"), "VARCHAR"))], rid)
        else:
            sql_id = cast(col("row", "d"), "VARCHAR")
        cols = {"row": col("row", "d"), "id": case([(py, col("p_id", "d"))], sql_id)}
        empty = cast(exp.Array(expressions=[]), "VARCHAR[]")
        for k in DECISION_COLUMNS[2:]:
            if k in expanded:
                cols[k] = case([(py, col(f"p_{k}", "d"))], expanded[k])
            elif k == "errors":
                cols[k] = coalesce(col("p_errors", "d"), empty)
            else:
                cols[k] = col(k, "d")
        if csv_separators:
            cols = {k: (exp.Nullif(this=exp.ArrayToString(this=v, expression=s(csv_separators[k])), expression=s(""))
                        if k in csv_separators else v) for k, v in cols.items()}
        taken = set(DECISION_COLUMNS)
        safe = formula_safe_sql if csv_separators else (lambda v: v)  # no cell a spreadsheet runs
        inputs_out = {name if name not in taken else f"input_{name}":
                      safe(col(name, "r")) if text_inputs is None or name in text_inputs else col(name, "r")
                      for name in inputs}
        cols = {k: (v if k == "row" else safe(v)) for k, v in cols.items()}
        return [alias(v, k) for k, v in cols.items()] + [alias(v, k) for k, v in inputs_out.items()]

    def words(self, codes: str) -> exp.Select:
        """The columns users read for each distinct decision of the relation ``codes`` (its code
        columns and ``__v``), as ``w_<name>``, beside the codes they are made from."""
        keys = [col(c) for c in WORD_KEYS]
        distinct = exp.select(*keys).from_(table(codes)).distinct()
        made = [alias(e.this, f"w_{e.alias}") for e in self.expanded("d")]
        return exp.select(*[col(c, "d") for c in WORD_KEYS], *made).from_(
            exp.Subquery(this=distinct, alias=exp.TableAlias(this=exp.to_identifier("d"))))

    def encode(self, d) -> dict:
        """A per-record decision as the plan's codes (for the rows Python decides)."""
        v = next((k for k, vs in enumerate(self.versions) if d.ruleset is not None
                  and vs.model.path == d.ruleset.path and vs.model.version == d.ruleset.version), None)
        out = {"__v": v, "outcome_code": OUTCOME_CODE[M.Outcome(d.outcome)],
               "review_rank": POLICY_RANK[M.Policy(d.review_policy)] if d.review_policy else None,
               "cmask": 0, "rmask": 0, "emask": 0, "dmask": 0, "jrule": None}
        if v is None:
            return out
        p = self.versions[v].program
        fired = set(d.rules_fired)
        granted = {g.name: g.notify for g in d.license_exceptions}
        out["cmask"] = sum(1 << i for i, r in enumerate(p.classify) if r.id in d.classification)
        out["jrule"] = next((i for i, r in enumerate(p.jurisdiction) if r.id in d.jurisdiction), None)
        out["rmask"] = sum(1 << j for j, r in enumerate(p.require) if r.id in fired)
        out["emask"] = sum(1 << k for k, r in enumerate(p.exceptions) if r.id in granted)
        flat = [(r.id, duty.text) for r in p.exceptions for duty in r.duties]
        out["dmask"] = sum(1 << i for i, (rid, text) in enumerate(flat) if text in granted.get(rid, ()))
        return out

    # ---- the whole plan, for a warehouse
    def query(self, dialect: str) -> str:
        """The plan as one query over a table ``shipments`` with a text column per record field
        (NULL where unknown), the catalog inline, and one table of party screenings per party
        field and list (``m0``, ``m1`` ..., see the header). Rows whose outcome is NULL need the
        case split or a spelling only the per-record engine reads: decide those with chiprules."""
        chips = self.catalog_values()
        raw = exp.select(alias(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[
            exp.Ordered(this=col("id", "s"))])), "__row"), exp.Column(this=exp.Star(), table=exp.to_identifier("s"))
        ).from_(table("shipments", "s"))
        ctes = [("raw", raw), ("typed", self.typed({f: "text" for f in self.specs}, exp.false())),
                ("chips", chips), ("prepared0", self.prepared0()), ("prepared", self.prepared())]
        select = exp.select(col("__row", "d"), *self.expanded("d")).from_(
            exp.Subquery(this=self.decided(), alias=exp.TableAlias(this=exp.to_identifier("d"))))
        for name, body in ctes:
            select = select.with_(exp.to_identifier(name, quoted=True), as_=body, copy=False)
        head = ["-- chiprules: the decision plan of "
                + ", ".join(f"{m.name} {m.version}" for m in self.models) + f" ({self.timeline} timeline)",
                "-- reads `shipments`: one text column per record field, NULL where unknown",
                "-- and the party screenings (name, country, address, epoch, status, policy, note) from `chiprules`:"]
        head += [f"--   m{i}: `{f}` against `{lname}`" for i, (f, lname) in enumerate(self.parties)]
        head.append("-- rows with a NULL outcome: decide them with chiprules (missing facts, unusual spellings)")
        return "\n".join(head) + "\n" + select.sql(dialect, pretty=True) + ";\n"

    def catalog_values(self) -> exp.Expression:
        """The chip catalog as a VALUES relation: every name and alias, with its figures."""
        catalog = self.rules.catalog
        rows = []
        for spec in catalog or ():
            values = spec.fields()
            for raw in (spec.name, *spec.aliases):
                figures = []
                for f in CHIP_FIGURES:
                    v = values.get(f)
                    if f == "datacenter":
                        figures.append(exp.null() if v is None else exp.true() if v else exp.false())
                    elif f == "item_kind":
                        figures.append(s(v) if v else exp.null())
                    else:
                        figures.append(cast(exp.null(), NUMBER) if v is None else literal(v))
                rows.append(exp.Tuple(expressions=[s(raw), s(spec.name), exp.null(), exp.true(), *figures]))
        names = ["raw", "name", "warning", "regular", *CHIP_FIGURES]
        if not rows:
            return exp.select(*[alias(exp.null(), k) for k in names]).where(exp.false())
        values = exp.Values(expressions=rows, alias=exp.TableAlias(
            this=exp.to_identifier("c"), columns=[exp.to_identifier(k, quoted=True) for k in names]))
        return exp.select(exp.Star()).from_(values)

    def group_keys(self) -> list[exp.Expression]:
        return [col("__v")] + [col(f"__s{i}") for i in range(self.signature_width)]


__all__ = ["BOOL_WORDS", "CHIP_FIGURES", "CODE_COLUMNS", "DECISION_COLUMNS", "MISSING_WORDS", "SOURCE_KINDS", "Plan"]
