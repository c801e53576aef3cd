"""Errors raised by :class:`~dicomweb_nb.client.api.DicomWebClient`.

The tree::

    DicomWebError
    ├── InvalidInput (also ValueError)       bad arguments or files, found before any request
    ├── ConnectionFailed                     the server could not be reached
    │   └── Timeout                          it did not answer in time
    ├── ProtocolError                        a reply that breaks PS3.18 (e.g. a cut multipart)
    └── HTTPStatusError                      an error status; .status_code, .url, .detail
        ├── Unauthorized                     401/403
        ├── NotFound (also LookupError)      404
        │   └── PartitionNotFound            400 "Specified PartitionName does not exist."
        ├── NotAcceptable                    406
        ├── Conflict                         409 (STOW reports it as a result unless asked)
        └── UnsupportedMediaType             415

    DicomWebWarning (a UserWarning)          a tolerated deviation, e.g. TLS verification turned off

``requests`` exceptions are never part of the API: they are chained as ``__cause__``.

In Jupyter each of them shows as one line saying what failed and what to do (IPython's
``_render_traceback_``); ``%tb`` right after shows the whole chained traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

#: How long the one line shown in Jupyter may get before it is cut (``str(exc)`` is whole).
ONE_LINE = 300


def one_line(kind: str, message: str, limit: int = ONE_LINE) -> str:
    """Return an error as the single line Jupyter shows: red kind, message, how to see more.

    Parameters
    ----------
    kind : str
        The error's class name.
    message : str
        What failed and what to do; newlines become spaces, and it is cut at ``limit``.
    limit : int
        The longest message kept.

    Returns
    -------
    str
        E.g. ``"ConnectionFailed: GET …: cannot connect … (%tb: full traceback)"``.
    """
    text = " ".join(message.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"\x1b[0;31m{kind}\x1b[0m: {text}  \x1b[2m(%tb: full traceback)\x1b[0m"


def full_traceback(exc: BaseException) -> list[str]:
    """Return IPython's usual traceback of an exception (what ``%tb`` shows).

    Parameters
    ----------
    exc : BaseException
        The exception.

    Returns
    -------
    list of str
        The structured traceback; a plain one outside IPython.
    """
    shell: Any = None
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # the client works without IPython
        pass
    if shell is not None:
        stb: list[str] = shell.InteractiveTB.structured_traceback(type(exc), exc, exc.__traceback__)
        return stb
    import traceback

    return traceback.format_exception(type(exc), exc, exc.__traceback__)


# In a notebook, a server message longer than this is cut before the hint (the full text is
# in .detail and in %tb).
SHORT_DETAIL = 120


class DicomWebError(Exception):
    """Base class of every error this package raises.

    In Jupyter it shows as one line; ``%tb`` in the next cell shows the full traceback.
    """

    _rendered = False

    def _render_traceback_(self) -> list[str]:
        # IPython calls this for the error's first display, and again for %tb: the first time
        # one line, the second the whole chained traceback.
        if self._rendered:
            return full_traceback(self)
        self._rendered = True
        return [one_line(type(self).__name__, str(self))]


class InvalidInput(DicomWebError, ValueError):
    """An argument or input file that cannot be used; nothing was sent."""


class ConnectionFailed(DicomWebError):
    """The server could not be reached (refused, DNS, TLS, reset)."""


class Timeout(ConnectionFailed):
    """The server did not answer within the timeout."""


class ProtocolError(DicomWebError):
    """The server's reply does not follow PS3.18."""


class HTTPStatusError(DicomWebError):
    """The server answered with an error status.

    Parameters
    ----------
    message : str
        What failed, where, and what to do.
    status_code : int
        The HTTP status.
    url : str
        The request URL.
    detail : str
        The server's own message (its response body, shortened).
    """

    def __init__(self, message: str, *, status_code: int, url: str, detail: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.url = url
        self.detail = detail

    def _render_traceback_(self) -> list[str]:
        # The server's message is cut, not the hint after it: the hint says what to do.
        if self._rendered or len(self.detail) <= SHORT_DETAIL:
            return super()._render_traceback_()
        self._rendered = True
        short = " ".join(self.detail.split())[:119] + "… (.detail has all of it)"
        return [one_line(type(self).__name__, str(self).replace(self.detail, short), 600)]


class Unauthorized(HTTPStatusError):
    """401 or 403: missing, wrong or expired credentials."""


class NotFound(HTTPStatusError, LookupError):
    """404: the study, series, instance or frame does not exist."""


class PartitionNotFound(NotFound):
    """The data partition named in the URL does not exist (the reference answers 400).

    A partition is created by the first store into it, so searching or deleting in a partition
    nobody stored into yet finds nothing: a NotFound, whatever the status code says.
    """


class NotAcceptable(HTTPStatusError):
    """406: the server cannot send what the Accept header asked for."""


class Conflict(HTTPStatusError):
    """409: nothing was stored (raised by STOW only when ``raise_on_conflict`` is set)."""


class UnsupportedMediaType(HTTPStatusError):
    """415: the server does not take the request's Content-Type."""


class DicomWebWarning(UserWarning):
    """A tolerated deviation from safe or standard behaviour."""


STATUS_ERRORS: dict[int, type[HTTPStatusError]] = {
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    406: NotAcceptable,
    409: Conflict,
    415: UnsupportedMediaType,
}

HINTS: dict[int, str] = {
    400: "the server rejected the request as malformed; check the parameters named in its message",
    401: "check the token or credentials (an expired token needs refreshing)",
    403: "the credentials are valid but lack permission for this resource",
    404: "check the UIDs; the resource may have been deleted",
    405: "the server does not support this transaction (e.g. Orthanc has no DICOMweb DELETE)",
    406: "ask for transfer_syntax='*' to receive data as stored",
    409: "the instances already exist or failed validation; see the failure reasons",
    413: "send fewer or smaller instances per request",
    415: "the server does not accept this Content-Type",
    429: "the server is throttling; retry later",
    503: "the server is busy or down; retry later",
}


def broken_off(where: str) -> ProtocolError:
    """Return the error for a response body that ended before what its framing promised.

    Parameters
    ----------
    where : str
        What was being read, to start the message (the method and URL, or the URL).

    Returns
    -------
    ProtocolError
        Saying so in one line, with what to do.
    """
    return ProtocolError(
        f"{where}: the answer broke off before its end (the server stopped sending); try again."
    )


@contextmanager
def reading_body(where: str) -> Iterator[None]:
    """Turn a response body that breaks off or stalls while it is read into this module's errors.

    ``requests`` raises its own exceptions while a body is read (``ChunkedEncodingError`` for a
    connection closed early, ``ConnectionError`` for a read timeout of a streamed body); they
    are chained as ``__cause__``, as everywhere in the client.

    Parameters
    ----------
    where : str
        What was being read, to start the message (the method and URL, or the URL).

    Yields
    ------
    None
        While the body is read.

    Raises
    ------
    ProtocolError
        The body ended before what its framing promised (a server stopped mid-answer).
    Timeout
        A streamed body stopped arriving for longer than the timeout.
    """
    try:
        yield
    except requests.exceptions.ChunkedEncodingError as exc:
        raise broken_off(where) from exc
    except requests.ConnectionError as exc:
        raise Timeout(
            f"{where}: the answer stopped arriving mid-way; the server may be busy, or raise "
            "timeout=."
        ) from exc
