"""The Starlette application: routes, STOW/QIDO/delete/change-feed handlers, the token gate.

Routes are served under ``/v1.0-prerelease``, ``/v1`` and ``/v2``; errors are plain text as the
reference server sends them.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import wado
from .changefeed import latest_change, read_changes
from .common import (
    SUPPORTED_VERSIONS_HEADER,
    VERSIONS,
    HTTPProblem,
    archive_of,
    base_url,
    error,
    path_uids,
    version_of,
)
from .negotiation import accepts_dicom_json
from .qido import QueryError, parse_query
from .search import search
from .store import Archive, Outcome
from .stow import PartReceiver, StowError, build_response, check_content_type, receive_single

log = logging.getLogger("dicomweb_nb.server")
DICOM_JSON = "application/dicom+json"
MULTI_VALUE_WARNING = (
    '299 {host}: "One or more indexed Dicom tag(s) have multiple values, '
    'only first value is indexed."'
)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type=DICOM_JSON, headers=headers)


def _require_dicom_json(request: Request) -> None:
    if not accepts_dicom_json(request.headers.get("accept")):
        raise HTTPProblem(
            406,
            f"The Accept header '{request.headers.get('accept', '')}' is not supported; "
            "this request answers application/dicom+json.",
        )


async def store(request: Request) -> Response:
    """Answer STOW-RS ``POST ../studies[/{study}]``.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        The reference's status and DICOM JSON body (see :func:`stow.build_response`).
    """
    _require_dicom_json(request)
    study = path_uids(request).get("study")
    try:
        multipart, boundary = check_content_type(request.headers.get("content-type"))
    except StowError as exc:
        raise HTTPProblem(exc.status, str(exc)) from exc
    archive = archive_of(request)
    version = version_of(request)
    outcomes: list[Outcome] = []

    async def ingest(path: Path) -> None:
        outcomes.append(
            await run_in_threadpool(archive.ingest, path, study_in_path=study, version=version)
        )

    if not multipart:
        await ingest(await receive_single(request.stream(), archive.temp_file))
    else:
        assert boundary is not None
        receiver = PartReceiver(boundary, archive.temp_file)
        try:
            async for chunk in request.stream():
                for path in receiver.write(chunk):
                    await ingest(path)
            if not receiver.ended and (receiver.parser.state.name not in ("START",)):
                raise StowError(400, "The multipart body ends before its closing boundary.")
        except StowError as exc:
            raise HTTPProblem(exc.status, _with_progress(str(exc), outcomes)) from exc
        finally:
            receiver.close()
    status, body = build_response(
        outcomes, base_url=base_url(request), study_in_path=study, version=version
    )
    headers = {}
    if any(o.multi_valued for o in outcomes):
        headers["Warning"] = MULTI_VALUE_WARNING.format(host=request.url.netloc)
    if status == 204:
        return Response(status_code=204, headers=headers)
    return _json(body, status, headers)


def _with_progress(message: str, outcomes: list[Outcome]) -> str:
    stored = sum(o.stored for o in outcomes)
    if stored:
        return f"{message} ({stored} instance(s) before the error were stored.)"
    return message


def _qido(level: str) -> Callable[[Request], Awaitable[Response]]:
    async def handler(request: Request) -> Response:
        _require_dicom_json(request)
        uids = path_uids(request)
        try:
            query = parse_query(
                level,  # type: ignore[arg-type]
                list(request.query_params.multi_items()),
                path=uids,
                version=version_of(request),
            )
        except QueryError as exc:
            raise HTTPProblem(400, str(exc)) from exc
        db = archive_of(request).index
        results = await run_in_threadpool(lambda: search(db.connection(), query, uids))
        if not results:
            return Response(status_code=204)
        return _json(results)

    return handler


async def delete(request: Request) -> Response:
    """Answer the non-standard ``DELETE`` of a study, series or instance (204, or 404).

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        204 when something was deleted.
    """
    uids = path_uids(request)
    archive = archive_of(request)
    count = await run_in_threadpool(
        archive.delete, uids["study"], uids.get("series"), uids.get("instance")
    )
    if not count:
        raise HTTPProblem(404, "Nothing to delete: the study, series or instance was not found.")
    return Response(status_code=204)


async def changefeed(request: Request) -> Response:
    """Answer ``GET ../changefeed`` (v1: offset/limit by sequence; v2: time window).

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        A JSON array of entries.
    """
    params = dict(request.query_params)
    db = archive_of(request).index
    try:
        entries = await run_in_threadpool(
            lambda: read_changes(db.connection(), version_of(request), params)
        )
    except QueryError as exc:
        raise HTTPProblem(400, str(exc)) from exc
    return JSONResponse(entries)


async def changefeed_latest(request: Request) -> Response:
    """Answer ``GET ../changefeed/latest`` with the newest entry (``null`` when empty).

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        One JSON object.
    """
    params = dict(request.query_params)
    db = archive_of(request).index
    try:
        entry = await run_in_threadpool(lambda: latest_change(db.connection(), params))
    except QueryError as exc:
        raise HTTPProblem(400, str(exc)) from exc
    return JSONResponse(entry)


async def health(request: Request) -> Response:
    """Answer ``GET /health/check``.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        ``{"status": "Healthy"}`` and the archive's counts.
    """
    counts = await run_in_threadpool(archive_of(request).index.counts)
    return JSONResponse({"status": "Healthy", **counts})


def _routes() -> list[BaseRoute]:
    S, SE, IN = "/studies/{study}", "/series/{series}", "/instances/{instance}"
    table: list[tuple[str, Callable[..., Any], str]] = [
        ("/studies", store, "POST"),
        (S, store, "POST"),
        ("/studies", _qido("study"), "GET"),
        ("/series", _qido("series"), "GET"),
        ("/instances", _qido("instance"), "GET"),
        (S + "/series", _qido("series"), "GET"),
        (S + "/instances", _qido("instance"), "GET"),
        (S + SE + "/instances", _qido("instance"), "GET"),
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
                response = error(401, "A valid bearer token is required (Authorization: Bearer …).")
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


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPProblem)
    return error(exc.status, str(exc))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error(500, f"The server could not complete the request: {type(exc).__name__}: {exc}")


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
        exception_handlers={HTTPProblem: _problem, Exception: _unexpected},
    )
    app.state.archive = Archive(data_dir)
    return _Gate(app, token)
