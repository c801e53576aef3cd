"""Small helpers shared by the route modules: plain-text errors, versions, path UIDs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from .qido import is_valid_uid
from .store import Archive

VERSIONS = ("1.0-prerelease", "1", "2")
SUPPORTED_VERSIONS_HEADER = ", ".join(VERSIONS)


class HTTPProblem(Exception):
    """Answer the request with ``status`` and a plain-text message (the reference's error form)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def error(status: int, message: str) -> PlainTextResponse:
    """Build a plain-text error response.

    Parameters
    ----------
    status : int
        The HTTP status.
    message : str
        What went wrong, for a person to read.

    Returns
    -------
    PlainTextResponse
        The response.
    """
    return PlainTextResponse(message, status_code=status)


def version_of(request: Request) -> str:
    """Return the API version of a request's route (``"1.0-prerelease"``, ``"1"`` or ``"2"``).

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    str
        The version.
    """
    version: str = request.scope["dicomweb_version"]
    return version


def base_url(request: Request) -> str:
    """Return the versioned base URL of a request, e.g. ``http://127.0.0.1:8080/v1``.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    str
        The URL without a trailing slash.
    """
    return f"{str(request.base_url).rstrip('/')}/v{version_of(request)}"


def archive_of(request: Request) -> Archive:
    """Return the archive the app serves.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Archive
        The archive.
    """
    archive: Archive = request.app.state.archive
    return archive


def path_uids(request: Request) -> dict[str, str]:
    """Return the UIDs of the route (``study``, ``series``, ``instance``), checking each.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    dict
        The UIDs present in the path.

    Raises
    ------
    HTTPProblem
        400 for a UID that is not digits and dots, at most 64 characters.
    """
    uids = {k: v for k, v in request.path_params.items() if k in ("study", "series", "instance")}
    for key, value in uids.items():
        if not is_valid_uid(value):
            raise HTTPProblem(400, f"The {key} UID '{value}' in the path is not a valid UID.")
    return uids
