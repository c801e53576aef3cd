"""The Starlette application: which handler answers which path, the gate, the error path.

Only wiring lives here; the handlers are in :mod:`.routes`, one module per transaction, and what
every request passes through first (token, body size and pace) in :mod:`.gate`. Routes are served
under ``/v1.0-prerelease``, ``/v1`` and ``/v2``; errors are plain text as the reference server
sends them (:mod:`.errors`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.convertors import register_url_convertor
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from .context import VERSIONS
from .cors import parse_origins, with_cors
from .errors import RequestError, answer_request_error, answer_unexpected
from .gate import BODY_TIMEOUT, DEFAULT_MAX_BODY, HEALTH_PATH, Gate
from .partitions import check_folder
from .rendering import RenderCache
from .routes import wado
from .routes.changefeed import changefeed, changefeed_latest
from .routes.delete import delete
from .routes.health import health
from .routes.landing import landing
from .routes.methods import OperationConvertor, OtherMethods, UnsupportedOperation
from .routes.partitions import list_partitions
from .routes.qido import search_handler
from .routes.stow import store
from .store import Archive

register_url_convertor("operation", OperationConvertor())


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
        (S + SE + IN + "/bulkdata/{path:path}", wado.bulk_data, "GET"),
        (S, delete, "DELETE"),
        (S + SE, delete, "DELETE"),
        (S + SE + IN, delete, "DELETE"),
    ]
    # Outside partitions, as in the reference: the change feed and the list of partitions.
    base: list[tuple[str, Callable[..., Any], str]] = [
        ("/changefeed", changefeed, "GET"),
        ("/changefeed/latest", changefeed_latest, "GET"),
        ("/partitions", list_partitions, "GET"),
    ]
    routes: list[BaseRoute] = [Route(HEALTH_PATH, health, methods=["GET"])]
    methods: dict[str, list[str]] = {HEALTH_PATH: ["GET"]}
    routes.append(Route("/", landing, methods=["GET"]))  # what this is and how to connect
    for version in VERSIONS:
        # Every DICOMweb route also under a partition; context.partition_of decides which of the
        # two forms a request may use.
        for prefix in ("", "/partitions/{partition}"):
            root = f"/v{version}{prefix}"
            # Before "/studies/{study}": a $-segment names an operation, not a study UID.
            routes.append(Route(f"{root}/studies/{{operation:operation}}", UnsupportedOperation()))
            for path, endpoint, method in table:
                routes.append(Route(root + path, endpoint, methods=[method]))
                methods.setdefault(root + path, []).append(method)
        for path, endpoint, method in base:
            routes.append(Route(f"/v{version}{path}", endpoint, methods=[method]))
            methods.setdefault(f"/v{version}{path}", []).append(method)
    # After every route: what none of a path's routes took (OPTIONS, other methods) is answered
    # with all of that path's methods, not just those of the first route that matched it.
    routes += [Route(path, OtherMethods(served)) for path, served in methods.items()]
    return routes


def create_app(
    data_dir: str | Path,
    *,
    token: str | None = None,
    max_body: int | None = DEFAULT_MAX_BODY,
    body_timeout: float = BODY_TIMEOUT,
    partitions: bool = False,
    cors: str | Iterable[str] | None = None,
    bulkdata_uris: bool = False,
) -> ASGIApp:
    """Create the DICOMweb ASGI application over a data folder.

    Parameters
    ----------
    data_dir : str or Path
        Where instances and the index are kept (created when missing, owner-only).
    token : str, optional
        When given, every request but ``/health/check`` needs ``Authorization: Bearer <token>``
        (the scheme in any case).
    max_body : int or None
        The largest request body in bytes, refused with 413 beyond (default 4 GiB); None for no
        limit.
    body_timeout : float
        Seconds a request body may pause before the request is answered 408.
    partitions : bool
        Serve data partitions (``/v1/partitions/{name}/…``) as the reference does with
        ``EnableDataPartitions``; off, a folder that holds partitions is refused.
    cors : str or iterable of str, optional
        Origins browser pages may call the server from (``"*"`` for any), comma-separated or
        as a list; None (the default) for no CORS. Preflights need no token (:mod:`.cors`).
    bulkdata_uris : bool
        Give metadata a ``BulkDataURI`` for each binary value it leaves out (:mod:`.bulkdata`);
        off by default, as the reference gives none. The bulk data route is served either way.

    Returns
    -------
    ASGIApp
        The application, ready for uvicorn.
    """
    app = Starlette(
        routes=_routes(),
        exception_handlers={RequestError: answer_request_error, Exception: answer_unexpected},
    )
    origins = parse_origins(cors)  # a bad origin fails here, before the folder is opened
    app.state.archive = Archive(data_dir)
    check_folder(app.state.archive.index, partitions)
    app.state.partitions = partitions
    app.state.partition_keys = {}
    app.state.render_cache = RenderCache()
    app.state.bulkdata_uris = bulkdata_uris
    return with_cors(Gate(app, token, max_body, body_timeout), origins)
