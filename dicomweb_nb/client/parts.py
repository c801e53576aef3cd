"""WADO-RS pieces: checked request parameters, and responses read part by part or to disk."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pydicom
import requests
from pydicom.filereader import read_partial
from pydicom.tag import Tag

from ..protocol.media import parse_media_type
from ..protocol.multipart import MultipartError, Part, StreamingDecoder, iter_parts
from ..protocol.uids import is_valid_uid
from .errors import InvalidInput, ProtocolError, reading_body

CHUNK = 1 << 20

# PS3.18 8.3.5.1.2.2: quality is 1..100.
MAX_QUALITY = 100


def accept_dicom(transfer_syntax: str) -> str:
    """Return the Accept header asking for instances in a transfer syntax.

    Parameters
    ----------
    transfer_syntax : str
        ``"*"`` (as stored) or a transfer syntax UID.

    Returns
    -------
    str
        A ``multipart/related; type="application/dicom"`` media range.
    """
    return f'multipart/related; type="application/dicom"; transfer-syntax={transfer_syntax}'


def stream_parts(response: requests.Response) -> Iterator[Part]:
    """Yield the parts of a WADO response one at a time, multipart or single-part alike.

    Parameters
    ----------
    response : requests.Response
        A streamed response.

    Yields
    ------
    Part
        Each part; a single-part body (as some servers send for one instance) is one Part.

    Raises
    ------
    ProtocolError
        A multipart body without a boundary, or a body that breaks off.
    Timeout
        A body that stops arriving for longer than the client's timeout.
    """
    media = parse_media_type(response.headers.get("Content-Type", ""))
    mime, params = media.mime, media.params
    with response, reading_body(response.url):
        if not mime.startswith("multipart/"):
            yield Part({"content-type": response.headers.get("Content-Type", "")}, response.content)
            return
        boundary = params.get("boundary")
        if not boundary:
            raise ProtocolError(f"{response.url}: multipart response without a boundary.")
        try:
            yield from iter_parts(response.iter_content(CHUNK), boundary)
        except MultipartError as exc:
            raise ProtocolError(f"{response.url}: {exc}") from exc


def save_parts(response: requests.Response, folder: Path) -> list[Path]:
    """Write each instance of a streamed WADO response to disk as its bytes arrive.

    Parameters
    ----------
    response : requests.Response
        A streamed response, multipart or a single instance.
    folder : Path
        Where the files go, as ``<SeriesInstanceUID>/<SOPInstanceUID>.dcm`` (an existing
        folder).

    Returns
    -------
    list of Path
        The files written; memory stays flat whatever the study's size.

    Raises
    ------
    ProtocolError
        A body that breaks off (the part being written is removed).
    Timeout
        A body that stops arriving for longer than the client's timeout.
    """
    media = parse_media_type(response.headers.get("Content-Type", ""))
    mime, params = media.mime, media.params
    written: list[Path] = []
    made: set[Path] = {folder}  # the folders known to exist, so each is made once
    with response, reading_body(response.url):
        if not mime.startswith("multipart/"):
            single = _PartFile(folder)
            try:
                for chunk in response.iter_content(CHUNK):
                    single.write(chunk)
            except BaseException:
                single.discard()
                raise
            written.append(single.finish(folder, made))
            return written
        decoder = StreamingDecoder(params.get("boundary", ""))
        out: _PartFile | None = None
        try:
            for chunk in response.iter_content(CHUNK):
                # Views: the pieces go straight to the file, uncopied.
                for kind, value in decoder.feed(chunk, views=True):
                    if kind == "headers":
                        out = _PartFile(folder)
                    elif kind == "data":
                        assert out is not None and isinstance(value, bytes | memoryview)
                        out.write(value)
                    else:
                        assert out is not None
                        written.append(out.finish(folder, made))
                        out = None  # only now: a temp file left by a failed rename is removed
                if decoder.done:
                    break
            decoder.close()
        except MultipartError as exc:
            raise ProtocolError(f"{response.url}: {exc}") from exc
        finally:
            if out is not None:
                out.discard()
    return written


# The first bytes of a part kept in memory to name its file: a header up to the Series
# Instance UID is a few kilobytes, unless large sequences or private elements come first.
HEAD_BYTES = 64 * 1024
SERIES_INSTANCE_UID = 0x0020000E


class _PartFile:
    """One instance on its way to disk: a temp file, and its first bytes to find its UIDs in."""

    def __init__(self, folder: Path) -> None:
        # Renamed when the part ends, once its UIDs are known.
        self._file = tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False)  # noqa: SIM115
        self.path = Path(self._file.name)
        self._head: list[bytes] = []
        self._head_size = 0

    def write(self, data: bytes | memoryview) -> None:
        self._file.write(data)
        if self._head_size < HEAD_BYTES:
            piece = bytes(data[: HEAD_BYTES - self._head_size])
            self._head.append(piece)
            self._head_size += len(piece)

    def finish(self, folder: Path, made: set[Path]) -> Path:
        self._file.close()
        return _file_away(self.path, folder, b"".join(self._head), made)

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


def _uids_in(head: bytes) -> tuple[str, str] | None:
    """Return the Series and SOP Instance UIDs when ``head`` holds both whole, else None.

    Reading stops at the first element after the Series Instance UID: reaching one shows that
    the elements before it were all in ``head`` (a cut-off value or header would have ended
    the reading first, silently).
    """
    reached = False

    def after_series_uid(tag: int, *_: object) -> bool:
        nonlocal reached
        reached = tag > SERIES_INSTANCE_UID
        return reached

    try:
        ds = read_partial(
            io.BytesIO(head),
            stop_when=after_series_uid,
            specific_tags=[Tag("SeriesInstanceUID"), Tag("SOPInstanceUID")],
        )
        if not reached:
            return None  # before converting a value that may be cut short (and warning of it)
        series, sop = str(ds.get("SeriesInstanceUID", "")), str(ds.get("SOPInstanceUID", ""))
    except Exception:
        return None
    return (series, sop) if series and sop else None


def _file_away(temp: Path, folder: Path, head: bytes, made: set[Path]) -> Path:
    # The UIDs from the part's first bytes save opening and parsing the file again; when they
    # are not there, the file is read as before.
    uids = _uids_in(head)
    if uids is None:
        try:
            ds = pydicom.dcmread(
                temp,
                stop_before_pixels=True,
                specific_tags=["SeriesInstanceUID", "SOPInstanceUID"],
            )
            uids = str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)
        except Exception:
            uids = None
    # Only UIDs name folders and files: a server (or a man in the middle) sending "../../x"
    # or "/etc/x" as a UID must not make us write outside the folder.
    if uids is not None and is_valid_uid(uids[0]) and is_valid_uid(uids[1]):
        final = folder / uids[0] / f"{uids[1]}.dcm"
    else:
        final = folder / f"{temp.stem}.dcm"  # named like its temp file, inside the folder
    if final.parent not in made:
        final.parent.mkdir(parents=True, exist_ok=True)
        made.add(final.parent)
    os.replace(temp, final)
    return final


def check_frames(frame_numbers: list[int] | None) -> list[int]:
    """Return the frame numbers to ask for, checked before any request.

    Parameters
    ----------
    frame_numbers : list of int, optional
        1-based frame numbers (default ``[1]``).

    Returns
    -------
    list of int
        The numbers.

    Raises
    ------
    InvalidInput
        For a number below 1 or not an int.
    """
    numbers = list(frame_numbers or [1])
    for n in numbers:
        if not isinstance(n, int) or n < 1:
            raise InvalidInput(f"Frame numbers start at 1; got {n!r}.")
    return numbers


def rendered_params(media_type: str, quality: int | None) -> list[tuple[str, str]]:
    """Check a rendered request's media type and quality, and return its query parameters.

    Parameters
    ----------
    media_type : str
        ``"image/png"`` or ``"image/jpeg"``.
    quality : int, optional
        JPEG quality 1..100.

    Returns
    -------
    list of (str, str)
        The query parameters.

    Raises
    ------
    InvalidInput
        For another media type, or a quality outside 1..100.
    """
    if media_type not in ("image/png", "image/jpeg"):
        raise InvalidInput(f"media_type must be image/png or image/jpeg, not {media_type!r}.")
    params = []
    if quality is not None:
        if not 1 <= quality <= MAX_QUALITY:
            raise InvalidInput(f"quality must be 1..100, got {quality}.")
        params.append(("quality", str(quality)))
    return params
