"""The decision service and the workbench: `chiprules serve`.

`create_app` builds the ASGI application over a `Served` set of rules (reloaded
when their files change); `run` serves it with uvicorn.
"""

from chiprules.serve.api import ApiError, Settings, create_app
from chiprules.serve.logs import Logs
from chiprules.serve.state import Served

__all__ = ["ApiError", "Logs", "Served", "Settings", "create_app"]
