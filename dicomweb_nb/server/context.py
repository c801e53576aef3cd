"""What every route handler needs from its request: version, base URL, archive, path UIDs.

Also the two answers that several transactions share: the DICOM JSON body and the Accept gate.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..protocol.media import DICOM_JSON, accepts_dicom_json
from ..protocol.uids import is_valid_uid
from .errors import RequestError
from .store import Archive

VERSIONS = ("1.0-prerelease", "1", "2")
SUPPORTED_VERSIONS_HEADER = ", ".join(VERSIONS)


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
    """Return the versioned base URL of a request, with its partition when it names one.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    str
        E.g. ``http://127.0.0.1:8080/v1`` or ``…/v1/partitions/alice``, without a trailing slash.
    """
    partition = request.path_params.get("partition")
    scope = f"/partitions/{partition}" if partition is not None else ""
    return f"{str(request.base_url).rstrip('/')}/v{version_of(request)}{scope}"


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
    RequestError
        400 for a UID that is not digits and dots, at most 64 characters.
    """
    uids = {k: v for k, v in request.path_params.items() if k in ("study", "series", "instance")}
    for key, value in uids.items():
        if not is_valid_uid(value):
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"The {key} UID '{value}' in the path is not a valid UID."
            )
    return uids


def dicom_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Answer ``application/dicom+json`` (compact, UTF-8 as it is, not escaped).

    Parameters
    ----------
    data : Any
        The JSON value.
    status : int
        The HTTP status.
    headers : dict, optional
        More response headers.

    Returns
    -------
    Response
        The response.
    """
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type=DICOM_JSON, headers=headers)


def require_dicom_json(request: Request) -> None:
    """Refuse a request whose Accept does not allow ``application/dicom+json`` (406).

    Parameters
    ----------
    request : Request
        A STOW, QIDO or metadata request.

    Raises
    ------
    RequestError
        406, as the reference answers (also when there is no Accept header at all).
    """
    if not accepts_dicom_json(request.headers.get("accept")):
        raise RequestError(
            HTTPStatus.NOT_ACCEPTABLE,
            f"The Accept header '{request.headers.get('accept', '')}' is not supported; "
            "this request answers application/dicom+json.",
        )
