"""The server's one error path: :class:`RequestError` and the two handlers that answer errors.

Any module may raise ``RequestError(status, message)``; :func:`answer_request_error` turns it into
the reference's plain-text error. Anything else that escapes a handler is a bug:
:func:`answer_unexpected` logs it with a request id and answers 500 with only that id, so no
exception text, class name or file path reaches a client.
"""

from __future__ import annotations

import logging
import secrets
from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

log = logging.getLogger("dicomweb_nb.server")


class RequestError(Exception):
    """Answer the request with ``status`` and a plain-text message (the reference's error form).

    Parameters
    ----------
    status : int
        The HTTP status (``http.HTTPStatus`` members read best at the raise site).
    message : str
        What went wrong, for a person to read: which attribute, which value, what to do.
    headers : dict, optional
        Response headers the answer needs (e.g. ``Connection: close`` after a refused body).
    """

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = int(status)
        self.headers = dict(headers or {})


def plain_error(
    status: int, message: str, headers: dict[str, str] | None = None
) -> PlainTextResponse:
    """Build a plain-text error response.

    Parameters
    ----------
    status : int
        The HTTP status.
    message : str
        What went wrong, for a person to read.
    headers : dict, optional
        More response headers.

    Returns
    -------
    PlainTextResponse
        The response.
    """
    return PlainTextResponse(message, status_code=status, headers=headers)


async def answer_request_error(_request: Request, exc: Exception) -> Response:
    """Starlette exception handler for :class:`RequestError`.

    Parameters
    ----------
    _request : Request
        The request (unused: the error says everything).
    exc : Exception
        The RequestError.

    Returns
    -------
    Response
        Its status and message as plain text.
    """
    assert isinstance(exc, RequestError)
    return plain_error(exc.status, str(exc), exc.headers)


async def answer_unexpected(request: Request, exc: Exception) -> Response:
    """Starlette exception handler for everything else: log it, answer 500 with a request id.

    Parameters
    ----------
    request : Request
        The request.
    exc : Exception
        The unexpected error.

    Returns
    -------
    Response
        500 with a message that names only the request id to look up in the server log.
    """
    request_id = secrets.token_hex(6)
    log.error(
        "request %s: unexpected error on %s %s",
        request_id,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    return plain_error(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        f"The server could not complete the request (request id {request_id}; "
        "the server's log has the details).",
    )
