"""chiprules: a rules language and toolkit for US export controls on advanced AI chips."""

from .decision import Decision, ExceptionGrant, Reason, RulesetInfo
from .diagnostics import Diagnostic, Severity
from .diff import DiffReport, diff
from .engine import Rules, load
from .errors import ChiprulesError, DataError, RecordError, RulesError

__version__ = "0.1.0"

__all__ = [
    "ChiprulesError",
    "DataError",
    "Decision",
    "Diagnostic",
    "DiffReport",
    "ExceptionGrant",
    "Reason",
    "RecordError",
    "Rules",
    "RulesError",
    "RulesetInfo",
    "Severity",
    "diff",
    "load",
]
