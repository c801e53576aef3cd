"""STOW-RS handler: ``POST ../studies[/{study}]``."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...protocol.status import ALREADY_EXISTS, BEING_CREATED, PROCESSING_FAILURE
from ..context import archive_of, base_url, dicom_json, path_uids, require_dicom_json, version_of
from ..errors import RequestError
from ..partitions import partition_of
from ..store import Outcome, Pending
from ..stow_body import BodyReceiver, ReceivedPart, UnwrittenPart, check_content_type
from ..stow_response import build_response

# How many staged instances share one commit (one directory sync and one log sync each).
GROUP_COMMIT = 32
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
    outcomes: list[Outcome] = []  # one per part, in order; staged ones are settled by flush
    pending: list[Pending] = []
    # The part being validated and written in a worker thread while the next one is received:
    # at most one, so outcomes keep the request's order and memory stays bounded.
    staging: asyncio.Task[None] | None = None

    async def flush() -> None:
        # Group commit: the staged instances become durable and indexed together.
        if pending:
            group = pending[:]
            pending.clear()
            await run_in_threadpool(archive.commit, group)

    async def settle() -> None:
        nonlocal staging
        if staging is not None:
            task, staging = staging, None
            await task

    async def stage(part: bytes | Path) -> None:
        staged = await run_in_threadpool(
            archive.stage, part, study_in_path=study, version=version, partition=partition
        )
        if isinstance(staged, Outcome):
            outcomes.append(_same_request_duplicate(staged, outcomes, pending))
            return
        outcomes.append(staged.outcome)
        pending.append(staged)
        if len(pending) >= GROUP_COMMIT:
            await flush()

    async def take(part: ReceivedPart, last: bool) -> None:
        nonlocal staging
        await settle()
        if isinstance(part, UnwrittenPart):
            # Its own outcome, like any other failed instance: the parts before it stay stored
            # and are reported, so a retry sends only what failed.
            outcomes.append(Outcome(False, reason=PROCESSING_FAILURE, message=part.message))
        elif last and not outcomes and not pending:
            # The only instance of the request: staged and committed in one worker trip.
            outcomes.append(
                await run_in_threadpool(
                    archive.ingest, part, study_in_path=study, version=version, partition=partition
                )
            )
        else:
            staging = asyncio.ensure_future(stage(part))

    receiver = BodyReceiver(boundary if multipart else None, archive.temp_file)
    try:
        try:
            async for chunk in request.stream():
                parts = await receiver.feed(chunk)
                for n, part in enumerate(parts):
                    await take(part, last=receiver.ended and n == len(parts) - 1)
            for part in await receiver.finish():
                await take(part, last=True)
        except RequestError as exc:
            await settle()
            await flush()
            message = _with_progress(str(exc), outcomes)
            raise RequestError(exc.status, message, exc.headers) from exc
        finally:
            receiver.close()
    finally:
        # Whatever happened to the body, what was staged is committed (or released).
        await settle()
        await flush()
    status, body = build_response(
        outcomes, base_url=base_url(request), study_in_path=study, version=version
    )
    headers = {}
    if any(o.multi_valued for o in outcomes):
        headers["Warning"] = MULTI_VALUE_WARNING.format(host=request.url.netloc)
    if status == HTTPStatus.NO_CONTENT:
        return Response(status_code=status, headers=headers)
    return dicom_json(body, status, headers)


def _same_request_duplicate(
    outcome: Outcome, earlier: list[Outcome], pending: list[Pending]
) -> Outcome:
    # The same instance twice in one request: the first is staged (reserved by this request, not
    # yet committed), so the second meets a reservation (45071). As far as the client can tell
    # the first is stored, and the reference answers 45070 for the second.
    if outcome.reason != BEING_CREATED:
        return outcome
    staged = {id(p.outcome) for p in pending}
    uids = (outcome.study_uid, outcome.series_uid, outcome.sop_instance_uid)
    for other in earlier:
        if (other.stored or id(other) in staged) and uids == (
            other.study_uid,
            other.series_uid,
            other.sop_instance_uid,
        ):
            outcome.reason = ALREADY_EXISTS
            outcome.message = "the same study, series and SOP instance UIDs are already stored"
    return outcome


def _with_progress(message: str, outcomes: list[Outcome]) -> str:
    stored = sum(o.stored for o in outcomes)
    if stored:
        return f"{message} ({stored} instance(s) before the error were stored.)"
    return message
