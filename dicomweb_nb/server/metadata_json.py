"""The metadata JSON of a received instance, read from its elements' bytes where that is safe.

What WADO-RS ``/metadata`` answers (and the index stores) has always been::

    json.dumps(ds.to_json_dict(), separators=(",", ":"), ensure_ascii=False)

after the dropped elements and the bulk data elements are removed. ``to_json_dict`` first turns
every element into a DataElement (hooks, value classes, validation, MultiValue), which was half of
the time a STOW request spent parsing an instance. Most elements are short text or small binary
numbers whose DICOM JSON can be read straight from the bytes. This module does that for the
VRs and values where pydicom's result is certain and hands every other element to pydicom's own
``DataElement.to_json_dict``, so the text stays the same byte for byte. The rules reproduced here
are those of pydicom 3.0 (``values.py``, ``DataElement.to_json_dict``, ``jsonrep.py``); the
tests compare both paths over generated datasets. ``text_values`` uses the same decoders to give
ingest the strings it checks and indexes without converting those elements either.

Like ingest, callers are expected to ignore pydicom's warnings: with warnings turned into errors
pydicom's path would raise where this one does not.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable, Collection, Sequence
from io import BufferedIOBase
from typing import Any

import pydicom.hooks
import pydicom.tag
import pydicom.valuerep
from pydicom import config
from pydicom.charset import default_encoding
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.valuerep import DSfloat, PersonName

from ..protocol.dicomjson import tag_text

# PS3.18 F.2.2: bulk data VRs are not inlined; the reference leaves them out of metadata entirely.
BULK_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})

_UNDEFINED_LENGTH = 0xFFFFFFFF
# pydicom adds 65536 to a negative first value of these (its raw_element_value hook); they are
# rare, so they go to pydicom rather than have the rule copied.
_LUT_DESCRIPTORS = frozenset(
    getattr(pydicom.tag, "_LUT_DESCRIPTOR_TAGS", (0x00281101, 0x00281102, 0x00281103, 0x00283002))
)
# A DS or IS value that float() and int() read the way pydicom's DSfloat and IS do. Anything
# else ("NaN", "inf", underscores, other whitespace, empty values in a list) goes to pydicom.
_DS = re.compile(r" *[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})? *")
_IS = re.compile(r" *[+-]?[0-9]{1,15} *")
# pydicom's names of the codecs where a decoded person name encodes back unchanged (it
# re-encodes each PN value): UTF-8 and the single-byte ISO 8859 sets. The Japanese ones have
# pydicom's own encoders, the Chinese and Korean ones are left to it too.
_PN_CODECS = frozenset(
    {"UTF8", "iso8859", "latin_1", "iso8859_2", "iso8859_3", "iso8859_4"}
    | {"iso_ir_126", "iso_ir_127", "iso_ir_138", "iso_ir_144", "iso_ir_148", "iso_ir_166"}
)
_INT_VRS = frozenset({"IS", "SL", "SS", "SV", "UL", "US", "UV"})
_FLOAT_VRS = frozenset({"DS", "FD", "FL"})
_TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DT", "LO", "LT", "SH", "ST", "TM", "UC", "UI", "UR", "UT"}
)
# The VRs whose already converted values are encoded here (the rest go to pydicom).
_CONVERTED_VRS = _INT_VRS | _FLOAT_VRS | _TEXT_VRS | {"PN", "AT"}


class UndecodableElement(Exception):
    """pydicom could not turn an element into DICOM JSON; its exception is ``__cause__``.

    Parameters
    ----------
    tag : int
        The failing element; for a failure inside a sequence, the sequence at the top level.
    """

    def __init__(self, tag: int) -> None:
        super().__init__(tag_text(tag))
        self.tag = tag


class _Doubt(Exception):
    """Raised where an element is left to pydicom."""


def metadata_json(ds: Dataset, dropped: Collection[int] = ()) -> str:
    """Return the DICOM JSON of ``ds`` without the ``dropped`` and the bulk data elements.

    The text is what ``json.dumps(ds.to_json_dict(), separators=(",", ":"),
    ensure_ascii=False)`` gives after those elements are deleted (in sequence items too, bulk
    data only). ``ds`` keeps its elements; those this module leaves to pydicom are converted.

    Parameters
    ----------
    ds : Dataset
        A dataset read with ``dcmread`` (deferred values are read when needed).
    dropped : collection of int
        Tags of the top level left out (values that failed validation).

    Returns
    -------
    str
        Compact DICOM JSON, non-ASCII text as is.

    Raises
    ------
    UndecodableElement
        When pydicom cannot convert an element (the first in order), from pydicom's exception.
    Exception
        Whatever pydicom raises reading a sequence, as ``Dataset[tag]`` does.
    """
    fast = _pydicom_defaults()
    data, failure = _walk(ds, frozenset(int(t) for t in dropped), fast)
    if failure is not None:
        tag, exc = failure
        raise UndecodableElement(tag) from exc
    try:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        # pydicom turns DS "NaN" or "1e999" into NaN or Infinity, which JSON has no word for:
        # served, they made a whole study's metadata unreadable to every JSON parser.
        key = next(k for k, value in data.items() if not _json_safe(value))
        raise UndecodableElement(int(key, 16)) from ValueError(NOT_FINITE)


NOT_FINITE = "a value is not a finite number (NaN or infinity), which DICOM JSON cannot carry"


def _json_safe(value: object) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


def text_values(ds: Dataset, tag: int) -> list[str] | None:
    """Return the values of a text element as pydicom gives them, read from its bytes.

    What ``[str(v) for v in ds[tag].value]`` gives (one value counting as a list of one), without
    converting the element: ingest checks and indexes a dozen of them, and converting cost more
    than all the rest of those checks.

    Parameters
    ----------
    ds : Dataset
        A dataset read with ``dcmread``.
    tag : int
        The element.

    Returns
    -------
    list of str or None
        The values; none for an absent or empty element. None when it is pydicom's to say: an
        element already converted, a VR other than text and PN, a value read later, anything
        the metadata JSON leaves to pydicom.
    """
    elem = ds.get_item(tag, keep_deferred=True)
    if elem is None:
        return []
    if not isinstance(elem, RawDataElement) or not _pydicom_defaults():
        return None
    vr = elem.VR
    if not vr:
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            return None
    try:
        value = _raw_bytes(elem)
        if vr == "PN":
            names = _pn_names(value, _text_encoding(ds)) if value else None
            return [] if names is None else ["=".join(groups) for groups in names]
        decode = _RAW.get(vr) if vr in _TEXT_VRS else None
        if decode is None:
            return None
        texts: list[str] | None = decode(value, True, _text_encoding(ds)) if value else None
    except _Doubt:
        return None
    return texts or []


def _pydicom_defaults() -> bool:
    # The rules below are pydicom's with its default settings; any change of those (a hook, a
    # callback, numpy or Decimal values, date objects, strict reading) leaves it all to pydicom.
    hooks = pydicom.hooks.hooks
    return (
        config.data_element_callback is None
        and not hooks.raw_element_kwargs
        and hooks.raw_element_vr is pydicom.hooks.raw_element_vr
        and hooks.raw_element_value is pydicom.hooks.raw_element_value
        and not config.use_DS_numpy
        and not config.use_IS_numpy
        and not config.use_DS_decimal
        and pydicom.valuerep.DSclass is DSfloat
        and not config.datetime_conversion
        and not config.use_none_as_empty_text_VR_value
        and config.settings.reading_validation_mode != config.RAISE
    )


def _walk(
    ds: Dataset, dropped: Collection[int], fast: bool
) -> tuple[dict[str, Any], tuple[int, Exception] | None]:
    """Return the JSON dict of one dataset and its first failing element, if any.

    A failing element does not stop the walk: the old code read every sequence (stripping bulk
    data) before converting anything, so an error reading a sequence further on wins.
    """
    out: dict[str, Any] = {}
    failure: tuple[int, Exception] | None = None
    encoding = _text_encoding(ds) if fast else default_encoding
    # items(), not get_item(): the elements as stored, raw or converted, without a Tag() and a
    # BaseTag comparison (in Python) per element.
    for key, elem in list(ds.items()):
        if dropped and int(key) in dropped:
            continue
        vr = elem.VR
        if not vr:  # implicit VR: the dictionary's, as pydicom's raw_element_vr hook does
            try:
                vr = dictionary_VR(key)
            except KeyError:
                continue  # unknown (private tags among them): UN, bulk data
        if vr in BULK_VRS or " or " in vr:
            continue  # bulk data, or an ambiguous VR only bulk data can have here
        if vr == "SQ":
            element = ds[key]
            items = []
            for item in element.value:
                item_data, item_failure = _walk(item, (), fast)
                items.append(item_data)
                if item_failure is not None and failure is None:
                    failure = (key, item_failure[1])
            out[f"{key:08X}"] = {"vr": element.VR, "Value": items}
            continue
        if failure is not None:
            continue  # only sequences can still change the outcome
        try:
            if not fast:
                raise _Doubt
            out[f"{key:08X}"] = _fast_element(key, vr, elem, encoding)
        except _Doubt:
            try:
                out[f"{key:08X}"] = _pydicom_element(ds, key, fast)
            except Exception as exc:
                failure = (key, exc)
    return out, failure


def _fast_element(key: int, vr: str, elem: Any, encoding: str) -> dict[str, Any]:
    if isinstance(elem, RawDataElement):
        decode = _RAW.get(vr)
        if decode is None:
            raise _Doubt
        value = _raw_bytes(elem)
        if vr == "SS" and key in _LUT_DESCRIPTORS:
            raise _Doubt
        values = decode(value, elem.is_little_endian, encoding) if value else None
        return {"vr": vr} if values is None else {"vr": vr, "Value": values}
    if isinstance(elem, DataElement) and vr in _CONVERTED_VRS:
        values = _converted(vr, elem.value)
        return {"vr": elem.VR} if values is None else {"vr": elem.VR, "Value": values}
    raise _Doubt


def _raw_bytes(elem: RawDataElement) -> bytes:
    # An empty value is b"" or, in implicit VR files, None; a value not read yet (deferred) or
    # of undefined length is pydicom's to read.
    if elem.length == 0:
        return b""
    if elem.value is None or elem.length == _UNDEFINED_LENGTH:
        raise _Doubt
    value: bytes = elem.value
    return value


def _pydicom_element(ds: Dataset, key: int, fast: bool) -> dict[str, Any]:
    element = ds[key]
    # Ours where pydicom's conversion left a value of the usual kind: DataElement.to_json_dict
    # costs several times more.
    if fast and element.VR in _CONVERTED_VRS:
        try:
            values = _converted(element.VR, element.value)
        except _Doubt:
            pass
        else:
            return {"vr": element.VR} if values is None else {"vr": element.VR, "Value": values}
    result: dict[str, Any] = element.to_json_dict(None, 1024)
    return result


def _text_encoding(ds: Dataset) -> str:
    # What Dataset.__getitem__ decodes text with: the first of the dataset's (or its parent's)
    # character sets, pydicom's default when none.
    encodings = ds.original_character_set or ds._character_set
    if isinstance(encodings, str):
        return encodings or default_encoding
    return encodings[0] if encodings else default_encoding


# Raw values: the bytes of one element (not empty) → its "Value" list, or None for no value.
# Each follows pydicom's converter for the VR, then DataElement.to_json_dict on its result.


def _decoded(value: bytes, encoding: str) -> str:
    # pydicom decodes with the first character set unless there is an escape sequence, and
    # replaces what does not decode; both of those are pydicom's.
    if b"\x1b" in value:
        raise _Doubt
    try:
        return value.decode(encoding)
    except (UnicodeError, LookupError):
        raise _Doubt from None


def _one_or_many(parts: list[str]) -> list[str] | None:
    # One value: a string, empty = no value. Several: a list, empty strings included.
    if len(parts) == 1:
        return parts if parts[0] else None
    return parts


def _plain(value: bytes, _little: bool, _encoding: str) -> list[str] | None:
    # AS, CS, DA, DT, TM: padding stripped from the whole value, then split.
    return _one_or_many(value.decode("latin-1").rstrip(" \x00").split("\\"))


def _ae(value: bytes, _little: bool, _encoding: str) -> list[str] | None:
    # AE: each value stripped of any whitespace on both sides (NUL is kept).
    return _one_or_many([part.strip() for part in value.decode("latin-1").split("\\")])


def _ui(value: bytes, _little: bool, _encoding: str) -> list[str] | None:
    # UI: padding stripped, then pydicom's UID class strips each value of any whitespace.
    text = value.decode("latin-1").rstrip(" \x00")
    return _one_or_many([part.strip() for part in text.split("\\")])


def _ur(value: bytes, _little: bool, _encoding: str) -> list[str] | None:
    # UR: one value, trailing whitespace stripped, backslashes kept.
    text = value.decode("latin-1").rstrip()
    return [text] if text else None


def _text_many(value: bytes, _little: bool, encoding: str) -> list[str] | None:
    # SH, LO, UC: split first, then each value loses its trailing NULs and spaces.
    parts = _decoded(value, encoding).split("\\")
    return _one_or_many([part.rstrip("\x00 ") for part in parts])


def _text_one(value: bytes, _little: bool, encoding: str) -> list[str] | None:
    # ST, LT, UT: one value, backslashes kept.
    text = _decoded(value, encoding).rstrip("\x00 ")
    return [text] if text else None


def _pn(value: bytes, _little: bool, encoding: str) -> list[dict[str, str]] | None:
    names = _pn_names(value, encoding)
    return None if names is None else [_pn_groups(groups) for groups in names]


def _pn_names(value: bytes, encoding: str) -> list[list[str]] | None:
    # PN: trailing NULs and spaces stripped from the bytes (not from each value); each value
    # split into component groups with empty groups at the end removed.
    if encoding not in _PN_CODECS:
        raise _Doubt
    parts = _decoded(value.rstrip(b"\x00 "), encoding).split("\\")
    names = []
    for part in parts:
        groups = part.split("=")
        while groups and not groups[-1]:
            groups.pop()
        if not groups:
            if len(parts) == 1:
                return None  # an empty name is no value
            raise _Doubt  # an empty name among several fails in pydicom's JSON
        names.append(groups)
    return names


def _pn_groups(groups: Sequence[str]) -> dict[str, str]:
    name = {"Alphabetic": groups[0]}
    if len(groups) > 1:
        name["Ideographic"] = groups[1]
    if len(groups) > 2:
        name["Phonetic"] = groups[2]
    return name


def _ds(value: bytes, _little: bool, _encoding: str) -> list[float] | None:
    # DS: the whole value stripped of whitespace, then of trailing spaces and NULs, then split.
    text = value.decode("latin-1").strip().rstrip(" \x00")
    if not text:
        return None
    numbers = []
    for part in text.split("\\"):
        if not _DS.fullmatch(part):
            raise _Doubt
        numbers.append(float(part))  # 1e999 is inf, as in DSfloat; metadata_json refuses it
    return numbers


def _is(value: bytes, _little: bool, _encoding: str) -> list[int] | None:
    # IS: trailing spaces and NULs stripped, then split. Fifteen digits at most: pydicom keeps
    # an IS whose float differs from its int (beyond 2**53) as a float and truncates it.
    text = value.decode("latin-1").rstrip(" \x00")
    if not text:
        return None
    numbers = []
    for part in text.split("\\"):
        if not _IS.fullmatch(part):
            raise _Doubt
        numbers.append(int(part))
    return numbers


def _binary(code: str) -> Callable[[bytes, bool, str], list[Any]]:
    size = struct.calcsize("<" + code)

    def decode(value: bytes, little: bool, _encoding: str) -> list[Any]:
        count, rest = divmod(len(value), size)
        if rest:
            raise _Doubt  # pydicom raises (or, if configured, makes it UN)
        return list(struct.unpack(f"{'<' if little else '>'}{count}{code}", value))

    return decode


def _at(value: bytes, little: bool, _encoding: str) -> list[str]:
    if len(value) % 4:
        raise _Doubt
    pairs = struct.iter_unpack("<HH" if little else ">HH", value)
    return [f"{group << 16 | element:08X}" for group, element in pairs]


_RAW: dict[str, Callable[[bytes, bool, str], list[Any] | None]] = {
    "AE": _ae,
    "AS": _plain,
    "CS": _plain,
    "DA": _plain,
    "DT": _plain,
    "TM": _plain,
    "UI": _ui,
    "UR": _ur,
    "SH": _text_many,
    "LO": _text_many,
    "UC": _text_many,
    "ST": _text_one,
    "LT": _text_one,
    "UT": _text_one,
    "PN": _pn,
    "DS": _ds,
    "IS": _is,
    "US": _binary("H"),
    "SS": _binary("h"),
    "UL": _binary("L"),
    "SL": _binary("l"),
    "UV": _binary("Q"),
    "SV": _binary("q"),
    "FL": _binary("f"),
    "FD": _binary("d"),
    "AT": _at,
}


def _converted(vr: str, value: Any) -> list[Any] | None:
    """Return the "Value" of a converted element as DataElement.to_json_dict makes it."""
    # DataElement.VM, then one value wrapped in a list (even a list of one: pydicom's quirk).
    values: list[Any]
    if value is None:
        return None
    if isinstance(value, str | bytes | PersonName):
        if not value:
            return None
        values = [value]
    elif isinstance(value, BufferedIOBase):
        raise _Doubt
    else:
        try:
            iter(value)
        except TypeError:
            count = 1
        else:
            try:
                count = len(value)
            except TypeError:
                raise _Doubt from None
        if count == 0:
            return None
        values = list(value) if count > 1 else [value]
    try:
        if vr == "PN":
            return [_pn_groups(name.components) for name in values]
        if vr == "AT":
            return [format(tag, "08X") for tag in values]
        # jsonrep.convert_to_python_number; pydicom's path raises where this one fails.
        if vr in _INT_VRS:
            return [int(number) for number in values]
        if vr in _FLOAT_VRS:
            return [float(number) for number in values]
    except Exception:
        raise _Doubt from None
    return values
