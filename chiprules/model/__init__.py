"""The checked model: what the rules mean, names resolved and units canonical.

Only :mod:`chiprules.lang.checker` builds it; every backend, the semantic diff and
the plots read it. :mod:`chiprules.model.walk` holds the one set of walkers over it.
"""

from chiprules.model.checked import *  # noqa: F401,F403
from chiprules.model.checked import __all__  # noqa: F401
