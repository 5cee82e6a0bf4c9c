"""chiprules: a rules language and toolkit for US export controls on advanced AI chips."""

from chiprules.core.diagnostics import Diagnostic, Severity
from chiprules.core.errors import ChiprulesError, DataError, LedgerError, RecordError, RulesError
from chiprules.engine import Rules, load, load_licences, open_ledger
from chiprules.eval.decision import Decision, ExceptionGrant, Reason, RulesetInfo
from chiprules.eval.prepare import UnknownFieldWarning
from chiprules.report.diff import DiffReport, diff

__version__ = "0.1.0"

__all__ = [
    "ChiprulesError",
    "DataError",
    "Decision",
    "Diagnostic",
    "DiffReport",
    "ExceptionGrant",
    "LedgerError",
    "Reason",
    "RecordError",
    "Rules",
    "RulesError",
    "RulesetInfo",
    "Severity",
    "UnknownFieldWarning",
    "diff",
    "load",
    "load_licences",
    "open_ledger",
]
