"""STOW-RS handler: ``POST ../studies[/{study}]``."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...protocol.status import PROCESSING_FAILURE
from ..context import archive_of, base_url, dicom_json, path_uids, require_dicom_json, version_of
from ..errors import RequestError
from ..partitions import partition_of
from ..store import Outcome
from ..stow_body import PartReceiver, UnwrittenPart, check_content_type, receive_single
from ..stow_response import build_response

MULTI_VALUE_WARNING = (
    '299 {host}: "One or more indexed Dicom tag(s) have multiple values, '
    'only first value is indexed."'
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
        The reference's status and DICOM JSON body (see :func:`..stow_response.build_response`).
    """
    require_dicom_json(request)
    study = path_uids(request).get("study")
    # A STOW creates its partition (the reference's GetOrAddPartition); other routes only find it.
    partition = partition_of(request, create=True)
    multipart, boundary = check_content_type(request.headers.get("content-type"))
    archive = archive_of(request)
    version = version_of(request)
    outcomes: list[Outcome] = []

    async def ingest(part: Path | UnwrittenPart) -> None:
        if isinstance(part, UnwrittenPart):
            # Its own outcome, like any other failed instance: the parts before it stay stored
            # and are reported, so a retry sends only what failed.
            outcomes.append(Outcome(False, reason=PROCESSING_FAILURE, message=part.message))
            return
        outcomes.append(
            await run_in_threadpool(
                archive.ingest, part, study_in_path=study, version=version, partition=partition
            )
        )

    if not multipart:
        await ingest(await receive_single(request.stream(), archive.temp_file))
    else:
        assert boundary is not None
        receiver = PartReceiver(boundary, archive.temp_file)
        try:
            async for chunk in request.stream():
                # Part files are written in a worker thread: disk writes never block the loop.
                for part in await run_in_threadpool(receiver.write, chunk):
                    await ingest(part)
            receiver.finish()
        except RequestError as exc:
            raise RequestError(exc.status, _with_progress(str(exc), outcomes), exc.headers) from exc
        finally:
            receiver.close()
    status, body = build_response(
        outcomes, base_url=base_url(request), study_in_path=study, version=version
    )
    headers = {}
    if any(o.multi_valued for o in outcomes):
        headers["Warning"] = MULTI_VALUE_WARNING.format(host=request.url.netloc)
    if status == HTTPStatus.NO_CONTENT:
        return Response(status_code=status, headers=headers)
    return dicom_json(body, status, headers)


def _with_progress(message: str, outcomes: list[Outcome]) -> str:
    stored = sum(o.stored for o in outcomes)
    if stored:
        return f"{message} ({stored} instance(s) before the error were stored.)"
    return message
