"""``GET /health/check``: the reference's health route."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..context import archive_of


async def health(request: Request) -> Response:
    """Answer ``GET /health/check``.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        ``{"status": "Healthy"}``, with the archive's counts only for an authorised caller (any
        caller when the server has no token): the route needs no token, and how many studies an
        archive holds is not for anyone who can reach the port.
    """
    if not request.scope.get("dicomweb_authorised", False):
        return JSONResponse({"status": "Healthy"})
    counts = await run_in_threadpool(archive_of(request).index.counts)
    return JSONResponse({"status": "Healthy", **counts})
