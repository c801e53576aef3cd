"""The Starlette application: which handler answers which path, the token gate, the error path.

Only wiring lives here; the handlers are in :mod:`.routes`, one module per transaction. Routes are
served under ``/v1.0-prerelease``, ``/v1`` and ``/v2``; errors are plain text as the reference
server sends them (:mod:`.errors`).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .context import SUPPORTED_VERSIONS_HEADER, VERSIONS
from .errors import RequestError, answer_request_error, answer_unexpected, plain_error
from .routes import wado
from .routes.changefeed import changefeed, changefeed_latest
from .routes.delete import delete
from .routes.health import health
from .routes.landing import landing
from .routes.qido import search_handler
from .routes.stow import store
from .store import Archive


def _routes() -> list[BaseRoute]:
    S, SE, IN = "/studies/{study}", "/series/{series}", "/instances/{instance}"
    table: list[tuple[str, Callable[..., Any], str]] = [
        ("/studies", store, "POST"),
        (S, store, "POST"),
        ("/studies", search_handler("study"), "GET"),
        ("/series", search_handler("series"), "GET"),
        ("/instances", search_handler("instance"), "GET"),
        (S + "/series", search_handler("series"), "GET"),
        (S + "/instances", search_handler("instance"), "GET"),
        (S + SE + "/instances", search_handler("instance"), "GET"),
        (S, wado.retrieve, "GET"),
        (S + SE, wado.retrieve, "GET"),
        (S + SE + IN, wado.retrieve, "GET"),
        (S + "/metadata", wado.metadata, "GET"),
        (S + SE + "/metadata", wado.metadata, "GET"),
        (S + SE + IN + "/metadata", wado.metadata, "GET"),
        (S + SE + IN + "/frames/{frames}", wado.frames, "GET"),
        (S + SE + IN + "/rendered", wado.rendered, "GET"),
        (S + SE + IN + "/frames/{frames}/rendered", wado.rendered, "GET"),
        (S, delete, "DELETE"),
        (S + SE, delete, "DELETE"),
        (S + SE + IN, delete, "DELETE"),
        ("/changefeed", changefeed, "GET"),
        ("/changefeed/latest", changefeed_latest, "GET"),
    ]
    routes: list[BaseRoute] = [Route("/health/check", health, methods=["GET"])]
    routes.append(Route("/", landing, methods=["GET"]))  # what this is and how to connect
    for version in VERSIONS:
        for path, endpoint, method in table:
            routes.append(Route(f"/v{version}{path}", endpoint, methods=[method], name=None))
    return routes


class _Gate:
    """ASGI middleware: version tagging, ``api-supported-versions``, and the bearer-token check."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        scope["dicomweb_version"] = next(
            (v for v in VERSIONS if path.startswith(f"/v{v}/")), VERSIONS[-1]
        )
        if self.token is not None and path != "/health/check":
            headers = dict(scope["headers"])
            given = headers.get(b"authorization", b"").decode("latin-1")
            expected = f"Bearer {self.token}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
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

        await self.app(scope, receive, tagged_send)


def create_app(data_dir: str | Path, *, token: str | None = None) -> ASGIApp:
    """Create the DICOMweb ASGI application over a data folder.

    Parameters
    ----------
    data_dir : str or Path
        Where instances and the index are kept (created when missing).
    token : str, optional
        When given, every request but ``/health/check`` needs ``Authorization: Bearer <token>``.

    Returns
    -------
    ASGIApp
        The application, ready for uvicorn.
    """
    app = Starlette(
        routes=_routes(),
        exception_handlers={RequestError: answer_request_error, Exception: answer_unexpected},
    )
    app.state.archive = Archive(data_dir)
    return _Gate(app, token)
