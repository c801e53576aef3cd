"""Store-time checks of what retrieval relies on: the transfer syntax UID and the pixel module.

An instance that is stored must be servable. Before these checks, Pixel Data without Rows was
stored and its frames were a 500, and a TransferSyntaxUID with a NUL byte was stored and every
retrieve of it dropped the connection (the ``transfer-syntax=`` parameter built from it is not a
valid header value). Each check returns the ErrorComment of a failure (reason 43264), in the
reference's form ``DICOM100: (gggg,eeee) - …`` (its DicomCoreResource.ErrorMessageFormat), or None.
"""

from __future__ import annotations

from typing import Any

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from ..protocol.dicomjson import tag_text
from ..protocol.frames import number_of_frames
from ..protocol.uids import is_valid_uid

# The Image Pixel Module attributes (PS3.3 C.7.6.3, all Type 1) that serving frames, transcoding
# and rendering read before any codec is involved.
PIXEL_ATTRIBUTES = (
    (0x00280002, "SamplesPerPixel"),
    (0x00280004, "PhotometricInterpretation"),
    (0x00280010, "Rows"),
    (0x00280011, "Columns"),
    (0x00280100, "BitsAllocated"),
)
_PIXEL_DATA = 0x7FE00010
_TRANSFER_SYNTAX = 0x00020010


def _shown(text: str) -> str:
    # A value in a message: control characters escaped, so a NUL is seen and not sent.
    return text.encode("unicode_escape").decode("ascii")[:80]


def transfer_syntax_problem(value: Any) -> str | None:
    """Check the file meta TransferSyntaxUID: present, one value, UID syntax.

    Parameters
    ----------
    value : Any
        The element's value (None when absent).

    Returns
    -------
    str or None
        The ErrorComment, or None when the UID is valid.
    """
    where = f"DICOM100: {tag_text(_TRANSFER_SYNTAX)} -"
    text = str(value).rstrip(" \x00") if value is not None else ""
    if not text:
        return f"{where} The required tag 'TransferSyntaxUID' is missing from the file meta."
    if not is_valid_uid(text):
        return (
            f'{where} TransferSyntaxUID "{_shown(text)}" is not a valid UID (digits and dots, '
            "at most 64 characters)."
        )
    return None


def _single_int(ds: Dataset, tag: int) -> int | None:
    value = ds[tag].value
    if isinstance(value, int | str):
        try:
            return int(value)
        except ValueError:
            return None
    return None  # several values, or bytes


def pixel_module_problem(ds: Dataset) -> str | None:
    """Check that an instance with Pixel Data has the pixel attributes retrieval needs.

    Parameters
    ----------
    ds : Dataset
        The received dataset (Pixel Data may be deferred).

    Returns
    -------
    str or None
        The ErrorComment of the first problem, or None when fine (or without Pixel Data).
    """
    if _PIXEL_DATA not in ds:
        return None
    for tag, keyword in PIXEL_ATTRIBUTES:
        where = f"DICOM100: {tag_text(tag)} -"
        if tag not in ds or ds[tag].value in (None, "", b""):
            return (
                f"{where} The required tag '{keyword}' is missing; an instance with Pixel Data "
                "needs it to be retrieved."
            )
        if keyword == "PhotometricInterpretation":
            continue
        number = _single_int(ds, tag)
        if number is None or number < 1:
            return f"{where} {keyword} must be one positive integer, got {ds[tag].value!r}."
        if keyword == "BitsAllocated" and number != 1 and number % 8:
            return (
                f"{where} BitsAllocated must be 1 or a multiple of 8 (PS3.5 8.1.1), not {number}."
            )
    return _native_length_problem(ds)


def _native_length_problem(ds: Dataset) -> str | None:
    raw = ds.get_item(_PIXEL_DATA, keep_deferred=True)
    length = raw.length if isinstance(raw, RawDataElement) else len(ds.PixelData)
    if length == 0xFFFFFFFF:
        return None  # encapsulated: frames are found through its fragments
    bits = int(ds.Rows) * int(ds.Columns) * int(ds.SamplesPerPixel) * int(ds.BitsAllocated)
    # 1-bit frames are packed one after another without padding; others are whole bytes.
    needed = (number_of_frames(ds) * bits + 7) // 8
    if length < needed:
        return (
            f"DICOM100: {tag_text(_PIXEL_DATA)} - Pixel Data has {length} bytes; NumberOfFrames × "
            f"Rows × Columns × SamplesPerPixel × BitsAllocated / 8 needs {needed}."
        )
    return None
