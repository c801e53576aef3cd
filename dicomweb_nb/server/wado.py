"""WADO-RS routes: study/series/instance retrieve, metadata, frames and rendered images."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from . import render
from .common import HTTPProblem, archive_of, path_uids
from .index import InstanceRecord
from .negotiation import (
    BadAccept,
    Choice,
    Kind,
    NotAcceptable,
    accepts_dicom_json,
    choose,
    choose_rendered,
)

CHUNK = 1 << 20
# The reference refuses to transcode files over 100 MB (406).
MAX_TRANSCODE_BYTES = 100 * 1024 * 1024


def _records(request: Request) -> list[InstanceRecord]:
    uids = path_uids(request)
    records = archive_of(request).index.instances(
        uids["study"], uids.get("series"), uids.get("instance")
    )
    if not records:
        what = "instance" if "instance" in uids else "series" if "series" in uids else "study"
        raise HTTPProblem(404, f"The requested {what} was not found.")
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
            raise NotAcceptable(
                f"Instance {r.sop_uid} is {r.size} bytes; transcoding is limited to 100 MB. "
                "Ask for transfer-syntax=* to receive it as stored."
            )


def _part_bodies(
    request: Request, records: list[InstanceRecord], choice: Choice
) -> Iterator[tuple[str, int | None, Iterator[bytes]]]:
    archive = archive_of(request)
    for r in records:
        path = archive.path_of(r)
        data, ts = render.instance_bytes(path, choice.transfer_syntax)
        if data is None:
            yield ts, r.size, _file_chunks(path)
        else:
            yield ts, len(data), iter((data,))


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
    try:
        choice = choose(request.headers.get("accept"), kind)
    except BadAccept as exc:
        raise HTTPProblem(400, str(exc)) from exc
    except NotAcceptable as exc:
        raise HTTPProblem(406, str(exc)) from exc
    records = _records(request)
    try:
        _check_transcodable(records, choice.transfer_syntax)
        if not choice.multipart or len(records) == 1:
            # Transcode up front so an impossible conversion is a 406, not a broken stream.
            first = archive_of(request).path_of(records[0])
            data, ts = render.instance_bytes(first, choice.transfer_syntax)
    except render.TranscodeError as exc:
        raise HTTPProblem(406, str(exc)) from exc
    except NotAcceptable as exc:
        raise HTTPProblem(406, str(exc)) from exc
    if not choice.multipart:
        headers = {"Content-Type": f"application/dicom; transfer-syntax={ts}"}
        if data is not None:
            return Response(data, headers=headers)
        headers["Content-Length"] = str(records[0].size)
        return StreamingResponse(_file_chunks(first), headers=headers)
    boundary = secrets.token_hex(16)
    if len(records) == 1:
        size = len(data) if data is not None else records[0].size
        body = iter((data,)) if data is not None else _file_chunks(first)
        parts: Iterator[tuple[str, int | None, Iterator[bytes]]] = iter([(ts, size, body)])
    else:
        parts = _part_bodies(request, records, choice)
    return _multipart(parts, boundary, choice.part_type, _length(records, choice, boundary))


def _length(records: list[InstanceRecord], choice: Choice, boundary: str) -> int | None:
    # A Content-Length is known when every part is served as stored.
    if any(choice.transfer_syntax not in ("*", r.transfer_syntax) for r in records):
        return None
    total = len(f"--{boundary}--\r\n")
    for r in records:
        total += len(_part_head(boundary, choice.part_type, r.transfer_syntax)) + r.size + 2
    return total


def _part_head(boundary: str, part_type: str, ts: str) -> bytes:
    return f"--{boundary}\r\nContent-Type: {part_type}; transfer-syntax={ts}\r\n\r\n".encode()


def _multipart(
    parts: Iterator[tuple[str, int | None, Iterator[bytes]]],
    boundary: str,
    part_type: str,
    length: int | None,
) -> StreamingResponse:
    def body() -> Iterator[bytes]:
        for ts, _, chunks in parts:
            yield _part_head(boundary, part_type, ts)
            yield from chunks
            yield b"\r\n"
        yield f"--{boundary}--\r\n".encode()

    # The reference answers without a type parameter; each part names its own type.
    headers = {"Content-Type": f"multipart/related; boundary={boundary}"}
    if length is not None:
        headers["Content-Length"] = str(length)
    return StreamingResponse(body(), headers=headers)


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
        raise HTTPProblem(406, "Metadata is served as application/dicom+json; send that Accept.")
    uids = path_uids(request)
    index = archive_of(request).index
    texts, etag = await run_in_threadpool(
        index.metadata, uids["study"], uids.get("series"), uids.get("instance")
    )
    if not texts:
        raise HTTPProblem(404, "The requested study, series or instance was not found.")
    inm = request.headers.get("if-none-match")
    if inm is not None and etag in (t.strip().strip('"') for t in inm.split(",")):
        return Response(status_code=304, headers={"ETag": etag})
    body = ("[" + ",".join(texts) + "]").encode()
    return Response(body, media_type="application/dicom+json", headers={"ETag": etag})


def _frame_numbers(raw: str) -> list[int]:
    numbers = []
    for piece in raw.replace("%2C", ",").replace("%2c", ",").split(","):
        try:
            n = int(piece.strip())
        except ValueError:
            raise HTTPProblem(400, f"'{piece}' is not a frame number.") from None
        if n < 1:
            raise HTTPProblem(400, f"Frame numbers start at 1; got {n}.")
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
    try:
        choice = choose(request.headers.get("accept"), "frames", len(numbers))
    except BadAccept as exc:
        raise HTTPProblem(400, str(exc)) from exc
    except NotAcceptable as exc:
        raise HTTPProblem(406, str(exc)) from exc
    record = _records(request)[0]
    path = archive_of(request).path_of(record)
    if choice.transfer_syntax not in ("*", record.transfer_syntax) and (
        os.path.getsize(path) > MAX_TRANSCODE_BYTES
    ):
        raise HTTPProblem(406, "Transcoding is limited to 100 MB files; ask for transfer-syntax=*.")
    try:
        data, ts = render.frames(path, numbers, choice.transfer_syntax)
    except render.FrameError as exc:
        raise HTTPProblem(404, str(exc)) from exc
    except render.TranscodeError as exc:
        raise HTTPProblem(406, str(exc)) from exc
    if not choice.multipart:
        return Response(
            data[0], headers={"Content-Type": f"{choice.part_type}; transfer-syntax={ts}"}
        )
    boundary = secrets.token_hex(16)
    parts = ((ts, len(d), iter((d,))) for d in data)
    return _multipart(parts, boundary, choice.part_type, None)


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
    try:
        media_type = choose_rendered(request.headers.get("accept"))
    except NotAcceptable as exc:
        raise HTTPProblem(406, str(exc)) from exc
    raw_quality = request.query_params.get("quality", "100")
    try:
        quality = int(raw_quality)
    except ValueError:
        quality = 0
    if not 1 <= quality <= 100:
        raise HTTPProblem(400, f"quality must be an integer from 1 to 100, got '{raw_quality}'.")
    frame = 1
    if "frames" in request.path_params:
        numbers = _frame_numbers(request.path_params["frames"])
        if len(numbers) != 1:
            raise HTTPProblem(400, "A rendered frame request names exactly one frame.")
        frame = numbers[0]
    record = _records(request)[0]
    try:
        image = render.render(archive_of(request).path_of(record), frame, media_type, quality)
    except render.FrameError as exc:
        raise HTTPProblem(404, str(exc)) from exc
    except render.TranscodeError as exc:
        raise HTTPProblem(406, str(exc)) from exc
    return Response(image, media_type=media_type)
