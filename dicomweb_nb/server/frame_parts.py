"""Frames of a stored instance as parts made one at a time, while the answer is sent.

``GET …/frames/1,1,1,…`` once read every asked frame into memory before the first byte went out:
6,000 numbers (a 12 KB URL) on a 512×512 image took the server to 3 GB. Now everything that can
refuse the request (frame numbers, pixel data, transfer syntax, the codec on the first frame) is
checked up front, and each frame is read, decoded or encoded only when its part is sent: a request
holds at most two frames (one sent, one remembered for repeats) or one 1 MiB read.

The frame list is bounded (docs/reference-server.md, WADO-RS): at most :data:`MAX_FRAME_NUMBERS`
numbers, repeats allowed and answered once per mention, as the reference does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import BinaryIO

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.encaps import get_frame
from pydicom.uid import DeflatedExplicitVRLittleEndian

from .codec import codec_boundary, decode_frame, encode_j2k_lossless
from .errors import RequestError
from .transcode import (
    ELE,
    J2K_LOSSLESS,
    LE_NATIVE,
    NATIVE,
    PIXEL_DATA,
    FrameError,
    check_target,
    number_of_frames,
    read_header,
)

CHUNK = 1 << 20
# The reference reads any number of frame numbers (its IntArrayModelBinder) but is only reachable
# through Kestrel, whose 8 KB request-line limit lets about 4,000 one-digit numbers through; 4,096
# accepts all of those and refuses the rest with 400 instead of answering gigabytes.
MAX_FRAME_NUMBERS = 4096
_DEFLATED = str(DeflatedExplicitVRLittleEndian)


@dataclass(frozen=True)
class FramePart:
    """One frame to send: its size when known up front, and its bytes made on demand."""

    size: int | None
    chunks: Callable[[], Iterator[bytes]]


def parse_frame_list(raw: str) -> list[int]:
    """Parse the ``{frames}`` path segment: comma-separated 1-based numbers, repeats allowed.

    Parameters
    ----------
    raw : str
        The segment, e.g. ``"1,3,2"`` (``%2C`` counts as a comma).

    Returns
    -------
    list of int
        The numbers in the order given.

    Raises
    ------
    RequestError
        400 for a piece that is not an integer, a number below 1, or more than
        :data:`MAX_FRAME_NUMBERS` numbers.
    """
    pieces = raw.replace("%2C", ",").replace("%2c", ",").split(",")
    if len(pieces) > MAX_FRAME_NUMBERS:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            f"The frame list names {len(pieces)} frames; at most {MAX_FRAME_NUMBERS} can be "
            "retrieved in one request.",
        )
    numbers = []
    for piece in pieces:
        try:
            n = int(piece.strip())
        except ValueError:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"'{piece[:32]}' is not a frame number."
            ) from None
        if n < 1:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"Frame numbers start at 1; got {n}.")
        numbers.append(n)
    return numbers


def _frame_length(ds: Dataset) -> int:
    bits = (
        int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1)) * int(ds.BitsAllocated)
    )
    return (bits + 7) // 8


def _raw_pixel_data(ds: Dataset) -> RawDataElement:
    # The element as read: its value offset in the file, without loading the value.
    raw = ds.get_item(PIXEL_DATA, keep_deferred=True)
    if not isinstance(raw, RawDataElement):
        raise TypeError("The pixel data was already loaded; read the file with defer_size.")
    return raw


def _native_chunks(fh: BinaryIO, offset: int, length: int) -> Iterator[bytes]:
    done = 0
    while done < length:
        fh.seek(offset + done)  # parts share the file: each read says where it starts
        piece = fh.read(min(CHUNK, length - done))
        if not piece:
            raise OSError(f"The stored pixel data ends {length - done} bytes before the frame.")
        done += len(piece)
        yield piece


class _OneFrameCache:
    """Makes frames one at a time and remembers the last one, so ``1,1,1,…`` makes it once."""

    def __init__(self, make: Callable[[int], bytes]) -> None:
        self._make = make
        self._last: tuple[int, bytes] | None = None

    def frame(self, n: int) -> bytes:
        if self._last is None or self._last[0] != n:
            self._last = (n, self._make(n))
        return self._last[1]

    def chunks(self, n: int) -> Iterator[bytes]:
        yield self.frame(n)


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


def _transcoder(fh: BinaryIO, ds: Dataset, stored: str, target: str) -> Callable[[int], bytes]:
    options = _encoder_options(ds) if target == J2K_LOSSLESS else {}

    def make(n: int) -> bytes:
        arr = decode_frame(fh, n, f"Cannot decode frame {n} from {stored}")
        if target == ELE:
            return arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        return encode_j2k_lossless(arr, options, f"Cannot encode frame {n} to {target}")

    return make


def _encapsulated(fh: BinaryIO, ds: Dataset, count: int) -> Callable[[int], bytes]:
    start = _raw_pixel_data(ds).value_tell
    extended = None
    if "ExtendedOffsetTable" in ds and "ExtendedOffsetTableLengths" in ds:
        extended = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)

    def make(n: int) -> bytes:
        with codec_boundary(f"Cannot read frame {n} of the encapsulated pixel data"):
            fh.seek(start)
            data: bytes = get_frame(fh, n - 1, extended_offsets=extended, number_of_frames=count)
        return data

    return make


def frame_parts(
    fh: BinaryIO, numbers: list[int], transfer_syntax: str
) -> tuple[list[FramePart], str]:
    """Check a frames request and return its parts, each made when it is sent.

    Parameters
    ----------
    fh : BinaryIO
        The stored file, open (it stays readable if a delete unlinks it meanwhile); the parts
        read from it, so it must stay open until they are sent.
    numbers : list of int
        1-based frame numbers, at least one, repeats allowed.
    transfer_syntax : str
        ``*`` (as stored: native bytes, or the frame's compressed bitstream), explicit VR little
        endian (native little-endian bytes), or JPEG 2000 lossless (a codestream per frame).

    Returns
    -------
    (list of FramePart, str)
        One part per number, in the order asked, and the transfer syntax of their bytes.

    Raises
    ------
    FrameError
        A number beyond NumberOfFrames, or no pixel data (404).
    TranscodeError
        An unsupported target, an undecodable source, or a codec failing on the first frame (406).
    """
    ds = read_header(fh)
    stored = str(ds.file_meta.TransferSyntaxUID)
    count = number_of_frames(ds)
    if count == 0:
        raise FrameError("The instance has no pixel data.")
    beyond = next((n for n in numbers if n > count), None)
    if beyond is not None:
        raise FrameError(f"Frame {beyond} does not exist: the instance has {count} frame(s).")
    as_stored = transfer_syntax in ("*", stored)
    if as_stored or (transfer_syntax == ELE and stored in LE_NATIVE - {_DEFLATED}):
        if stored in NATIVE - {_DEFLATED}:
            length, raw = _frame_length(ds), _raw_pixel_data(ds)
            if max(numbers) * length > raw.length:
                # Checked at store time since; files stored before may be short.
                raise FrameError(f"Frame {max(numbers)} is beyond the stored pixel data.")
            start = raw.value_tell
            syntax = stored if as_stored else ELE
            return [
                FramePart(length, partial(_native_chunks, fh, start + (n - 1) * length, length))
                for n in numbers
            ], syntax
        if _raw_pixel_data(ds).length == 0xFFFFFFFF:
            cache = _OneFrameCache(_encapsulated(fh, ds, count))
            cache.frame(numbers[0])  # a broken encapsulation is refused before any byte is sent
            return [FramePart(None, partial(cache.chunks, n)) for n in numbers], stored
    target = ELE if as_stored else transfer_syntax
    check_target(stored, target, fh)
    cache = _OneFrameCache(_transcoder(fh, ds, stored, target))
    cache.frame(numbers[0])  # a source the codec cannot handle is a 406, not a broken stream
    return [FramePart(None, partial(cache.chunks, n)) for n in numbers], target
