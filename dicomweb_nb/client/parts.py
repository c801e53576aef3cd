"""WADO-RS pieces: checked request parameters, and responses read part by part or to disk."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import requests

from ..protocol.media import parse_media_type
from ..protocol.multipart import MultipartError, Part, StreamingDecoder, iter_parts
from .errors import InvalidInput, ProtocolError

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
        A multipart body without a boundary, or one that breaks off.
    """
    media = parse_media_type(response.headers.get("Content-Type", ""))
    mime, params = media.mime, media.params
    with response:
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
        A multipart body that breaks off (the part being written is removed).
    """
    media = parse_media_type(response.headers.get("Content-Type", ""))
    mime, params = media.mime, media.params
    written: list[Path] = []
    with response:
        if not mime.startswith("multipart/"):
            fh = tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False)  # noqa: SIM115
            with fh:
                for chunk in response.iter_content(CHUNK):
                    fh.write(chunk)
            written.append(_file_away(Path(fh.name), folder))
            return written
        decoder = StreamingDecoder(params.get("boundary", ""))
        out: Any = None
        try:
            for chunk in response.iter_content(CHUNK):
                for kind, value in decoder.feed(chunk):
                    if kind == "headers":
                        # Closed when the part ends; renamed after its UIDs are read.
                        out = tempfile.NamedTemporaryFile(  # noqa: SIM115
                            dir=folder, suffix=".part", delete=False
                        )
                    elif kind == "data":
                        out.write(value)
                    else:
                        out.close()
                        written.append(_file_away(Path(out.name), folder))
                        out = None
                if decoder.done:
                    break
            decoder.close()
        except MultipartError as exc:
            raise ProtocolError(f"{response.url}: {exc}") from exc
        finally:
            if out is not None:
                out.close()
                Path(out.name).unlink(missing_ok=True)
    return written


def _file_away(temp: Path, folder: Path) -> Path:
    try:
        ds = pydicom.dcmread(
            temp, stop_before_pixels=True, specific_tags=["SeriesInstanceUID", "SOPInstanceUID"]
        )
        final = folder / str(ds.SeriesInstanceUID) / f"{ds.SOPInstanceUID}.dcm"
    except Exception:
        final = folder / f"{temp.stem}.dcm"
    final.parent.mkdir(parents=True, exist_ok=True)
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
