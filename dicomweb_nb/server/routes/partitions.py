"""``GET ../partitions``: the data partitions of the server (reference: PartitionController)."""

from __future__ import annotations

from http import HTTPStatus

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..context import archive_of
from ..errors import RequestError
from ..partitions import DISABLED


async def list_partitions(request: Request) -> Response:
    """Answer the list of partitions: 200 with ``partitionKey``, ``partitionName``, ``createdDate``.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        200 with a JSON array (``Microsoft.Default`` is always there), 204 when empty.

    Raises
    ------
    RequestError
        400 "Data partitions feature is disabled." when partitions are off.
    """
    if not request.app.state.partitions:
        raise RequestError(HTTPStatus.BAD_REQUEST, DISABLED)
    rows = await run_in_threadpool(archive_of(request).index.partitions)
    if not rows:
        return Response(status_code=HTTPStatus.NO_CONTENT)
    return JSONResponse(
        [{"partitionKey": key, "partitionName": name, "createdDate": at} for key, name, at in rows]
    )
