"""How uvicorn runs the app: one configuration for :class:`LocalServer` and ``dicomweb-nb serve``.

The HTTP parser is httptools (llhttp, in C): with h11, uvicorn's pure-Python parser, a
one-instance STOW request cost 7-19 % more server CPU (user time per request, medians of two sets
of alternating rounds: 5.80 and 7.07 ms with h11, 4.87 and 6.63 ms with httptools).

uvicorn times out idle keep-alive connections only after a response: a client that connects and
then sends its request head slowly, or never, held a connection (and a file descriptor) forever.
:class:`TimedHttpToolsProtocol` gives each request head :data:`HEADER_TIMEOUT` seconds from its
first byte (or from the connection), as Kestrel does (its ``RequestHeadersTimeout``, 30 s), and
closes the connection when the head has not arrived by then. llhttp sets no bound on a head's
size, so the protocol counts it: a request line plus headers over :data:`MAX_HEAD_BYTES` is
answered 431 and the connection closed. Request bodies that stall are answered 408 by
:mod:`.gate`.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 30.0
# Between requests on one connection. Long enough that a notebook's next call usually reuses it,
# short enough that idle connections do not pile up.
KEEP_ALIVE_TIMEOUT = 15
# Request line plus headers, counted as sent. Kestrel allows 32 KB of headers; twice that lets a
# frame list well past 4,096 numbers (over 10,000 five-digit ones) reach the route, which answers
# it with its own 400 (h11, the parser before, let a head of any size through when it arrived in
# one piece).
MAX_HEAD_BYTES = 64 * 1024
_HEAD_TOO_LARGE = (
    f"Request Header Fields Too Large: the request line and headers exceed {MAX_HEAD_BYTES} bytes."
)


class _HeadTooLarge(Exception):
    """Raised in a parser callback: httptools stops parsing and uvicorn answers (see below)."""


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size bound for each request head."""

    header_timeout = HEADER_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None
    _head_bytes = 0
    _head_too_large = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the connection; its first request head is due within the timeout.

        Parameters
        ----------
        transport : asyncio.Transport
            The connection.
        """
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """End the connection and its timer.

        Parameters
        ----------
        exc : Exception or None
            Why it ended, if not a close.
        """
        self._cancel_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        """Begin a request (its first byte arrived): its head is due within the timeout."""
        super().on_message_begin()
        self._head_bytes = 0
        self._start_head_timer()

    def on_url(self, url: bytes) -> None:
        """Take (a piece of) the request target.

        Parameters
        ----------
        url : bytes
            The piece.
        """
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Take one header.

        Parameters
        ----------
        name, value : bytes
            The header.
        """
        self._count_head(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """End the request head: its deadline no longer applies."""
        self._cancel_head_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """Answer a request the parser refused, and close the connection.

        Parameters
        ----------
        msg : str
            uvicorn's words for a malformed request; a head over the bound gets 431 instead.
        """
        if not self._head_too_large:
            super().send_400_response(msg)
            return
        body = _HEAD_TOO_LARGE.encode("ascii")
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n"
            b"connection: close\r\n\r\n" + body
        )
        self.transport.close()

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            # httptools turns this into HttpParserError, which uvicorn answers with
            # send_400_response: the flag makes that a 431.
            self._head_too_large = True
            raise _HeadTooLarge

    def _start_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_overdue)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_overdue(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def uvicorn_config(app: Any, **options: Any) -> uvicorn.Config:
    """Return the uvicorn configuration every way of serving uses.

    Parameters
    ----------
    app : ASGI application
        The app (see :func:`.app.create_app`).
    **options
        Other ``uvicorn.Config`` options (host, port, log level…).

    Returns
    -------
    uvicorn.Config
        With the httptools protocol above and the keep-alive timeout.
    """
    return uvicorn.Config(
        app,
        http=TimedHttpToolsProtocol,
        # uvloop where it is installed (a dependency except on Windows): one-instance STOW
        # requests spent ~10 % less server CPU on it than on asyncio's own loop.
        loop="auto",
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        **options,
    )


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind the socket uvicorn serves on (``port`` 0 picks a free one).

    Parameters
    ----------
    host : str
        The address.
    port : int
        The TCP port.

    Returns
    -------
    socket.socket
        Bound, not yet listening.

    Raises
    ------
    OSError
        When the address cannot be bound (a busy port, say).
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    # Accepted connections inherit this: without it, Nagle's algorithm and delayed ACKs add
    # ~40 ms to every small response on a pre-bound socket (measured: 44 ms vs 1.4 ms).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
