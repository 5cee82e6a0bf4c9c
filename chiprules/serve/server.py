"""Serving the application over HTTP with uvicorn."""

from __future__ import annotations

import uvicorn


def run(app, host: str, port: int) -> None:
    """Serve ``app`` until interrupted; uvicorn's own logs only for warnings and errors (the
    service writes its access log itself)."""
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False,
                date_header=True, timeout_graceful_shutdown=5)
