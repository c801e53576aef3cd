"""The non-standard change feed: ``../changefeed`` and ``../changefeed/latest``."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..changefeed import latest_change, read_changes
from ..context import archive_of, version_of


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
    entries = await run_in_threadpool(
        lambda: read_changes(db.connection(), version_of(request), params)
    )
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
    entry = await run_in_threadpool(lambda: latest_change(db.connection(), params))
    return JSONResponse(entry)
