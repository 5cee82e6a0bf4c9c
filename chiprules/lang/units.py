"""Units and dimensions of quantities.

A unit is a scale and a dimension vector over base dimensions. TPP is
TOPS x bits (Technical Note to 3A090), so `tpp / die_area` has the
dimension of `TPP/mm2`. Values are kept exactly (Decimal scales).
"""

from __future__ import annotations

from decimal import Decimal

import attrs

Dims = tuple[tuple[str, int], ...]


def _dims(**exps: int) -> Dims:
    return tuple(sorted((k, v) for k, v in exps.items() if v))


@attrs.frozen
class Unit:
    name: str  # canonical spelling
    dims: Dims
    scale: Decimal = Decimal(1)  # value in canonical unit = number * scale


_TPP = _dims(TOPS=1, bits=1)
UNITS: dict[str, Unit] = {
    "TPP": Unit("TPP", _TPP),
    "TOPS": Unit("TOPS", _dims(TOPS=1)),
    "bits": Unit("bits", _dims(bits=1)),
    "bit": Unit("bits", _dims(bits=1)),
    "mm2": Unit("mm2", _dims(mm2=1)),
    "GB/s": Unit("GB/s", _dims(GBps=1)),
    "TB/s": Unit("GB/s", _dims(GBps=1), Decimal(1000)),
    "transistors": Unit("transistors", _dims(transistors=1)),
    "TPP/mm2": Unit("TPP/mm2", _dims(TOPS=1, bits=1, mm2=-1)),
    "GB/s/mm2": Unit("GB/s/mm2", _dims(GBps=1, mm2=-1)),
    "TB/s/mm2": Unit("GB/s/mm2", _dims(GBps=1, mm2=-1), Decimal(1000)),
    "TOPS/mm2": Unit("TOPS/mm2", _dims(TOPS=1, mm2=-1)),
    "bits/mm2": Unit("bits/mm2", _dims(bits=1, mm2=-1)),
    "transistors/mm2": Unit("transistors/mm2", _dims(transistors=1, mm2=-1)),
    # a share of value (de minimis US content, 15 CFR 734.4): its own dimension, so a
    # percentage is never compared with a bare number or another quantity by mistake
    "percent": Unit("percent", _dims(percent=1)),
    # the end-use controls of 15 CFR 744.23: a supercomputer's collective compute and
    # the volume it fits in (15 CFR 772.1 "supercomputer"), and the figures of an
    # advanced-node IC facility (772.1 "advanced-node integrated circuits"). Each is a
    # dimension of its own: a memory cell's area is never compared with a die's.
    "PFLOPS": Unit("PFLOPS", _dims(PFLOPS=1)),
    "ft3": Unit("ft3", _dims(ft3=1)),
    "nm": Unit("nm", _dims(nm=1)),
    "um2": Unit("um2", _dims(um2=1)),
    "Gb": Unit("Gb", _dims(Gb=1)),
    # the training of an AI model, in operations (ECCN 4E091: 10^26 or more)
    "ops": Unit("ops", _dims(ops=1)),
}

# Every spelling the grammar's UNIT token accepts: a base unit, optionally per mm2.
for _base in ("TPP", "TOPS", "GB/s", "TB/s", "mm2", "bits", "bit", "transistors", "Gb"):
    _per = _base + "/mm2"
    if _per not in UNITS:
        _u = UNITS[_base]
        _dims_per = dict(_u.dims)
        _dims_per["mm2"] = _dims_per.get("mm2", 0) - 1
        UNITS[_per] = Unit(_u.name + "/mm2" if _u.name != "mm2" else "mm2/mm2",
                           _dims(**_dims_per), _u.scale)

DIMENSIONLESS: Dims = ()

# A bare number may be compared with these dimensions: TPP is by long use
# written without a unit in the regulation itself ("TPP of 4800 or more").
BARE_NUMBER_OK = {DIMENSIONLESS, _TPP}


def unit(name: str) -> Unit | None:
    return UNITS.get(name)


def dims_name(dims: Dims) -> str:
    """A readable name for a dimension vector (the canonical unit if one exists)."""
    if not dims:  # before the units: `mm2/mm2` is dimensionless too
        return "a plain number"
    for u in UNITS.values():
        if u.dims == dims and u.scale == 1:
            return u.name
    num = [k if v == 1 else f"{k}^{v}" for k, v in dims if v > 0]
    den = [k if v == -1 else f"{k}^{-v}" for k, v in dims if v < 0]
    text = "*".join(num) or "1"
    if den:
        text += "/" + "/".join(den)
    return text.replace("GBps", "GB/s")


def mul_dims(a: Dims, b: Dims, sign: int = 1) -> Dims:
    out = dict(a)
    for k, v in b:
        out[k] = out.get(k, 0) + sign * v
    return _dims(**out)
