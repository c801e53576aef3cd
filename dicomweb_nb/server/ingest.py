"""Read and validate one stored part: required attributes, UIDs, searchable values, metadata JSON.

Validation follows the reference server: the four UIDs and PatientID are required; an invalid
searchable attribute fails the instance in v1 (43264) and is a warning in v2 (the element is dropped
from the index and metadata, the file is kept as sent).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import ImplicitVRLittleEndian

from ..protocol.dicomjson import tag_text
from ..protocol.frames import number_of_frames
from ..protocol.status import (
    PROCESSING_FAILURE,
    VALIDATION_FAILED,
    WARNING_NOT_MATCHING_SOP_CLASS,
    WARNING_VALIDATION,
)
from ..protocol.uids import is_valid_uid
from .attributes import INDEXED, Searchable
from .ingest_checks import pixel_module_problem, transfer_syntax_problem
from .metadata_json import UndecodableElement, metadata_json, text_values
from .query import normalize_text

_MAX_LENGTH = {"LO": 64, "SH": 16, "CS": 16}
_PATIENT_ID = 0x00100020
_UID_TAGS = {
    "SOPClassUID": 0x00080016,
    "SOPInstanceUID": 0x00080018,
    "StudyInstanceUID": 0x0020000D,
    "SeriesInstanceUID": 0x0020000E,
}
_CS = re.compile(r"^[A-Z0-9 _]*$")


class InvalidInstance(Exception):
    """A part that fails: ``reason`` is the DICOM failure reason, ``str(exc)`` says why."""

    def __init__(
        self,
        reason: int,
        message: str,
        sop_class_uid: str | None = None,
        sop_instance_uid: str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.sop_class_uid = sop_class_uid
        self.sop_instance_uid = sop_instance_uid


@dataclass
class ParsedInstance:
    """What the server keeps of a valid instance besides its file."""

    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class_uid: str
    transfer_syntax: str
    frames: int
    columns: dict[str, str | None]
    metadata_json: str
    warnings: list[str] = field(default_factory=list)
    warning_reason: int | None = None
    multi_valued: bool = False


def _vr_problem(vr: str, value: str) -> str | None:
    if vr == "DA":
        if not re.fullmatch(r"\d{8}", value):
            return "one of the date values does not match the pattern YYYYMMDD"
        try:
            dt.datetime.strptime(value, "%Y%m%d")
        except ValueError:
            return "the value is not a valid calendar date"
        return None
    if vr == "PN":
        groups = value.split("=")
        if len(groups) > 3:
            return "a person name has at most three component groups"
        for group in groups:
            if len(group) > 64:
                return "a component group exceeds 64 characters"
            if group.count("^") > 4:
                return "a component group has more than five components"
        return None
    if vr in _MAX_LENGTH and len(value) > _MAX_LENGTH[vr]:
        return f"value length exceeds the maximum of {_MAX_LENGTH[vr]} characters"
    if vr == "CS" and not _CS.match(value):
        return "value contains characters outside A-Z, 0-9, space and underscore"
    return None


def _values(ds: Dataset, attr: Searchable) -> list[str]:
    # From the bytes when that gives pydicom's strings: converting a dozen elements cost more
    # than the rest of the validation.
    texts = text_values(ds, attr.tag)
    if texts is not None:
        return texts
    elem = ds.get(attr.tag)
    if elem is None or elem.value is None or elem.value == "":
        return []
    value = elem.value
    items = list(value) if isinstance(value, list | tuple) or elem.VM > 1 else [value]
    return [str(v) for v in items]


def _uid_or_none(ds: Dataset, keyword: str) -> str | None:
    # For messages: the UID as sent, or None. Several values go through pydicom (str of a list).
    texts = text_values(ds, _UID_TAGS[keyword])
    if texts is not None and len(texts) <= 1:
        return (texts[0] if texts else "").rstrip(" \x00") or None
    return str(ds.get(keyword, "") or "").rstrip(" \x00") or None


def _required_uid(ds: Dataset, keyword: str, sop: tuple[str | None, str | None]) -> str:
    texts = text_values(ds, _UID_TAGS[keyword])
    if texts is None:
        value = ds.get(keyword)
        text = str(value).rstrip(" \x00") if value is not None else ""
        one = isinstance(value, str)
    elif len(texts) > 1:
        # pydicom's value was a list, whose str() is never empty: the same answer as before.
        raise InvalidInstance(VALIDATION_FAILED, f"{keyword} must have exactly one value.", *sop)
    else:
        text, one = (texts[0] if texts else "").rstrip(" \x00"), True
    if not text:
        raise InvalidInstance(VALIDATION_FAILED, f"{keyword} is missing or empty.", *sop)
    if not one or "\\" in text:
        raise InvalidInstance(VALIDATION_FAILED, f"{keyword} must have exactly one value.", *sop)
    if not is_valid_uid(text):
        raise InvalidInstance(
            VALIDATION_FAILED,
            f'{keyword} "{text}" is not a valid UID (digits and dots, at most 64 characters).',
            *sop,
        )
    return text


def _metadata_json(ds: Dataset, dropped: set[int]) -> str:
    try:
        return metadata_json(ds, dropped)
    except UndecodableElement as exc:
        raise InvalidInstance(
            VALIDATION_FAILED, f"An element cannot be decoded ({exc}): {exc.__cause__}"
        ) from exc.__cause__


def _check_complete(ds: Dataset, size: int) -> None:
    # Large values are deferred, not read: check that the part really holds them, so a
    # truncated upload fails instead of being stored half.
    # items(), not iteration (which would read deferred values) nor get_item per key (a Tag()
    # and a BaseTag comparison in Python each): the elements as stored.
    for tag, raw in list(ds.items()):
        if (
            isinstance(raw, RawDataElement)
            and raw.length != 0xFFFFFFFF
            and raw.value_tell + raw.length > size
        ):
            sop = (
                str(ds.get("SOPClassUID", "") or "") or None,
                str(ds.get("SOPInstanceUID", "") or "") or None,
            )
            raise InvalidInstance(
                VALIDATION_FAILED,
                f"The file is truncated: element {tag_text(int(tag))} needs "
                f"{raw.value_tell + raw.length} bytes but the part has {size}.",
                *sop,
            )


def parse_instance(part: Path | bytes, version: str) -> ParsedInstance:
    """Read a received Part-10 instance and decide whether, and how, it is stored.

    Parameters
    ----------
    part : Path or bytes
        The file as received, or its bytes (read in place: large values stay unread until the
        metadata needs them).
    version : str
        The API version of the request (``"1.0-prerelease"``, ``"1"`` or ``"2"``).

    Returns
    -------
    ParsedInstance
        The UIDs, index values, metadata JSON and any warnings.

    Raises
    ------
    InvalidInstance
        When the part is not readable DICOM (43264) or fails validation (43264).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            source = io.BytesIO(part) if isinstance(part, bytes) else part
            ds = pydicom.dcmread(source, defer_size=1024)
            ds.get("SOPInstanceUID")  # forces the first elements to parse
    except OSError as exc:
        # The received file could not be read back (not the sender's fault); no path in words.
        raise InvalidInstance(
            PROCESSING_FAILURE, f"The received part could not be read: {exc.strerror or exc}"
        ) from exc
    except (InvalidDicomError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInstance(
            VALIDATION_FAILED, f"Not a readable DICOM Part 10 file: {exc}"
        ) from exc
    except Exception as exc:
        raise InvalidInstance(PROCESSING_FAILURE, f"The file could not be parsed: {exc}") from exc
    _check_complete(ds, len(part) if isinstance(part, bytes) else part.stat().st_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _validate(ds, version)
        except InvalidInstance:
            raise
        except Exception as exc:
            # A file pydicom opens but cannot decode further (a corrupt element, a bad length).
            raise InvalidInstance(
                VALIDATION_FAILED, f"The file is not valid DICOM: {type(exc).__name__}: {exc}"
            ) from exc


def _validate(ds: Dataset, version: str) -> ParsedInstance:
    ident = (_uid_or_none(ds, "SOPClassUID"), _uid_or_none(ds, "SOPInstanceUID"))
    # Retrieval puts the transfer syntax in a header and the UIDs in paths and URLs: all checked.
    raw_syntax = getattr(ds.file_meta, "TransferSyntaxUID", None)
    problem = transfer_syntax_problem(raw_syntax)
    if problem is not None:
        raise InvalidInstance(VALIDATION_FAILED, problem, *ident)
    transfer_syntax = str(raw_syntax).rstrip(" \x00")
    sop_class_uid = _required_uid(ds, "SOPClassUID", ident)
    study = _required_uid(ds, "StudyInstanceUID", ident)
    series = _required_uid(ds, "SeriesInstanceUID", ident)
    sop = _required_uid(ds, "SOPInstanceUID", ident)
    problem = pixel_module_problem(ds)
    if problem is not None:
        raise InvalidInstance(VALIDATION_FAILED, problem, *ident)

    comments: list[str] = []
    texts = text_values(ds, _PATIENT_ID)
    if texts is None:
        patient_id = ds.get("PatientID")
        missing = patient_id is None or not str(patient_id).strip()
    else:
        missing = not texts or (len(texts) == 1 and not texts[0].strip())  # several: present
    if missing:
        if version != "2":
            raise InvalidInstance(VALIDATION_FAILED, "PatientID is missing or empty.", *ident)
        comments.append("DICOM100: (0010,0020) - The required attribute PatientID is empty.")

    columns: dict[str, str | None] = {}
    dropped: set[int] = set()
    multi = False
    for attr in INDEXED:
        if attr.vr == "UI":
            continue
        values = _values(ds, attr)
        if not values:
            continue
        multi = multi or len(values) > 1
        problem = _vr_problem(attr.vr, values[0])
        if problem is not None:
            text = (
                f'DICOM100: {tag_text(attr.tag)} - Content "{values[0]}" does not validate '
                f"VR {attr.vr}: {problem}."
            )
            if version != "2":
                raise InvalidInstance(VALIDATION_FAILED, text, *ident)
            comments.append(text)
            dropped.add(attr.tag)
            continue
        columns[attr.column] = values[0] if attr.vr == "DA" else normalize_text(values[0])

    frames = 0
    if "PixelData" in ds or "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
        frames = number_of_frames(ds)
    parsed = ParsedInstance(
        study_uid=study,
        series_uid=series,
        sop_uid=sop,
        sop_class_uid=sop_class_uid,
        transfer_syntax=transfer_syntax,
        frames=frames,
        columns=columns,
        metadata_json=_metadata_json(ds, dropped),
        warnings=comments,
        multi_valued=multi,
    )
    if comments:
        parsed.warning_reason = WARNING_VALIDATION
    elif transfer_syntax == ImplicitVRLittleEndian:
        # The reference cannot check VRs of implicit VR data and says so with 45063.
        parsed.warning_reason = WARNING_NOT_MATCHING_SOP_CLASS
    return parsed
