"""Serve a folder's files over loopback as fast as the kernel can: the raw limit run.py compares to.

    python benchmarks/static_server.py FOLDER PORT

``python -m http.server`` copies each file through Python in 64 KiB pieces and is itself the
limit (about 300 MB/s here); this answers each GET with the file's length and hands the file to
the kernel (``socket.sendfile``), so what a client measures is loopback and its own reading.
"""

from __future__ import annotations

import functools
import shutil
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SendfileHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler with the body sent by the kernel, on keep-alive connections."""

    protocol_version = "HTTP/1.1"

    def copyfile(self, source: Any, outputfile: Any) -> None:
        try:
            self.connection.sendfile(source)
        except (AttributeError, OSError):  # not a regular file, or sendfile refused
            shutil.copyfileobj(source, outputfile)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: no line per request
        pass


def main() -> None:
    folder, port = sys.argv[1], int(sys.argv[2])
    handler = functools.partial(SendfileHandler, directory=folder)
    with ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
