"""QIDO-RS handlers: ``../studies``, ``../series``, ``../instances`` and their nested forms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..attributes import Level
from ..context import archive_of, dicom_json, path_uids, require_dicom_json, version_of
from ..partitions import partition_of
from ..query import parse_query
from ..query_sql import search


def search_handler(level: Level) -> Callable[[Request], Awaitable[Response]]:
    """Return the handler of the search routes of one level.

    Parameters
    ----------
    level : {"study", "series", "instance"}
        What the route searches for.

    Returns
    -------
    callable
        An async Starlette endpoint: 200 with a JSON array, 204 when nothing matches.
    """

    async def handler(request: Request) -> Response:
        require_dicom_json(request)
        uids = path_uids(request)
        partition = partition_of(request)
        query = parse_query(
            level, list(request.query_params.multi_items()), path=uids, version=version_of(request)
        )
        db = archive_of(request).index
        results = await run_in_threadpool(lambda: search(db.connection(), query, uids, partition))
        if not results:
            return Response(status_code=204)
        return dicom_json(results)

    return handler
