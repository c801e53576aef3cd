"""What every request passes through: version tagging, the bearer token, the body's size and pace.

- The token: ``Authorization: Bearer <token>``; the scheme is case-insensitive (RFC 7235 2.1), so
  ``bearer`` works too. ``/health/check`` needs none, but only an authorised caller (or anyone,
  when no token is set) sees the archive's counts: the route reads ``scope["dicomweb_authorised"]``.
- The size: bodies over ``max_body`` bytes are refused with 413 in the reference's words
  ("The request exceeded the allowed limit of {0} bytes.", DicomCoreResource.resx
  RequestLengthLimitExceeded): at once when Content-Length says so, else as soon as the running
  count of a chunked body passes it.
- The pace: a body that stops arriving for ``body_timeout`` seconds is answered 408. Only waits
  for the request body count; a handler busy with earlier parts does not.

Both answers close the connection, so the client is not left sending the rest of a body.

- The Host: every URL an answer holds (STOW's RetrieveURL, metadata's BulkDataURI) is built from it.
  dicomweb-client for Python sends ``Host: <hostname>`` without the port on every request it does
  not stream, which would point those URLs at port 80. A Host that names the address the server
  is bound to (or a loopback name, on a loopback socket) without a port gets the socket's port.
"""

from __future__ import annotations

import asyncio
import hmac
from http import HTTPStatus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .context import SUPPORTED_VERSIONS_HEADER, VERSIONS
from .errors import RequestError, plain_error

# The reference's limit is 2 GB per request (docs/resources/v2-conformance-statement.md: "Requests
# are limited to 2GB"), so a client written for it never sends more. Twice that leaves room for an
# instance the reference refuses, which a local tool may still be asked to hold, and still bounds a
# chunked body that never ends.
DEFAULT_MAX_BODY = 4 * 1024**3
BODY_TIMEOUT = 60.0
HEALTH_PATH = "/health/check"


def too_large(limit: int) -> RequestError:
    """Return the 413 of a body over ``limit`` bytes, in the reference's words.

    Parameters
    ----------
    limit : int
        The limit in bytes.

    Returns
    -------
    RequestError
        413 "The request exceeded the allowed limit of {limit} bytes." (closes the connection).
    """
    return RequestError(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        f"The request exceeded the allowed limit of {limit} bytes.",
        headers={"Connection": "close"},
    )


_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
_LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "::1"})


def complete_host(scope: Scope) -> None:
    """Add the socket's port to a Host header that names this server without it (see the module).

    Parameters
    ----------
    scope : Scope
        The ASGI scope; its ``headers`` are replaced when the Host is completed.
    """
    server = scope.get("server")
    if not server or server[1] is None:
        return
    bound, port = str(server[0]), int(server[1])
    if port == (443 if scope.get("scheme") == "https" else 80):
        return
    headers = list(scope["headers"])
    for i, (key, value) in enumerate(headers):
        if key != b"host":
            continue
        name = value.decode("latin-1").strip().lower()
        if ":" in name.rpartition("]")[2]:
            return  # has its port
        if name.strip("[]") == bound or (name in _LOOPBACK_NAMES and bound in _LOOPBACK_ADDRESSES):
            headers[i] = (b"host", f"{name}:{port}".encode("latin-1"))
            scope["headers"] = headers
        return


def bearer_matches(header: bytes | None, token: str) -> bool:
    """Tell whether an Authorization header carries ``Bearer <token>`` (scheme in any case).

    Parameters
    ----------
    header : bytes or None
        The raw header value.
    token : str
        The expected token.

    Returns
    -------
    bool
        True when the scheme is ``bearer`` in any case and the credentials equal the token.
    """
    scheme, _, credentials = (header or b"").strip().partition(b" ")
    # compare_digest on both branches' bytes: the time taken does not tell how much matched.
    same = hmac.compare_digest(credentials.strip(), token.encode())
    return scheme.lower() == b"bearer" and same


class Gate:
    """ASGI middleware in front of the app; see the module description.

    Parameters
    ----------
    app : ASGIApp
        The Starlette application.
    token : str or None
        The bearer token every request but the health check needs; None for an open server.
    max_body : int or None
        The largest request body in bytes; None for no limit.
    body_timeout : float
        Seconds a request body may pause before the request is answered 408.
    """

    def __init__(
        self,
        app: ASGIApp,
        token: str | None,
        max_body: int | None = DEFAULT_MAX_BODY,
        body_timeout: float = BODY_TIMEOUT,
    ) -> None:
        self.app = app
        self.token = token
        self.max_body = max_body
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check a request, then pass it on with its body size and pace watched.

        Parameters
        ----------
        scope : Scope
            The ASGI scope.
        receive : Receive
            The ASGI receive callable.
        send : Send
            The ASGI send callable.
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        complete_host(scope)
        path: str = scope["path"]
        scope["dicomweb_version"] = next(
            (v for v in VERSIONS if path.startswith(f"/v{v}/")), VERSIONS[-1]
        )
        headers = dict(scope["headers"])
        authorised = self.token is None or bearer_matches(headers.get(b"authorization"), self.token)
        scope["dicomweb_authorised"] = authorised
        if not authorised and path != HEALTH_PATH:
            response = plain_error(
                HTTPStatus.UNAUTHORIZED,
                "A valid bearer token is required (Authorization: Bearer …).",
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="dicomweb-nb"'
            await response(scope, receive, send)
            return

        async def tagged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"api-supported-versions", SUPPORTED_VERSIONS_HEADER.encode()),
                ]
            await send(message)

        declared = headers.get(b"content-length", b"")
        if self.max_body is not None and declared.isdigit() and int(declared) > self.max_body:
            error = too_large(self.max_body)
            await plain_error(error.status, str(error), error.headers)(scope, receive, tagged_send)
            return
        await self.app(scope, self._guarded(receive), tagged_send)

    def _guarded(self, receive: Receive) -> Receive:
        received = 0
        body_done = False

        async def guarded_receive() -> Message:
            nonlocal received, body_done
            if body_done:
                # After the body only a disconnect can come; a streaming answer waits for it as
                # long as it runs, which is no pause of the client's.
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except asyncio.TimeoutError:
                raise RequestError(
                    HTTPStatus.REQUEST_TIMEOUT,
                    f"The request body stopped arriving for {self.body_timeout:g} seconds.",
                    headers={"Connection": "close"},
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if self.max_body is not None and received > self.max_body:
                    raise too_large(self.max_body)
            else:
                body_done = True
            return message

        return guarded_receive
