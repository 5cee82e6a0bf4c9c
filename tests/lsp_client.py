"""A small Language Server Protocol client for tests: `chiprules lsp` in a child process,
spoken to in JSON-RPC with Content-Length framing over its stdin and stdout."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

TIMEOUT = 120


def uri(path: Path) -> str:
    return path.resolve().as_uri()


def position(text: str, offset: int) -> dict:
    """The protocol's position of an offset: 0-based line, UTF-16 column (lines end at \\n)."""
    before = text[:offset]
    line = before.count("\n")
    col_text = before[before.rfind("\n") + 1 :]
    return {"line": line, "character": len(col_text.encode("utf-16-le")) // 2}


class Client:
    def __init__(self, cwd: Path, root: Path):
        env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chiprules", "lsp"], cwd=cwd, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.next_id = 0
        self.inbox: queue.Queue = queue.Queue()
        self.notifications: list[dict] = []
        self.diagnostics: dict[str, list[dict]] = {}
        threading.Thread(target=self._read, daemon=True).start()
        self.stderr: list[bytes] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line)

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    self.inbox.put(None)
                    return
                line = line.decode("ascii").strip()
                if not line:
                    break
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            body = out.read(int(headers["content-length"]))
            self.inbox.put(json.loads(body.decode("utf-8")))

    def send(self, message: dict) -> None:
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        self.proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: dict | None) -> dict:
        """Send a request; return its whole response, keeping notifications met on the way."""
        self.next_id += 1
        rid = self.next_id
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        while True:
            got = self.inbox.get(timeout=TIMEOUT)
            if got is None:
                raise RuntimeError("the server stopped:\n" + b"".join(self.stderr).decode(errors="replace"))
            if "id" in got and "method" in got:  # a request from the server (e.g. registration)
                self.send({"jsonrpc": "2.0", "id": got["id"], "result": None})
                continue
            if "id" not in got:
                self.notifications.append(got)
                if got.get("method") == "textDocument/publishDiagnostics":
                    self.diagnostics[got["params"]["uri"]] = got["params"]["diagnostics"]
                continue
            if got["id"] == rid:
                return got

    def initialize(self, root: Path) -> dict:
        res = self.request("initialize", {"processId": os.getpid(), "rootUri": uri(root),
                                          "capabilities": {}})
        self.notify("initialized", {})
        return res

    def open(self, path: Path, text: str, version: int = 1) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri(path), "languageId": "chiprules", "version": version, "text": text}})

    def sync(self) -> None:
        """Wait until every notification sent before has been handled."""
        self.request("textDocument/documentSymbol", {"textDocument": {"uri": "file:///nonexistent.rules"}})

    def shutdown(self) -> int:
        self.request("shutdown", None)
        self.notify("exit", None)
        try:
            return self.proc.wait(timeout=TIMEOUT)
        finally:
            for s in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                s.close()
