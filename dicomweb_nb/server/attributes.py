"""Which DICOM attributes the server indexes, searches and returns, per query level and API version.

The lists follow the reference server's conformance statement (Medical Imaging Server for DICOM,
"Supported search parameters" and "Search response"); docs/reference-server.md
sums them up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword

from ..protocol.dicomjson import tag_of, tag_text

Level = Literal["study", "series", "instance"]


@dataclass(frozen=True)
class Searchable:
    """An attribute that can be used as a QIDO filter, and the index column that holds it."""

    keyword: str
    tag: int
    vr: str
    level: Level
    column: str


def _s(keyword: str, level: Level, column: str) -> Searchable:
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    return Searchable(keyword, tag, dictionary_VR(tag), level, column)


SEARCHABLE: tuple[Searchable, ...] = (
    _s("StudyInstanceUID", "study", "study_uid"),
    _s("PatientName", "study", "patient_name"),
    _s("PatientID", "study", "patient_id"),
    _s("PatientBirthDate", "study", "patient_birth_date"),
    _s("AccessionNumber", "study", "accession_number"),
    _s("ReferringPhysicianName", "study", "referring_physician_name"),
    _s("StudyDate", "study", "study_date"),
    _s("StudyDescription", "study", "study_description"),
    _s("ModalitiesInStudy", "study", "modality"),
    _s("SeriesInstanceUID", "series", "series_uid"),
    _s("Modality", "series", "modality"),
    _s("PerformedProcedureStepStartDate", "series", "pps_start_date"),
    _s("ManufacturerModelName", "series", "manufacturer_model_name"),
    _s("SOPInstanceUID", "instance", "sop_uid"),
)
SEARCHABLE_BY_TAG: dict[int, Searchable] = {s.tag: s for s in SEARCHABLE}

# The attributes copied into index columns at ingest (ModalitiesInStudy is computed, not stored).
INDEXED: tuple[Searchable, ...] = tuple(s for s in SEARCHABLE if s.keyword != "ModalitiesInStudy")

# Computed aggregates, returned only when asked for with includefield (or includefield=all).
COMPUTED: dict[Level, tuple[str, ...]] = {
    "study": ("ModalitiesInStudy", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"),
    "series": ("NumberOfSeriesRelatedInstances",),
    "instance": (),
}

_V2_DEFAULTS: dict[Level, tuple[str, ...]] = {
    "study": (
        "StudyInstanceUID",
        "StudyDate",
        "StudyDescription",
        "AccessionNumber",
        "ReferringPhysicianName",
        "PatientName",
        "PatientID",
        "PatientBirthDate",
    ),
    "series": (
        "SeriesInstanceUID",
        "Modality",
        "PerformedProcedureStepStartDate",
        "ManufacturerModelName",
    ),
    "instance": ("SOPInstanceUID",),
}

_V1_DEFAULTS: dict[Level, tuple[str, ...]] = {
    "study": (
        "SpecificCharacterSet",
        "StudyDate",
        "StudyTime",
        "AccessionNumber",
        "InstanceAvailability",
        "ReferringPhysicianName",
        "TimezoneOffsetFromUTC",
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "StudyInstanceUID",
        "StudyID",
    ),
    "series": (
        "SpecificCharacterSet",
        "Modality",
        "TimezoneOffsetFromUTC",
        "SeriesDescription",
        "SeriesInstanceUID",
        "PerformedProcedureStepStartDate",
        "PerformedProcedureStepStartTime",
        "RequestAttributesSequence",
    ),
    "instance": (
        "SpecificCharacterSet",
        "SOPClassUID",
        "SOPInstanceUID",
        "InstanceAvailability",
        "TimezoneOffsetFromUTC",
        "InstanceNumber",
        "Rows",
        "Columns",
        "BitsAllocated",
        "NumberOfFrames",
    ),
}

_ALL_EXTRA: dict[Level, tuple[str, ...]] = {
    "study": (
        "StudyDescription",
        "PatientAge",
        "PatientSize",
        "PatientWeight",
        "Occupation",
        "AdditionalPatientHistory",
        "NameOfPhysiciansReadingStudy",
        "AdmittingDiagnosesDescription",
        "AnatomicRegionsInStudyCodeSequence",
        "ProcedureCodeSequence",
        "ReferencedStudySequence",
    ),
    "series": ("SeriesNumber", "Laterality", "SeriesDate", "SeriesTime"),
    "instance": (),
}


def _tags(keywords: tuple[str, ...]) -> tuple[int, ...]:
    out = []
    for kw in keywords:
        tag = tag_for_keyword(kw)
        assert tag is not None, kw
        out.append(tag)
    return tuple(out)


def default_tags(level: Level, version: str) -> tuple[int, ...]:
    """Return the tags a QIDO result carries at ``level`` without any ``includefield``.

    Parameters
    ----------
    level : {"study", "series", "instance"}
        The query level.
    version : str
        The API version from the URL (``"1.0-prerelease"``, ``"1"`` or ``"2"``).

    Returns
    -------
    tuple of int
        The tags, in the reference's order.
    """
    table = _V2_DEFAULTS if version == "2" else _V1_DEFAULTS
    return _tags(table[level])


def all_tags(level: Level) -> tuple[int, ...]:
    """Return the tags of ``includefield=all`` at ``level`` (the v1 defaults plus the extras).

    Parameters
    ----------
    level : {"study", "series", "instance"}
        The query level.

    Returns
    -------
    tuple of int
        The tags.
    """
    return _tags(_V1_DEFAULTS[level] + _ALL_EXTRA[level])


def computed_tags(level: Level) -> tuple[int, ...]:
    """Return the tags of the aggregate attributes computed at ``level``.

    Parameters
    ----------
    level : {"study", "series", "instance"}
        The query level.

    Returns
    -------
    tuple of int
        The tags.
    """
    return _tags(COMPUTED[level])


def resolve_attribute(name: str) -> int | None:
    """Resolve a QIDO attribute id, a keyword (case-sensitive) or eight hex digits, to a tag.

    Parameters
    ----------
    name : str
        The attribute id as it appears in the query string.

    Returns
    -------
    int or None
        The tag, or None when ``name`` is neither a known keyword nor eight hex digits.
    """
    return tag_of(name)


def keyword_of(tag: int) -> str:
    """Return the keyword of ``tag``, or its ``(gggg,eeee)`` form when it has none.

    Parameters
    ----------
    tag : int
        The tag.

    Returns
    -------
    str
        The keyword or the tag in parentheses.
    """
    return keyword_for_tag(tag) or tag_text(tag)
