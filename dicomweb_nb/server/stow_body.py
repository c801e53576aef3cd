"""STOW-RS request bodies: check the Content-Type, receive each part.

Parts of a ``multipart/related`` (or one ``application/dicom``) body are decoded by the protocol
core's one multipart decoder as they arrive and kept in memory (large ones go to temp files); the
answer is built by :mod:`.stow_response`. A part that cannot be written (the disk is full, say)
becomes an :class:`UnwrittenPart`: that instance fails with 272 like any other per-instance
failure, the rest of its bytes are read and dropped, and the parts after it are tried in turn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import IO

from starlette.concurrency import run_in_threadpool

from ..protocol.media import parse_media_type
from ..protocol.multipart import MAX_BOUNDARY_LENGTH, MultipartError, StreamingDecoder
from .errors import RequestError
from .store import unwritten_message


@dataclass(frozen=True)
class UnwrittenPart:
    """A received part that could not be written to its temp file: it fails with 272.

    Parameters
    ----------
    message : str
        Why, in words (the OS's reason, never a path).
    """

    message: str


def unwritten(exc: OSError) -> UnwrittenPart:
    """Describe a failed temp-file write without the file's path.

    Parameters
    ----------
    exc : OSError
        The error.

    Returns
    -------
    UnwrittenPart
        With the store's wording (:func:`.store.unwritten_message`).
    """
    return UnwrittenPart(unwritten_message(exc))


def check_content_type(header: str | None) -> tuple[bool, str | None]:
    """Check a STOW request's Content-Type.

    Parameters
    ----------
    header : str or None
        The Content-Type header.

    Returns
    -------
    (bool, str or None)
        ``(True, boundary)`` for multipart/related, ``(False, None)`` for a single
        application/dicom body.

    Raises
    ------
    RequestError
        415 for any other media type, a missing boundary or a root ``type`` other than
        application/dicom; 400 for a ``start`` parameter (as the reference does) or a boundary
        longer than 256 characters.
    """
    if header is None or not header.strip():
        raise RequestError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "The request has no Content-Type; send multipart/related; "
            'type="application/dicom" or a single application/dicom body.',
        )
    media = parse_media_type(header)
    if media.mime == "application/dicom":
        return False, None
    if media.mime != "multipart/related":
        raise RequestError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"The Content-Type '{header}' is not supported; send multipart/related; "
            'type="application/dicom" or a single application/dicom body.',
        )
    boundary = media.param("boundary")
    if not boundary:
        raise RequestError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "The multipart/related Content-Type has no boundary parameter.",
        )
    root = media.param("type")
    if root and root.lower() != "application/dicom":
        raise RequestError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"The multipart type '{root}' is not supported; use application/dicom.",
        )
    if media.param("start") is not None:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, "The start parameter of multipart/related is not supported."
        )
    if len(boundary) > MAX_BOUNDARY_LENGTH:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            f"Multipart boundary length limit {MAX_BOUNDARY_LENGTH} exceeded.",
        )
    return True, boundary


# A part is kept in memory up to this size and written to its temp file in one go when it ends
# (one worker-thread trip per instance instead of one per chunk); a larger one spills to its temp
# file, written in blocks of SPILL_BLOCK. Memory per request: about two parts of this size.
SPOOL_BYTES = 8 << 20
SPILL_BLOCK = 1 << 20

ReceivedPart = bytes | Path | UnwrittenPart


class _Spill:
    """A part too large for memory: its temp file, written in a worker thread."""

    def __init__(self, open_part: Callable[[], tuple[IO[bytes], Path]]) -> None:
        self.file: IO[bytes] | None = None
        self.path: Path | None = None
        self.failed: UnwrittenPart | None = None
        try:
            self.file, self.path = open_part()
        except OSError as exc:
            self.failed = unwritten(exc)

    def write(self, data: bytes) -> None:
        if self.file is None:
            return
        try:
            self.file.write(data)
        except OSError as exc:
            # The part's bytes so far are dropped, and so are the rest of them as they come.
            self.failed = unwritten(exc)
            self.discard()

    def finish(self) -> Path | UnwrittenPart:
        if self.file is not None and self.path is not None:
            try:
                self.file.close()  # flushes: the last bytes may not fit either
            except OSError as exc:
                self.failed = unwritten(exc)
                self.discard()
            else:
                path, self.file, self.path = self.path, None, None
                return path
        assert self.failed is not None
        return self.failed

    def discard(self) -> None:
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self.file = self.path = None


class BodyReceiver:
    """Receives a STOW body on the event loop and hands out each part as it ends.

    Parameters
    ----------
    boundary : str or None
        The multipart boundary, or None for a single ``application/dicom`` body.
    open_part : callable
        Returns ``(file, path)`` for a temp file (used for parts over :data:`SPOOL_BYTES`).

    Notes
    -----
    The multipart decoder runs on the event loop: it only searches and slices the chunk it is
    given, so no request holds the loop for long. A part ends as ``bytes`` (kept in memory, up
    to :data:`SPOOL_BYTES`), as the ``Path`` of its temp file (larger ones, written in a worker
    thread as they arrive), or as an :class:`UnwrittenPart` when that file could not be written.
    """

    def __init__(
        self, boundary: str | None, open_part: Callable[[], tuple[IO[bytes], Path]]
    ) -> None:
        self._open_part = open_part
        self.decoder = StreamingDecoder(boundary) if boundary is not None else None
        self._part_index = 0
        self._pieces: list[bytes] = []
        self._size = 0
        self._spill: _Spill | None = None

    @property
    def ended(self) -> bool:
        """True once a multipart body's close delimiter was read."""
        return self.decoder is not None and self.decoder.done

    async def feed(self, chunk: bytes) -> list[ReceivedPart]:
        """Take the next chunk of the body; return the parts it completed.

        Parameters
        ----------
        chunk : bytes
            The next bytes.

        Returns
        -------
        list of bytes, Path or UnwrittenPart
            The parts that ended in this chunk, in order.

        Raises
        ------
        RequestError
            400 for a malformed body, 415 for a part that is not application/dicom.
        """
        if self.decoder is None:
            await self._add(chunk)
            return []
        try:
            events = self.decoder.feed(chunk)
        except MultipartError as exc:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"The multipart body is malformed: {exc}"
            ) from exc
        done: list[ReceivedPart] = []
        for kind, value in events:
            if kind == "headers":
                assert isinstance(value, dict)
                self._begin(value)
            elif kind == "data":
                assert isinstance(value, bytes)
                await self._add(value)
            else:
                done.append(await self._end())
        return done

    async def finish(self) -> list[ReceivedPart]:
        """Check that the body ended as it should and return what it still held.

        Returns
        -------
        list of bytes, Path or UnwrittenPart
            The single body's one part; nothing for a multipart body (an empty one has no parts).

        Raises
        ------
        RequestError
            400 when a multipart body stops before its closing boundary.
        """
        if self.decoder is None:
            return [await self._end()]
        if self.decoder.fed and not self.decoder.done:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, "The multipart body ends before its closing boundary."
            )
        return []

    def close(self) -> None:
        """Discard a part still being received (after an error or a truncated body)."""
        self._pieces, self._size = [], 0
        if self._spill is not None:
            self._spill.discard()
            self._spill = None

    def _begin(self, headers: dict[str, str]) -> None:
        self._part_index += 1
        # A part without its own Content-Type takes the root type (application/dicom).
        content_type = headers.get("content-type")
        if content_type is not None and parse_media_type(content_type).mime != "application/dicom":
            raise RequestError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                f"Part {self._part_index} has Content-Type '{content_type}'; "
                "only application/dicom parts can be stored.",
            )

    async def _add(self, data: bytes) -> None:
        self._pieces.append(data)
        self._size += len(data)
        if self._spill is None and self._size > SPOOL_BYTES:
            self._spill = await run_in_threadpool(_Spill, self._open_part)
        if self._spill is not None and self._size >= SPILL_BLOCK:
            await self._write_spill()

    async def _write_spill(self) -> None:
        assert self._spill is not None
        block = b"".join(self._pieces)
        self._pieces, self._size = [], 0
        await run_in_threadpool(self._spill.write, block)

    async def _end(self) -> ReceivedPart:
        if self._spill is None:
            data = self._pieces[0] if len(self._pieces) == 1 else b"".join(self._pieces)
            self._pieces, self._size = [], 0
            return data
        if self._pieces:
            await self._write_spill()
        spill, self._spill = self._spill, None
        return await run_in_threadpool(spill.finish)
