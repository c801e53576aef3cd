"""WADO-RS routes: study/series/instance retrieve, metadata, frames and rendered images."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import partial
from http import HTTPStatus
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ...protocol.media import DICOM_JSON, accepts_dicom_json
from ...protocol.multipart import (
    BodyPart,
    iter_message,
    message_length,
    new_boundary,
    related_content_type,
)
from .. import rendering, transcode
from ..context import archive_of, path_uids
from ..errors import RequestError
from ..index import InstanceRecord
from ..negotiation import Choice, Kind, choose, choose_rendered
from ..transcode import MAX_TRANSCODE_BYTES

CHUNK = 1 << 20


def _records(request: Request) -> list[InstanceRecord]:
    uids = path_uids(request)
    records = archive_of(request).index.instances(
        uids["study"], uids.get("series"), uids.get("instance")
    )
    if not records:
        what = "instance" if "instance" in uids else "series" if "series" in uids else "study"
        raise RequestError(HTTPStatus.NOT_FOUND, f"The requested {what} was not found.")
    return records


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _check_transcodable(records: list[InstanceRecord], target: str) -> None:
    for r in records:
        if target in ("*", r.transfer_syntax):
            continue
        if r.size > MAX_TRANSCODE_BYTES:
            raise RequestError(
                HTTPStatus.NOT_ACCEPTABLE,
                f"Instance {r.sop_uid} is {r.size} bytes; transcoding is limited to 100 MB. "
                "Ask for transfer-syntax=* to receive it as stored.",
            )


def _part_type(choice: Choice, transfer_syntax: str) -> str:
    return f"{choice.part_type}; transfer-syntax={transfer_syntax}"


def _transcoded_parts(
    request: Request, records: list[InstanceRecord], choice: Choice
) -> Iterator[BodyPart]:
    # Made one at a time as the body is sent: one transcoded instance in memory at most.
    archive = archive_of(request)
    for r in records:
        path = archive.path_of(r)
        data, ts = transcode.instance_bytes(path, choice.transfer_syntax)
        if data is None:
            yield BodyPart(_part_type(choice, ts), r.size, partial(_file_chunks, path))
        else:
            yield BodyPart(_part_type(choice, ts), len(data), partial(iter, (data,)))


def retrieve(request: Request) -> Response:
    """Answer a study, series or instance retrieve (``GET ../studies/{study}[/series/…]``).

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        Multipart ``application/dicom`` parts, or one ``application/dicom`` body for an instance.
    """
    kind: Kind = "instance" if "instance" in request.path_params else "bulk"
    choice = choose(request.headers.get("accept"), kind)
    records = _records(request)
    _check_transcodable(records, choice.transfer_syntax)
    if not choice.multipart or len(records) == 1:
        # Transcode up front so an impossible conversion is a 406, not a broken stream.
        first = archive_of(request).path_of(records[0])
        data, ts = transcode.instance_bytes(first, choice.transfer_syntax)
    if not choice.multipart:
        headers = {"Content-Type": f"application/dicom; transfer-syntax={ts}"}
        if data is not None:
            return Response(data, headers=headers)
        headers["Content-Length"] = str(records[0].size)
        return StreamingResponse(_file_chunks(first), headers=headers)
    parts: Iterable[BodyPart]
    if len(records) == 1:
        size = len(data) if data is not None else records[0].size
        body = partial(iter, (data,)) if data is not None else partial(_file_chunks, first)
        parts = [BodyPart(_part_type(choice, ts), size, body)]
    elif all(choice.transfer_syntax in ("*", r.transfer_syntax) for r in records):
        # Every part as stored: sizes known, so the answer has a Content-Length.
        archive = archive_of(request)
        parts = [
            BodyPart(
                _part_type(choice, r.transfer_syntax),
                r.size,
                partial(_file_chunks, archive.path_of(r)),
            )
            for r in records
        ]
    else:
        parts = _transcoded_parts(request, records, choice)
    return _multipart(parts)


def _multipart(parts: Iterable[BodyPart]) -> StreamingResponse:
    boundary = new_boundary()
    # The reference answers without a type parameter; each part names its own type.
    headers = {"Content-Type": related_content_type(boundary)}
    length = message_length(parts, boundary) if isinstance(parts, list) else None
    if length is not None:
        headers["Content-Length"] = str(length)
    return StreamingResponse(iter_message(parts, boundary), headers=headers)


async def metadata(request: Request) -> Response:
    """Answer ``GET …/metadata`` with the DICOM JSON kept at store time, honouring If-None-Match.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        200 with a JSON array and an ETag, 304 when the ETag matches, 404 when not found.
    """
    if not accepts_dicom_json(request.headers.get("accept")):
        raise RequestError(
            HTTPStatus.NOT_ACCEPTABLE,
            "Metadata is served as application/dicom+json; send that Accept.",
        )
    uids = path_uids(request)
    index = archive_of(request).index
    texts, etag = await run_in_threadpool(
        index.metadata, uids["study"], uids.get("series"), uids.get("instance")
    )
    if not texts:
        raise RequestError(
            HTTPStatus.NOT_FOUND, "The requested study, series or instance was not found."
        )
    inm = request.headers.get("if-none-match")
    if inm is not None and etag in (t.strip().strip('"') for t in inm.split(",")):
        return Response(status_code=304, headers={"ETag": etag})
    body = ("[" + ",".join(texts) + "]").encode()
    return Response(body, media_type=DICOM_JSON, headers={"ETag": etag})


def _frame_numbers(raw: str) -> list[int]:
    numbers = []
    for piece in raw.replace("%2C", ",").replace("%2c", ",").split(","):
        try:
            n = int(piece.strip())
        except ValueError:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"'{piece}' is not a frame number."
            ) from None
        if n < 1:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"Frame numbers start at 1; got {n}.")
        numbers.append(n)
    return numbers


def frames(request: Request) -> Response:
    """Answer ``GET …/frames/{frames}`` with the frames' pixel data.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        Multipart octet-stream (or image/jp2) parts, or one octet-stream body.
    """
    numbers = _frame_numbers(request.path_params["frames"])
    choice = choose(request.headers.get("accept"), "frames", len(numbers))
    record = _records(request)[0]
    path = archive_of(request).path_of(record)
    if choice.transfer_syntax not in ("*", record.transfer_syntax) and (
        os.path.getsize(path) > MAX_TRANSCODE_BYTES
    ):
        raise RequestError(
            HTTPStatus.NOT_ACCEPTABLE,
            "Transcoding is limited to 100 MB files; ask for transfer-syntax=*.",
        )
    data, ts = transcode.frames(path, numbers, choice.transfer_syntax)
    if not choice.multipart:
        return Response(
            data[0], headers={"Content-Type": f"{choice.part_type}; transfer-syntax={ts}"}
        )
    parts = [BodyPart(_part_type(choice, ts), len(d), partial(iter, (d,))) for d in data]
    return _multipart(parts)


def rendered(request: Request) -> Response:
    """Answer ``GET …/rendered`` (instance: its first frame) as image/jpeg or image/png.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        The image.
    """
    media_type = choose_rendered(request.headers.get("accept"))
    raw_quality = request.query_params.get("quality", "100")
    try:
        quality = int(raw_quality)
    except ValueError:
        quality = 0
    if not 1 <= quality <= 100:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            f"quality must be an integer from 1 to 100, got '{raw_quality}'.",
        )
    frame = 1
    if "frames" in request.path_params:
        numbers = _frame_numbers(request.path_params["frames"])
        if len(numbers) != 1:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, "A rendered frame request names exactly one frame."
            )
        frame = numbers[0]
    record = _records(request)[0]
    image = rendering.render(archive_of(request).path_of(record), frame, media_type, quality)
    return Response(image, media_type=media_type)
