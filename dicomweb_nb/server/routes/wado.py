"""WADO-RS routes: study/series/instance retrieve, metadata, frames and rendered images.

A retrieve opens the files it sends before it answers. On POSIX an open file still reads after a
concurrent delete unlinks it, so the answer is the whole instance as it was found, or a 404 when the
delete came first: never a 200 cut off after its Content-Length, never a file path, never a 406
for a file that vanished. The handlers are plain functions, so Starlette runs them in its thread
pool, and the bodies are sync iterators, which its StreamingResponse also iterates there: disk
reads and codecs never block the event loop.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import partial
from http import HTTPStatus
from typing import BinaryIO

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ...protocol.media import DICOM_JSON, accepts_dicom_json, parse_accept
from ...protocol.multipart import (
    BodyPart,
    closing,
    iter_message,
    message_length,
    new_boundary,
    part_head,
    related_content_type,
)
from .. import bulkdata, rendering, transcode
from ..body_blocks import FileSpan, blocks
from ..context import archive_of, base_url, path_uids
from ..errors import RequestError
from ..frame_parts import frame_parts, parse_frame_list
from ..index import InstanceRecord
from ..negotiation import ELE, Choice, Kind, choose, choose_rendered
from ..partitions import partition_of
from ..store import Archive
from ..transcode import MAX_TRANSCODE_BYTES

CHUNK = 1 << 20
# A study or series retrieve opens this many files before it answers (and then sends a
# Content-Length); beyond, the rest are opened in turn and an instance deleted meanwhile is left
# out of the answer, as if the retrieve had come after the delete. Bounds descriptors per request.
OPEN_AHEAD = 64


def _records(request: Request) -> list[InstanceRecord]:
    uids = path_uids(request)
    records = archive_of(request).index.instances(
        uids["study"], uids.get("series"), uids.get("instance"), partition_of(request)
    )
    if not records:
        what = "instance" if "instance" in uids else "series" if "series" in uids else "study"
        raise RequestError(HTTPStatus.NOT_FOUND, f"The requested {what} was not found.")
    return records


def _open(archive: Archive, record: InstanceRecord) -> BinaryIO | None:
    try:
        return archive.open_file(record)
    except FileNotFoundError:
        return None  # deleted since the index said it was there


def _opened(request: Request) -> list[tuple[InstanceRecord, BinaryIO | None]]:
    """Look up the instances and open the first :data:`OPEN_AHEAD` files, leaving out vanished ones.

    When every file opened had been deleted since the lookup, the UIDs are looked up once more:
    they may have been stored again meanwhile. Then it is a 404.
    """
    archive = archive_of(request)
    for _ in range(2):
        records = _records(request)
        files = [_open(archive, r) for r in records[:OPEN_AHEAD]]
        opened: list[tuple[InstanceRecord, BinaryIO | None]] = [
            (r, f) for r, f in zip(records, files, strict=False) if f is not None
        ]
        opened += [(r, None) for r in records[OPEN_AHEAD:]]
        if opened:
            return opened
    raise RequestError(HTTPStatus.NOT_FOUND, "The requested resource was deleted meanwhile.")


def _size(fh: BinaryIO) -> int:
    return os.fstat(fh.fileno()).st_size


def _file_chunks(fh: BinaryIO) -> Iterator[bytes]:
    with fh:
        fh.seek(0)
        while chunk := fh.read(CHUNK):
            yield chunk


def _closing(
    body: Iterable[bytes | memoryview], files: list[BinaryIO | None]
) -> Iterator[bytes | memoryview]:
    # Whatever ends the body (the end, an error, a client gone), every file it held is closed.
    try:
        yield from body
    finally:
        for fh in files:
            if fh is not None:
                fh.close()


def _check_transcodable(records: Iterable[InstanceRecord], target: str) -> None:
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


def _instance_part(fh: BinaryIO, record: InstanceRecord, choice: Choice) -> BodyPart:
    if choice.transfer_syntax in ("*", record.transfer_syntax):
        # As stored: the index knows its syntax, no need to read the file's header.
        size = _size(fh)
        return BodyPart(_part_type(choice, record.transfer_syntax), size, partial(_file_chunks, fh))
    data, ts = transcode.instance_bytes(fh, choice.transfer_syntax)
    if data is None:
        return BodyPart(_part_type(choice, ts), _size(fh), partial(_file_chunks, fh))
    fh.close()
    return BodyPart(_part_type(choice, ts), len(data), partial(iter, (data,)))


def _parts_in_turn(
    archive: Archive, opened: list[tuple[InstanceRecord, BinaryIO | None]], choice: Choice
) -> Iterator[BodyPart]:
    # Made one at a time as the body is sent: one transcoded instance in memory at most.
    for record, fh in opened:
        fh = fh if fh is not None else _open(archive, record)
        if fh is not None:  # else deleted meanwhile: left out
            yield _instance_part(fh, record, choice)


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
    opened = _opened(request)
    files = [fh for _, fh in opened]
    try:
        _check_transcodable((r for r, _ in opened), choice.transfer_syntax)
        first_record, first = opened[0]
        if first is not None and (not choice.multipart or len(opened) == 1):
            # Transcode up front so an impossible conversion is a 406, not a broken stream.
            part = _instance_part(first, first_record, choice)
            if not choice.multipart:
                headers = {"Content-Type": part.content_type, "Content-Length": str(part.size)}
                return StreamingResponse(_closing(part.chunks(), files), headers=headers)
            if choice.transfer_syntax in ("*", first_record.transfer_syntax):
                return _multipart([part], files, [(part, first)])
            return _multipart([part], files)
        if None not in files and all(
            choice.transfer_syntax in ("*", r.transfer_syntax) for r, _ in opened
        ):
            # Every part as stored and open: sizes known, so the answer has a Content-Length,
            # and the files are read straight into the blocks sent.
            parts = [_instance_part(fh, r, choice) for r, fh in opened if fh is not None]
            stored = [(p, fh) for p, (_, fh) in zip(parts, opened, strict=True) if fh is not None]
            return _multipart(parts, files, stored)
    except BaseException:
        for fh in files:
            if fh is not None:
                fh.close()
        raise
    return _multipart(_parts_in_turn(archive_of(request), opened, choice), files)


def _multipart(
    parts: Iterable[BodyPart],
    files: list[BinaryIO | None],
    stored: list[tuple[BodyPart, BinaryIO]] | None = None,
) -> StreamingResponse:
    # ``stored``: the parts are these whole files, sent as stored (read straight into the blocks).
    boundary = new_boundary()
    # The reference answers without a type parameter; each part names its own type.
    headers = {"Content-Type": related_content_type(boundary)}
    length = message_length(parts, boundary) if isinstance(parts, list) else None
    if length is not None:
        headers["Content-Length"] = str(length)
    pieces = _stored_message(stored, boundary) if stored else iter_message(parts, boundary)
    return StreamingResponse(_closing(blocks(pieces), files), headers=headers)


def _stored_message(
    stored: list[tuple[BodyPart, BinaryIO]], boundary: str
) -> Iterator[bytes | FileSpan]:
    # iter_message's pieces, each file as a span to read into the block.
    for part, fh in stored:
        yield part_head(boundary, part.content_type)
        yield FileSpan(fh, part.size or 0)
        yield b"\r\n"
    yield closing(boundary)


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
    partition = partition_of(request)
    index = archive_of(request).index
    texts, etag = await run_in_threadpool(
        index.metadata, uids["study"], uids.get("series"), uids.get("instance"), partition
    )
    if not texts:
        raise RequestError(
            HTTPStatus.NOT_FOUND, "The requested study, series or instance was not found."
        )
    uris = request.app.state.bulkdata_uris
    if uris:
        etag += "-bulkdata"  # another shape of the same data: a cached copy must not stand in
    inm = request.headers.get("if-none-match")
    if inm is not None and etag in (t.strip().strip('"') for t in inm.split(",")):
        return Response(status_code=304, headers={"ETag": etag})
    if uris:
        records = await run_in_threadpool(
            index.instances, uids["study"], uids.get("series"), uids.get("instance")
        )
        archive = archive_of(request)
        texts = await run_in_threadpool(
            bulkdata.metadata_with_uris, archive, records, texts, base_url(request)
        )
    body = ("[" + ",".join(texts) + "]").encode()
    return Response(body, media_type=DICOM_JSON, headers={"ETag": etag})


def frames(request: Request) -> Response:
    """Answer ``GET …/frames/{frames}`` with the frames' pixel data, made as they are sent.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        Multipart octet-stream (or image/jp2) parts, or one octet-stream body.
    """
    numbers = parse_frame_list(request.path_params["frames"])
    choice = choose(request.headers.get("accept"), "frames", len(numbers))
    record, fh = _opened(request)[0]
    assert fh is not None  # an instance is one record, opened
    try:
        if choice.transfer_syntax not in ("*", record.transfer_syntax) and (
            _size(fh) > MAX_TRANSCODE_BYTES
        ):
            raise RequestError(
                HTTPStatus.NOT_ACCEPTABLE,
                "Transcoding is limited to 100 MB files; ask for transfer-syntax=*.",
            )
        parts, ts = frame_parts(fh, numbers, choice.transfer_syntax)
        content_type = _part_type(choice, ts)
        if not choice.multipart:
            if parts[0].size is None:  # made already, to check it: one frame in memory
                data = b"".join(parts[0].chunks())
                fh.close()
                return Response(data, headers={"Content-Type": content_type})
            headers = {"Content-Type": content_type, "Content-Length": str(parts[0].size)}
            return StreamingResponse(_closing(parts[0].chunks(), [fh]), headers=headers)
    except BaseException:
        fh.close()
        raise
    return _multipart([BodyPart(content_type, p.size, p.chunks) for p in parts], [fh])


def bulk_data(request: Request) -> Response:
    """Answer ``GET …/instances/{i}/bulkdata/{path}`` with one bulk value (:mod:`..bulkdata`).

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        The value as ``application/octet-stream``: a single-part body for ``*/*``, no Accept or
        ``application/octet-stream``, one part of ``multipart/related`` when that is asked for;
        encapsulated or transcoded Pixel Data as one part per frame, like ``…/frames``.
    """
    path = bulkdata.parse_path(request.path_params["path"])
    accept = request.headers.get("accept")
    _, fh = _opened(request)[0]
    assert fh is not None  # an instance is one record, opened
    try:
        ds, value = bulkdata.find(fh, path)
        choice = choose(accept, "frames", 1)
        ranges = parse_accept(accept)
        if not ranges or ranges[0].mime == "*/*":
            # No type named (a plain fetch, OHIF's "singlepart" bulk data, a browser): the bytes
            # themselves. Clients that decode multipart ask for multipart/related by name.
            choice = Choice(False, "application/octet-stream", "*")
        if value.is_pixel_data and (value.encapsulated or choice.transfer_syntax not in ("*", ELE)):
            count = transcode.number_of_frames(ds)
            choice = choose(accept, "frames", count)  # */*: multipart, one frame per part
            parts, ts = frame_parts(fh, list(range(1, count + 1)), choice.transfer_syntax)
            content_type = _part_type(choice, ts)
            return _multipart([BodyPart(content_type, p.size, p.chunks) for p in parts], [fh])
        if choice.transfer_syntax not in ("*", ELE):
            raise RequestError(
                HTTPStatus.NOT_ACCEPTABLE,
                "This bulk data is sent as its little-endian bytes (application/octet-stream); "
                "only Pixel Data can be transcoded.",
            )
        content_type = "application/octet-stream"
        if value.is_pixel_data:
            content_type += f"; transfer-syntax={ELE}"  # native, little endian
        if not choice.multipart:
            headers = {"Content-Type": content_type, "Content-Length": str(value.size)}
            return StreamingResponse(_closing(value.chunks(), [fh]), headers=headers)
    except BaseException:
        fh.close()
        raise
    return _multipart([BodyPart(content_type, value.size, value.chunks)], [fh])


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
        numbers = parse_frame_list(request.path_params["frames"])
        if len(numbers) != 1:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, "A rendered frame request names exactly one frame."
            )
        frame = numbers[0]
    record, fh = _opened(request)[0]
    assert fh is not None  # an instance is one record, opened
    cache: rendering.RenderCache = request.app.state.render_cache
    key = (record.watermark, frame, media_type, quality)
    with fh:
        image = cache.get(key)
        if image is None:
            image = rendering.render(fh, frame, media_type, quality)
            cache.put(key, image)
    return Response(image, media_type=media_type)
