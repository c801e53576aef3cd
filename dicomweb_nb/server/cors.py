"""CORS for browser clients served from another origin (OHIF, dcmjs's dicomweb-client).

Off by default; on with ``dicomweb-nb serve --cors ORIGIN[,ORIGIN…]`` (or ``*``),
``LocalServer(cors=…)`` or ``create_app(cors=…)``. The reference has configurable CORS too
(docs/reference-server.md, CORS), applied before authentication; so is this: :func:`with_cors` wraps
the token gate, and a preflight (``OPTIONS`` with ``Origin`` and
``Access-Control-Request-Method``) is answered without a token, as browsers send it without one.

Starlette's :class:`~starlette.middleware.cors.CORSMiddleware` does the work: it checks origin,
method and headers, and adds the headers to every answer, the gate's 401 and 413 included, so a
page can read why it was refused. One thing differs: Starlette answers an accepted preflight 200
with the body ``OK``; :class:`NoContentPreflight` answers it 204 without a body, as ASP.NET Core's
CORS middleware in front of the reference does. Browsers take any 2xx; 204 says there is no body,
and it is one small override of Starlette's documented ``preflight_response`` hook (rejections
keep Starlette's 400, whose text names what was refused), not a CORS implementation of our own.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

ALLOWED_METHODS = ("GET", "POST", "DELETE", "OPTIONS")
# Beyond the CORS-safelisted ones (Accept, Content-Type with simple values): the token, and the
# metadata ETag's revalidation.
ALLOWED_HEADERS = ("Accept", "Content-Type", "Authorization", "If-None-Match")
# What a page may read of an answer: the metadata ETag, STOW's Warning (multi-valued attributes)
# and the types and lengths of retrieved parts.
EXPOSED_HEADERS = ("Content-Type", "Content-Length", "ETag", "Warning", "Location")
PREFLIGHT_MAX_AGE = 600
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origins(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Read the origins CORS allows: ``*``, or ``scheme://host[:port]`` items, comma-separated.

    Parameters
    ----------
    value : str, iterable of str, or None
        E.g. ``"http://localhost:3000,http://127.0.0.1:3000"``, ``["http://localhost:3000"]`` or
        ``"*"``; None or empty for no CORS.

    Returns
    -------
    tuple of str
        The origins as browsers write them in the ``Origin`` header (scheme and host in lower
        case, no default port, no trailing slash), or ``("*",)``; empty for none.

    Raises
    ------
    ValueError
        For an item that is not an origin (a path, a query, another scheme), or ``*`` with others.
    """
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    origins = [o.strip() for o in items if o.strip()]
    if "*" in origins:
        if len(origins) > 1:
            raise ValueError("CORS origin '*' allows every origin; give it alone.")
        return ("*",)
    return tuple(dict.fromkeys(_origin(o) for o in origins))


def _origin(text: str) -> str:
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (
        scheme not in _DEFAULT_PORTS
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or port == -1
    ):
        raise ValueError(
            f"'{text}' is not a CORS origin; write scheme://host[:port], e.g. "
            "http://localhost:3000, without a path."
        )
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6, as the Origin header writes it
    shown_port = "" if port in (None, _DEFAULT_PORTS[scheme]) else f":{port}"
    return f"{scheme}://{host}{shown_port}"


class NoContentPreflight(CORSMiddleware):
    """Starlette's CORS middleware, with accepted preflights answered 204 (see the module)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        """Answer a preflight: 204 and the CORS headers when accepted, else Starlette's 400.

        Parameters
        ----------
        request_headers : Headers
            The preflight's headers.

        Returns
        -------
        Response
            The answer.
        """
        response = super().preflight_response(request_headers)
        if response.status_code != 200:
            return response
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-type")
        }
        return Response(status_code=204, headers=headers)


def with_cors(app: ASGIApp, origins: tuple[str, ...]) -> ASGIApp:
    """Put CORS in front of ``app`` for ``origins``; without origins, return ``app`` unchanged.

    Parameters
    ----------
    app : ASGIApp
        The gated application.
    origins : tuple of str
        From :func:`parse_origins`.

    Returns
    -------
    ASGIApp
        The application, with CORS when origins are given.
    """
    if not origins:
        return app
    return NoContentPreflight(
        app,
        allow_origins=origins,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        # Credentialed requests (cookies, HTTP authentication) only for origins named one by
        # one: a wildcard that also allowed credentials would let any page use them.
        allow_credentials=origins != ("*",),
        expose_headers=EXPOSED_HEADERS,
        max_age=PREFLIGHT_MAX_AGE,
    )
