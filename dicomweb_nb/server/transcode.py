"""Transcoding for WADO: frames as stored or transcoded, whole instances transcoded.

Works on the stored Part-10 files (rendered images are :mod:`.rendering`). Native frames are read
by seeking to their offset, so a frame of a large instance costs one frame's bytes, not the file's.
"""

from __future__ import annotations

import io
import os
from http import HTTPStatus

import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.encaps import get_frame
from pydicom.filewriter import dcmwrite
from pydicom.pixels.encoders.base import get_encoder
from pydicom.pixels.utils import pixel_array
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
from .errors import RequestError

ELE = str(ExplicitVRLittleEndian)
J2K_LOSSLESS = str(JPEG2000Lossless)
SUPPORTED_TARGETS = frozenset({"*", ELE, J2K_LOSSLESS})
# Sources whose pixel data are little-endian native bytes, frame after frame.
_LE_NATIVE = frozenset({ELE, str(ImplicitVRLittleEndian), str(DeflatedExplicitVRLittleEndian)})
_NATIVE = _LE_NATIVE | {str(ExplicitVRBigEndian)}
DECODABLE = _NATIVE | {
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
_PIXEL_DATA = 0x7FE00010


class TranscodeError(RequestError):
    """The instance cannot be given in the requested transfer syntax: 406.

    Parameters
    ----------
    message : str
        Which syntax, from which, and what to ask for instead.
    """

    def __init__(self, message: str) -> None:
        super().__init__(HTTPStatus.NOT_ACCEPTABLE, message)


class FrameError(RequestError):
    """A frame that does not exist, or an instance without pixel data: 404.

    Parameters
    ----------
    message : str
        Which frame, and how many there are.
    """

    def __init__(self, message: str) -> None:
        super().__init__(HTTPStatus.NOT_FOUND, message)


def read_header(path: str | os.PathLike[str]) -> Dataset:
    """Read a stored file with its large values (pixel data) left on disk until used.

    Parameters
    ----------
    path : str or PathLike
        The stored file.

    Returns
    -------
    Dataset
        The dataset; values over 256 bytes are read when accessed.
    """
    return pydicom.dcmread(path, defer_size=256)


def stored_transfer_syntax(path: str | os.PathLike[str]) -> str:
    """Return the transfer syntax a stored file is encoded in.

    Parameters
    ----------
    path : str or PathLike
        The file.

    Returns
    -------
    str
        The TransferSyntaxUID of its file meta.
    """
    return str(pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID)


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
    return _frames_of(ds) if _PIXEL_DATA in ds else 0


def _check_target(stored: str, target: str, path: str | os.PathLike[str]) -> None:
    if target not in SUPPORTED_TARGETS:
        raise TranscodeError(
            f"Transfer syntax {target} is not supported; use *, {ELE} or {J2K_LOSSLESS}."
        )
    if stored not in DECODABLE:
        raise TranscodeError(
            f"Cannot transcode from {stored} to {target}: no decoder for {stored}."
        )
    if os.path.getsize(path) > MAX_TRANSCODE_BYTES:
        raise TranscodeError(
            f"Cannot transcode from {stored} to {target}: files over 100 MB are served as stored "
            "only (ask for transfer-syntax=*)."
        )


def _as_native_le(ds: Dataset, stored: str) -> None:
    """Turn the dataset's pixel data into native little-endian bytes (explicit VR LE)."""
    if _PIXEL_DATA in ds and stored not in _LE_NATIVE:
        if stored == ExplicitVRBigEndian:
            arr = ds.pixel_array
            if int(ds.get("SamplesPerPixel", 1)) > 1:
                ds.PlanarConfiguration = 0  # pixel_array gives interleaved samples
            ds.PixelData = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        else:
            ds.decompress(generate_instance_uid=False)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian


def instance_bytes(path: str | os.PathLike[str], transfer_syntax: str) -> tuple[bytes | None, str]:
    """Return an instance in the requested transfer syntax.

    Parameters
    ----------
    path : str or PathLike
        The stored file.
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
        For an unsupported target, an undecodable source or a file over 100 MB.
    """
    stored = stored_transfer_syntax(path)
    if transfer_syntax in ("*", stored):
        return None, stored
    _check_target(stored, transfer_syntax, path)
    try:
        ds = pydicom.dcmread(path)
        _as_native_le(ds, stored)
        if transfer_syntax == J2K_LOSSLESS and _PIXEL_DATA in ds:
            ds.compress(JPEG2000Lossless, generate_instance_uid=False)
        ds.file_meta.TransferSyntaxUID = pydicom.uid.UID(transfer_syntax)
        ds.preamble = bytes(128)
        buf = io.BytesIO()
        # force_encoding: a big-endian or implicit source is re-encoded, not refused.
        dcmwrite(buf, ds, implicit_vr=False, little_endian=True, force_encoding=True)
    except TranscodeError:
        raise
    except Exception as exc:
        raise TranscodeError(f"Cannot transcode from {stored} to {transfer_syntax}: {exc}") from exc
    return buf.getvalue(), transfer_syntax


def _frame_length(ds: Dataset) -> int:
    bits = (
        int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1)) * int(ds.BitsAllocated)
    )
    return (bits + 7) // 8


def _raw_pixel_data(ds: Dataset) -> RawDataElement:
    # The element as read: its value offset in the file, without loading the value.
    raw = ds.get_item(_PIXEL_DATA, keep_deferred=True)
    if not isinstance(raw, RawDataElement):
        raise TypeError("The pixel data was already loaded; read the file with defer_size.")
    return raw


def _native_frames(path: str | os.PathLike[str], ds: Dataset, numbers: list[int]) -> list[bytes]:
    raw = _raw_pixel_data(ds)
    length = _frame_length(ds)
    out = []
    with open(path, "rb") as fh:
        for n in numbers:
            fh.seek(raw.value_tell + (n - 1) * length)
            out.append(fh.read(length))
    return out


def _encapsulated_frames(
    path: str | os.PathLike[str], ds: Dataset, numbers: list[int], count: int
) -> list[bytes]:
    raw = _raw_pixel_data(ds)
    extended = None
    if "ExtendedOffsetTable" in ds and "ExtendedOffsetTableLengths" in ds:
        extended = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
    out = []
    with open(path, "rb") as fh:
        for n in numbers:
            fh.seek(raw.value_tell)
            out.append(get_frame(fh, n - 1, extended_offsets=extended, number_of_frames=count))
    return out


def decoded_frame(path: str | os.PathLike[str], n: int) -> np.ndarray:
    """Decode one frame of a stored file into pixels.

    Parameters
    ----------
    path : str or PathLike
        The stored file.
    n : int
        The 1-based frame number.

    Returns
    -------
    numpy.ndarray
        The frame's pixels, as pydicom decodes them.
    """
    arr: np.ndarray = pixel_array(path, index=n - 1)
    return arr


def frames(
    path: str | os.PathLike[str], frame_numbers: list[int], transfer_syntax: str
) -> tuple[list[bytes], str]:
    """Return frames of an instance, as stored or transcoded.

    Parameters
    ----------
    path : str or PathLike
        The stored file.
    frame_numbers : list of int
        1-based frame numbers (each >= 1).
    transfer_syntax : str
        ``*`` (as stored: native bytes, or the frame's compressed bitstream), explicit VR little
        endian (native little-endian bytes), or JPEG 2000 lossless (a codestream per frame).

    Returns
    -------
    (list of bytes, str)
        The frames in the order asked, and their transfer syntax.

    Raises
    ------
    FrameError
        A number beyond NumberOfFrames, or no pixel data.
    TranscodeError
        An unsupported target or undecodable source.
    """
    ds = read_header(path)
    stored = str(ds.file_meta.TransferSyntaxUID)
    count = number_of_frames(ds)
    if count == 0:
        raise FrameError("The instance has no pixel data.")
    beyond = [n for n in frame_numbers if n > count]
    if beyond:
        raise FrameError(f"Frame {beyond[0]} does not exist: the instance has {count} frame(s).")
    as_stored = transfer_syntax in ("*", stored)
    if as_stored or (
        transfer_syntax == ELE and stored in _LE_NATIVE - {DeflatedExplicitVRLittleEndian}
    ):
        if stored in _NATIVE - {DeflatedExplicitVRLittleEndian}:
            syntax = stored if as_stored else ELE
            return _native_frames(path, ds, frame_numbers), syntax
        if _raw_pixel_data(ds).length == 0xFFFFFFFF:
            return _encapsulated_frames(path, ds, frame_numbers, count), stored
    _check_target(stored, transfer_syntax if not as_stored else ELE, path)
    target = ELE if as_stored else transfer_syntax
    try:
        decoded = [decoded_frame(path, n) for n in frame_numbers]
        if target == ELE:
            return [a.astype(a.dtype.newbyteorder("<")).tobytes() for a in decoded], ELE
        encoder = get_encoder(JPEG2000Lossless)
        opts = _encoder_options(ds)
        return [encoder.encode(a, **opts) for a in decoded], J2K_LOSSLESS  # type: ignore[arg-type]
    except Exception as exc:
        raise TranscodeError(f"Cannot transcode frames from {stored} to {target}: {exc}") from exc


def _encoder_options(ds: Dataset) -> dict[str, object]:
    photometric = str(ds.PhotometricInterpretation)
    if photometric.startswith("YBR"):
        photometric = "RGB"  # the decoded pixels are RGB
    return {
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "samples_per_pixel": int(ds.get("SamplesPerPixel", 1)),
        "bits_allocated": int(ds.BitsAllocated),
        "bits_stored": int(ds.get("BitsStored", ds.BitsAllocated)),
        "pixel_representation": int(ds.get("PixelRepresentation", 0)),
        "photometric_interpretation": photometric,
        "number_of_frames": 1,
        "planar_configuration": 0,
    }


__all__ = [
    "DECODABLE",
    "SUPPORTED_TARGETS",
    "FrameError",
    "TranscodeError",
    "frames",
    "instance_bytes",
    "number_of_frames",
    "stored_transfer_syntax",
]
