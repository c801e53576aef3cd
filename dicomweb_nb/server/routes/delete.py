"""The non-standard delete of a study, series or instance (``DELETE ../studies/{study}…``)."""

from __future__ import annotations

from http import HTTPStatus

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..context import archive_of, path_uids
from ..errors import RequestError
from ..partitions import partition_of


async def delete(request: Request) -> Response:
    """Answer a delete of a study, series or instance (204, or 404).

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        204 when something was deleted.

    Raises
    ------
    RequestError
        404 when nothing matched.
    """
    uids = path_uids(request)
    partition = partition_of(request)
    archive = archive_of(request)
    count = await run_in_threadpool(
        archive.delete, uids["study"], uids.get("series"), uids.get("instance"), partition
    )
    if not count:
        raise RequestError(
            HTTPStatus.NOT_FOUND,
            "Nothing to delete: the study, series or instance was not found.",
        )
    return Response(status_code=HTTPStatus.NO_CONTENT)
