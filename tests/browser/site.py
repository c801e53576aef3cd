"""A static file server on its own loopback port: the browser clients' origin, not the DICOMweb one.

Serves folders under URL prefixes, a few generated files (OHIF's ``app-config.js``, test pages),
and, for a single-page app, ``index.html`` for any path that is no file (OHIF routes ``/viewer``,
``/?…`` in the page). Standard library only; one thread per request.
"""

from __future__ import annotations

import http.server
import posixpath
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm"}


def _handler(
    mounts: dict[str, Path], files: dict[str, tuple[bytes, str]], spa: Path | None
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the test says what went wrong

        def do_GET(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            if path in files:
                body, content_type = files[path]
                self._send(body, content_type)
                return
            for prefix, folder in mounts.items():
                if path.startswith(prefix):
                    target = _inside(folder, path[len(prefix) :])
                    if target is not None and target.is_file():
                        self._send_file(target)
                        return
            if spa is not None:
                self._send_file(spa)
                return
            self._send(b"not found", "text/plain", 404)

        def _send_file(self, target: Path) -> None:
            guessed = _TYPES.get(target.suffix) or self.guess_type(target)
            self._send(target.read_bytes(), guessed)

        def guess_type(self, path: Path) -> str:
            import mimetypes

            return mimetypes.guess_type(path.name)[0] or "application/octet-stream"

        def _send(self, body: bytes, content_type: str, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _inside(folder: Path, relative: str) -> Path | None:
    clean = posixpath.normpath("/" + urllib.parse.unquote(relative)).lstrip("/")
    target = (folder / clean).resolve()
    return target if target.is_relative_to(folder.resolve()) else None


@contextmanager
def serve(
    mounts: dict[str, Path],
    files: dict[str, tuple[bytes, str]] | None = None,
    spa: Path | None = None,
) -> Iterator[str]:
    """Serve static files on a free loopback port while the block runs.

    Parameters
    ----------
    mounts : dict
        URL prefix (ending in ``/``) → folder.
    files : dict, optional
        URL path → (body, content type), answered before the folders.
    spa : Path, optional
        The file answered for any other path (a single-page app's ``index.html``).

    Yields
    ------
    str
        The origin, e.g. ``http://127.0.0.1:41234``.
    """
    handler = _handler(mounts, files if files is not None else {}, spa)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="static-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
