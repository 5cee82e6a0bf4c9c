"""The reference interpreter: the oracle for the compiled backends, and the explainer.

`kleene` evaluates the checked model in three-valued logic; `split` decides a
record with missing facts by splitting the cases; `trace` explains a decision.
Nothing here is shared with the backends (`chiprules.eval.python`,
`chiprules.eval.split`): they meet only in plain data (`Verdict`, `Decision`).
"""

from chiprules.eval.reference.kleene import Env, evaluate, partial_verdict
from chiprules.eval.reference.split import Judgement, Outcome, decide, judge
from chiprules.eval.reference.trace import missing_reasons, possible_reasons, trace

__all__ = ["Env", "Judgement", "Outcome", "decide", "judge", "evaluate", "partial_verdict", "missing_reasons", "possible_reasons",
           "trace"]
