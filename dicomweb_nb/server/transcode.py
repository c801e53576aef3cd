"""Transcoding for WADO: whole instances, and what frames and rendering share.

Works on stored Part-10 files opened by the caller: an open file still reads after a concurrent
delete unlinks it, so a retrieve that opened its file gets the whole instance (frames are
:mod:`.frame_parts`, rendered images :mod:`.rendering`). Every codec call goes through
:mod:`.codec`, so a failing decoder is a 406, never a 500.
"""

from __future__ import annotations

import io
import os
from http import HTTPStatus
from typing import BinaryIO

import pydicom
from pydicom.dataset import Dataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from ..protocol.frames import number_of_frames as _frames_of
from .codec import TranscodeError, codec_boundary
from .errors import RequestError

ELE = str(ExplicitVRLittleEndian)
J2K_LOSSLESS = str(JPEG2000Lossless)
SUPPORTED_TARGETS = frozenset({"*", ELE, J2K_LOSSLESS})
# Sources whose pixel data are little-endian native bytes, frame after frame.
LE_NATIVE = frozenset({ELE, str(ImplicitVRLittleEndian), str(DeflatedExplicitVRLittleEndian)})
NATIVE = LE_NATIVE | {str(ExplicitVRBigEndian)}
DECODABLE = NATIVE | {
    str(uid)
    for uid in (
        JPEGBaseline8Bit,
        JPEGExtended12Bit,
        JPEGLossless,
        JPEGLosslessSV1,
        JPEGLSLossless,
        JPEGLSNearLossless,
        JPEG2000Lossless,
        JPEG2000,
        RLELossless,
    )
}
MAX_TRANSCODE_BYTES = 100 * 1024 * 1024
PIXEL_DATA = 0x7FE00010


class FrameError(RequestError):
    """A frame that does not exist, or an instance without pixel data: 404.

    Parameters
    ----------
    message : str
        Which frame, and how many there are.
    """

    def __init__(self, message: str) -> None:
        super().__init__(HTTPStatus.NOT_FOUND, message)


def read_header(fh: BinaryIO) -> Dataset:
    """Read an open stored file with its large values (pixel data) left on disk until used.

    Parameters
    ----------
    fh : BinaryIO
        The stored file, open for reading.

    Returns
    -------
    Dataset
        The dataset; values over 256 bytes are read from ``fh`` when accessed.
    """
    fh.seek(0)
    ds = pydicom.dcmread(fh, defer_size=256)
    # Deferred values are read from this open file, not re-opened by name: a concurrent delete
    # may have unlinked the name, and the open file still reads.
    ds.buffer = fh
    return ds


def stored_transfer_syntax(fh: BinaryIO) -> str:
    """Return the transfer syntax an open stored file is encoded in.

    Parameters
    ----------
    fh : BinaryIO
        The file.

    Returns
    -------
    str
        The TransferSyntaxUID of its file meta.
    """
    fh.seek(0)
    return str(pydicom.dcmread(fh, stop_before_pixels=True).file_meta.TransferSyntaxUID)


def number_of_frames(ds: Dataset) -> int:
    """Return how many frames a dataset holds (0 without pixel data).

    Parameters
    ----------
    ds : Dataset
        The dataset (pixel data may be deferred).

    Returns
    -------
    int
        NumberOfFrames, 1 when absent, 0 without PixelData.
    """
    return _frames_of(ds) if PIXEL_DATA in ds else 0


def check_target(stored: str, target: str, fh: BinaryIO) -> None:
    """Refuse a transcoding the server cannot do, before any answer is sent.

    Parameters
    ----------
    stored : str
        The stored transfer syntax.
    target : str
        The requested one (not ``*`` and not ``stored``).
    fh : BinaryIO
        The open stored file (its size decides).

    Raises
    ------
    TranscodeError
        For an unsupported target, a source without decoder, or a file over 100 MB.
    """
    if target not in SUPPORTED_TARGETS:
        raise TranscodeError(
            f"Transfer syntax {target} is not supported; use *, {ELE} or {J2K_LOSSLESS}."
        )
    if stored not in DECODABLE:
        raise TranscodeError(
            f"Cannot transcode from {stored} to {target}: no decoder for {stored}."
        )
    if os.fstat(fh.fileno()).st_size > MAX_TRANSCODE_BYTES:
        raise TranscodeError(
            f"Cannot transcode from {stored} to {target}: files over 100 MB are served as stored "
            "only (ask for transfer-syntax=*)."
        )


def _as_native_le(ds: Dataset, stored: str) -> None:
    """Turn the dataset's pixel data into native little-endian bytes (explicit VR LE)."""
    if PIXEL_DATA in ds and stored not in LE_NATIVE:
        if stored == ExplicitVRBigEndian:
            arr = ds.pixel_array
            if int(ds.get("SamplesPerPixel", 1)) > 1:
                ds.PlanarConfiguration = 0  # pixel_array gives interleaved samples
            ds.PixelData = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        else:
            ds.decompress(generate_instance_uid=False)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian


def instance_bytes(fh: BinaryIO, transfer_syntax: str) -> tuple[bytes | None, str]:
    """Return an instance in the requested transfer syntax.

    Parameters
    ----------
    fh : BinaryIO
        The stored file, open for reading.
    transfer_syntax : str
        ``*`` (as stored), explicit VR little endian or JPEG 2000 lossless.

    Returns
    -------
    (bytes or None, str)
        None when the stored file is already right (serve it unchanged), else the whole transcoded
        Part-10 file with a zeroed preamble; and the syntax of what is served.

    Raises
    ------
    TranscodeError
        For an unsupported target, an undecodable source, a file over 100 MB or a codec failure.
    """
    stored = stored_transfer_syntax(fh)
    if transfer_syntax in ("*", stored):
        return None, stored
    check_target(stored, transfer_syntax, fh)
    with codec_boundary(f"Cannot transcode from {stored} to {transfer_syntax}"):
        fh.seek(0)
        ds = pydicom.dcmread(fh)
        _as_native_le(ds, stored)
        if transfer_syntax == J2K_LOSSLESS and PIXEL_DATA in ds:
            ds.compress(JPEG2000Lossless, generate_instance_uid=False)
        ds.file_meta.TransferSyntaxUID = pydicom.uid.UID(transfer_syntax)
        ds.preamble = bytes(128)
        buf = io.BytesIO()
        # force_encoding: a big-endian or implicit source is re-encoded, not refused.
        dcmwrite(buf, ds, implicit_vr=False, little_endian=True, force_encoding=True)
    return buf.getvalue(), transfer_syntax


__all__ = [
    "DECODABLE",
    "SUPPORTED_TARGETS",
    "FrameError",
    "TranscodeError",
    "check_target",
    "instance_bytes",
    "number_of_frames",
    "read_header",
    "stored_transfer_syntax",
]
