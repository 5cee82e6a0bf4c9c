"""A quota's (or a licence's) use over time, from a ledger: one step line per key and period,
with its limit, so an exporter sees how fast a total fills."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import attrs

from chiprules.core.errors import ChiprulesError
from chiprules.report.plot import FORMATS, _metadata, _require_matplotlib


@attrs.frozen
class Series:
    """The running use of one total: (day, used after that day's draws) points, and its limit."""

    label: str  # the key and period
    unit: str
    points: tuple[tuple[dt.date, Decimal], ...]
    limit: Decimal | None
    over: tuple[dt.date, ...] = ()  # days a draw was refused


def quota_series(ledger, name: str) -> list[Series]:
    """The series of a quota or licence named ``name`` in a ledger (empty if it has none)."""
    by_total: dict = {}
    for day, key, period, amount, kind, use in ledger.history(name):
        if kind == "feed":
            continue
        label = f"{key}, {period}" if key and kind != "licence" else f"{period} ({key})" if kind == "licence" else period
        row = by_total.setdefault(label, {"unit": use.get("unit") or "units", "points": [], "limit": None,
                                          "over": [], "total": Decimal(0)})
        if use.get("status") == "over":
            row["over"].append(day)
        if amount:
            row["total"] += amount
            row["points"].append((day, row["total"]))
        if use.get("limit") is not None:
            row["limit"] = Decimal(use["limit"])
    return [Series(label, r["unit"], tuple(r["points"]), r["limit"], tuple(r["over"]))
            for label, r in sorted(by_total.items())]


def draw_quota(series: list[Series], name: str, path: str | Path, *, dpi: int = 110):
    """Draw the series (PNG or SVG by the extension of ``path``); return the figure."""
    if Path(path).suffix.lower() not in FORMATS:
        raise ChiprulesError(f"cannot write `{path}`: the picture must be " + " or ".join(f"`{f}`" for f in FORMATS))
    if not series:
        raise ChiprulesError(f"the ledger holds no draws on `{name}`")
    Figure, FigureCanvasAgg = _require_matplotlib()
    fig = Figure(figsize=(10, 5.6), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.09, 0.2, 0.56, 0.7))
    for k, s in enumerate(series):
        color = f"C{k % 10}"
        days = [p[0] for p in s.points]
        used = [float(p[1]) for p in s.points]
        if days:
            ax.step([days[0], *days], [0.0, *used], where="post", color=color, label=s.label, linewidth=1.8)
            ax.plot(days, used, "o", color=color, markersize=3.5)
        if s.limit is not None:
            ax.axhline(float(s.limit), color=color, linestyle="--", linewidth=1,
                       label=f"limit {s.limit:,f} {s.unit}".replace(".000000", ""))
        for day in s.over:
            ax.axvline(day, color=color, linestyle=":", linewidth=0.8)
    ax.set_title(f"use of `{name}` over time (dotted: a draw past the limit, refused)", fontsize=11)
    ax.set_xlabel("export date")
    ax.set_ylabel(f"used ({series[0].unit})")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    fig.autofmt_xdate()
    try:
        fig.savefig(path, dpi=dpi, metadata=_metadata(path))
    except OSError as exc:
        raise ChiprulesError(f"cannot write `{path}`: {exc.strerror or exc}") from None
    return fig
