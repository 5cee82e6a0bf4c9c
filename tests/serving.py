"""A decision service running for a test: uvicorn in a thread, on a free loopback port."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from pathlib import Path

import uvicorn

from .conftest import ROOT


@contextlib.contextmanager
def running(app):
    """Serve ``app`` on 127.0.0.1 until the block ends; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def small_rules(tmp: Path, versions=("2024-03-15",)) -> Path:
    """A copy of the bundled rules root with only the given versions in `ear/`; returns `ear/`."""
    root = tmp / "rules"
    shutil.copytree(ROOT / "rules", root)
    for f in (root / "ear").glob("*.rules"):
        if f.stem not in versions:
            f.unlink()
    return root / "ear"
