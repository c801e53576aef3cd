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
        ├── NotAcceptable                    406
        ├── Conflict                         409 (STOW reports it as a result unless asked)
        └── UnsupportedMediaType             415

    DicomWebWarning (a UserWarning)          a tolerated deviation, e.g. TLS verification turned off

``requests`` exceptions are never part of the API: they are chained as ``__cause__``.
"""

from __future__ import annotations


class DicomWebError(Exception):
    """Base class of every error this package raises."""


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


class Unauthorized(HTTPStatusError):
    """401 or 403: missing, wrong or expired credentials."""


class NotFound(HTTPStatusError, LookupError):
    """404: the study, series, instance or frame does not exist."""


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
