"""Running totals across shipments: quotas the rules declare, licences the exporter holds,
and the ledger that keeps their draws between runs (SQLite).

Between the engine and the batch engine in the layers: the engine decides each record
alone, then applies the tally in `export_date` order (`tally`); `store` keeps the ledger.
"""

from chiprules.ledger.store import Ledger
from chiprules.ledger.tally import QuotaUse, Tally, draws_of, fingerprint, replay

__all__ = ["Ledger", "QuotaUse", "Tally", "draws_of", "fingerprint", "replay"]
