"""How uvicorn runs the app: one configuration for :class:`LocalServer` and ``dicomweb-nb serve``.

uvicorn times out idle keep-alive connections only after a response: a client that connects and
then sends its request head slowly, or never, held a connection (and a file descriptor) forever.
:class:`TimedH11Protocol` gives each request head :data:`HEADER_TIMEOUT` seconds from its first
byte (or from the connection), as Kestrel does (its ``RequestHeadersTimeout``, 30 s), and closes
the connection when the head has not arrived by then. Request bodies that stall are answered 408
by :mod:`.gate`. The head itself is bounded by h11 at :data:`MAX_HEAD_BYTES`.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 30.0
# Between requests on one connection. Long enough that a notebook's next call usually reuses it,
# short enough that idle connections do not pile up.
KEEP_ALIVE_TIMEOUT = 15
# Request line plus headers (h11's own default, made explicit): a frame list of 4,096 numbers fits.
MAX_HEAD_BYTES = 16 * 1024


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head."""

    header_timeout = HEADER_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the connection; its first request head is due within the timeout.

        Parameters
        ----------
        transport : asyncio.Transport
            The connection.
        """
        super().connection_made(transport)
        self._watch_head()

    def data_received(self, data: bytes) -> None:
        """Take bytes; a request head begun and not finished is due within the timeout.

        Parameters
        ----------
        data : bytes
            What arrived.
        """
        super().data_received(data)
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        """End the connection and its timer.

        Parameters
        ----------
        exc : Exception or None
            Why it ended, if not a close.
        """
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _waiting_for_head(self) -> bool:
        return self.conn.their_state is h11.IDLE and not self.transport.is_closing()

    def _watch_head(self) -> None:
        if not self._waiting_for_head():
            self._cancel_head_timer()
        elif self._head_timer is None and self.timeout_keep_alive_task is None:
            # After a response uvicorn's keep-alive timer covers the idle wait; this one starts
            # with the next request's first byte.
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_overdue)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_overdue(self) -> None:
        self._head_timer = None
        if self._waiting_for_head():
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
        With the h11 protocol above, the keep-alive timeout and the request-head bound.
    """
    return uvicorn.Config(
        app,
        http=TimedH11Protocol,
        # uvloop where it is installed (a dependency except on Windows): one-instance STOW
        # requests spent ~10 % less server CPU on it than on asyncio's own loop.
        loop="auto",
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
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
