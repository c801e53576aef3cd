"""STOW-RS request bodies: check the Content-Type, write each part to its own temp file.

Parts of a ``multipart/related`` (or one ``application/dicom``) body are written to temp files as
they arrive, decoded by the protocol core's one multipart decoder; the answer is built by
:mod:`.stow_response`. A part that cannot be written (the disk is full, say) becomes an
:class:`UnwrittenPart`: that instance fails with 272 like any other per-instance failure, the rest
of its bytes are read and dropped, and the parts after it are tried in turn.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import IO

from ..protocol.media import parse_media_type
from ..protocol.multipart import MAX_BOUNDARY_LENGTH, MultipartError, StreamingDecoder
from .errors import RequestError


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
        The error (``str(exc)`` would name the path).

    Returns
    -------
    UnwrittenPart
        E.g. "The part could not be written to disk: No space left on device."
    """
    reason = exc.strerror or type(exc).__name__
    return UnwrittenPart(f"The part could not be written to disk: {reason}.")


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


class PartReceiver:
    """Feeds a multipart body to the protocol decoder and writes each part to its own temp file.

    Parameters
    ----------
    boundary : str
        The multipart boundary.
    open_part : callable
        Returns ``(file, path)`` for a new part.

    Notes
    -----
    :meth:`write` does blocking file I/O: the STOW handler calls it in a worker thread.
    """

    def __init__(self, boundary: str, open_part: Callable[[], tuple[IO[bytes], Path]]) -> None:
        self._open_part = open_part
        self._file: IO[bytes] | None = None
        self._path: Path | None = None
        self._failed: UnwrittenPart | None = None
        self._part_index = 0
        self.finished: list[Path | UnwrittenPart] = []
        self.decoder = StreamingDecoder(boundary)

    @property
    def ended(self) -> bool:
        """True once the close delimiter was read."""
        return self.decoder.done

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
        self._failed = None
        try:
            self._file, self._path = self._open_part()
        except OSError as exc:
            self._failed = unwritten(exc)

    def _fail(self, exc: OSError) -> None:
        # The part's bytes so far are dropped, and so are the rest of them as they come.
        self._failed = unwritten(exc)
        self._discard()

    def _discard(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            if self._path is not None:
                with contextlib.suppress(FileNotFoundError):
                    self._path.unlink()
        self._file = self._path = None

    def _data(self, data: bytes) -> None:
        if self._file is not None:
            try:
                self._file.write(data)
            except OSError as exc:
                self._fail(exc)

    def _end(self) -> None:
        if self._file is not None and self._path is not None:
            try:
                self._file.close()  # flushes: the last bytes may not fit either
            except OSError as exc:
                self._fail(exc)
            else:
                self.finished.append(self._path)
                self._file = self._path = None
        if self._failed is not None:
            self.finished.append(self._failed)
            self._failed = None

    def write(self, chunk: bytes) -> list[Path | UnwrittenPart]:
        """Feed a chunk; return the parts completed by it.

        Parameters
        ----------
        chunk : bytes
            The next bytes of the body.

        Returns
        -------
        list of Path or UnwrittenPart
            Temp files of the parts that ended in this chunk (the caller takes them over), or
            what kept a part from being written.

        Raises
        ------
        RequestError
            400 for a malformed body, 415 for a part that is not application/dicom.
        """
        try:
            events = self.decoder.feed(chunk)
        except MultipartError as exc:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"The multipart body is malformed: {exc}"
            ) from exc
        for kind, value in events:
            if kind == "headers":
                assert isinstance(value, dict)
                self._begin(value)
            elif kind == "data":
                assert isinstance(value, bytes)
                self._data(value)
            else:
                self._end()
        done, self.finished = self.finished, []
        return done

    def finish(self) -> None:
        """Check that the body ended with its close delimiter (an empty body has no parts).

        Raises
        ------
        RequestError
            400 when the body stops before its closing boundary.
        """
        if self.decoder.fed and not self.decoder.done:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, "The multipart body ends before its closing boundary."
            )

    def close(self) -> None:
        """Discard a part still being written (after an error or a truncated body)."""
        self._discard()
        for path in self.finished:
            if isinstance(path, Path):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        self.finished = []


async def receive_single(
    stream: AsyncIterator[bytes], open_part: Callable[[], tuple[IO[bytes], Path]]
) -> Path | UnwrittenPart:
    """Write a single application/dicom body to a temp file.

    Parameters
    ----------
    stream : async iterator of bytes
        The request body.
    open_part : callable
        Returns ``(file, path)`` for the part.

    Returns
    -------
    Path or UnwrittenPart
        The temp file, or why it could not be written (the body is then read to its end).
    """
    receiver = _SingleReceiver(open_part)
    try:
        async for chunk in stream:
            receiver.write(chunk)
    except BaseException:
        receiver.discard()
        raise
    return receiver.finish()


class _SingleReceiver:
    def __init__(self, open_part: Callable[[], tuple[IO[bytes], Path]]) -> None:
        self.file: IO[bytes] | None = None
        self.path: Path | None = None
        self.failed: UnwrittenPart | None = None
        try:
            self.file, self.path = open_part()
        except OSError as exc:
            self.failed = unwritten(exc)

    def write(self, chunk: bytes) -> None:
        if self.file is not None:
            try:
                self.file.write(chunk)
            except OSError as exc:
                self.failed = unwritten(exc)
                self.discard()

    def discard(self) -> None:
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self.file = self.path = None

    def finish(self) -> Path | UnwrittenPart:
        if self.file is not None and self.path is not None:
            try:
                self.file.close()
            except OSError as exc:
                self.failed = unwritten(exc)
                self.discard()
            else:
                return self.path
        assert self.failed is not None
        return self.failed
