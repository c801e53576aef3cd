"""DICOM JSON (PS3.18 F.2) helpers on top of pydicom's own ``Dataset.from_json``.

Both ends use these: the client to turn metadata into Datasets and read values, the server to
resolve the attribute ids of QIDO queries, the display to title and decode frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset

_HEX = frozenset("0123456789abcdefABCDEF")
TAG_DIGITS = 8  # a tag as eight hex digits, e.g. 00100010


def tag_of(attribute_id: str) -> int | None:
    """Resolve an attribute id, a keyword (case-sensitive) or eight hex digits, to a tag.

    PS3.18 8.3.4.1: a QIDO attributeID is a keyword or a tag as eight hexadecimal digits.

    Parameters
    ----------
    attribute_id : str
        E.g. ``"PatientName"`` or ``"00100010"``.

    Returns
    -------
    int or None
        The tag, or None when ``attribute_id`` is neither.
    """
    if len(attribute_id) == TAG_DIGITS and set(attribute_id) <= _HEX:
        return int(attribute_id, 16)
    tag = tag_for_keyword(attribute_id)
    return int(tag) if tag is not None else None


def key_of(tag: int) -> str:
    """Return the key of a tag in a DICOM JSON object (eight upper-case hex digits).

    Parameters
    ----------
    tag : int
        The tag.

    Returns
    -------
    str
        E.g. ``"00100010"``.
    """
    return f"{tag:08X}"


def tag_text(tag: int) -> str:
    """Return a tag as people write it in messages, ``(gggg,eeee)``.

    Parameters
    ----------
    tag : int
        The tag.

    Returns
    -------
    str
        E.g. ``(0028,0010)``.
    """
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def first_value(item: Mapping[str, Any], tag: int | str) -> Any:
    """Return the first value of an element of a DICOM JSON object, or None.

    Parameters
    ----------
    item : mapping
        A DICOM JSON object (a QIDO result or metadata).
    tag : int or str
        The tag, as an int or its eight-hex-digit key.

    Returns
    -------
    Any
        The value (a PN is its Alphabetic string), or None when absent or empty.
    """
    element = item.get(key_of(tag) if isinstance(tag, int) else tag.upper())
    if not isinstance(element, Mapping) or not element.get("Value"):
        return None
    value = element["Value"][0]
    if isinstance(value, Mapping) and element.get("vr") == "PN":
        return value.get("Alphabetic")
    return value


def to_dataset(item: Mapping[str, Any] | Dataset) -> Dataset:
    """Convert a DICOM JSON object to a pydicom Dataset; bulk data URIs are not fetched.

    Parameters
    ----------
    item : mapping or Dataset
        A DICOM JSON object (a Dataset is returned as it is).

    Returns
    -------
    Dataset
        The dataset; elements given only by ``BulkDataURI`` are empty.
    """
    if isinstance(item, Dataset):
        return item
    return Dataset.from_json(dict(item), bulk_data_uri_handler=lambda *_: b"")
