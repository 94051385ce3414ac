"""A real HTTP receiver on 127.0.0.1 for alert tests: Apprise's `json://` posts land here.

`Receiver.url("/hook")` is the Apprise URL to put in `CROSSINGS_NOTIFY`; every POST is kept as
its decoded JSON (`title`, `message`, `type`). Paths in `failing` answer 500, so a test can see a
notification fail without the run failing. Also `edited_page`, which writes a copy of a real
last-7-days capture with one day's count (and optionally the "updated" stamp) changed, in the
Home Office layout, for record and stamp tests.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

__all__ = ["Receiver", "receiver", "edited_page"]


class Receiver:
    """The messages posted to a local HTTP server, in arrival order."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.failing: set[str] = set()
        self._seen = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                fail = self.path in receiver.failing
                with receiver._lock:
                    receiver.messages.append({**payload, "path": self.path, "failed": fail})
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def delivered(self) -> list[dict]:
        """Every message answered 200."""
        with self._lock:
            return [m for m in self.messages if not m["failed"]]

    def take(self) -> list[dict]:
        """Messages delivered since the last take."""
        delivered = self.delivered()
        new, self._seen = delivered[self._seen :], len(delivered)
        return new

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A fresh receiver for one test."""
    got = Receiver()
    try:
        yield got
    finally:
        got.close()


def edited_page(
    source: Path, target: Path, day: str, migrants: int, *, updated_at: str | None = None
) -> Path:
    """A copy of a real capture with `day`'s (e.g. "20 February 2026") migrants changed."""
    text = source.read_text(encoding="utf-8")
    row = re.compile(rf'(<th scope="row">{re.escape(day)}</th>\s*<td>)[^<]*(</td>)')
    text, count = row.subn(rf"\g<1>{migrants}\g<2>", text)
    assert count == 1, f"{source.name} has no row for {day}"
    if updated_at:
        text, count = re.subn(
            r'(<meta name="govuk:updated-at" content=")[^"]*(")', rf"\g<1>{updated_at}\g<2>", text
        )
        assert count == 1
    target.write_text(text, encoding="utf-8")
    return target
