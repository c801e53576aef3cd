"""Words for people from DICOM JSON: names, dates and times as they are read, blanks for gaps."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..client.dicomjson import first_value

#: The study table's columns: what a person reads first, UIDs last.
STUDY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Patient", "PatientName"),
    ("Patient ID", "PatientID"),
    ("Date", "StudyDate"),
    ("Time", "StudyTime"),
    ("Description", "StudyDescription"),
    ("Modalities", "ModalitiesInStudy"),
    ("Series", "NumberOfStudyRelatedSeries"),
    ("Instances", "NumberOfStudyRelatedInstances"),
    ("Accession", "AccessionNumber"),
    ("Study UID", "StudyInstanceUID"),
)


def person(value: Any) -> str:
    """Return a person name as it is read: ``"Müller, Anna"``; the ideographic group after it.

    Parameters
    ----------
    value : Any
        A PN value: a DICOM string (``"Wang^Xiaoming=王^小明"``) or a DICOM JSON object.

    Returns
    -------
    str
        ``"Family, Given Middle"`` (``"Wang, Xiaoming 王小明"``), or ``""``.
    """
    if isinstance(value, Mapping):
        groups = [str(value.get(k, "") or "") for k in ("Alphabetic", "Ideographic")]
    else:
        groups = [*str(value or "").split("="), ""][:2]
    family, _, rest = groups[0].partition("^")
    given = " ".join(p for p in rest.split("^") if p)
    name = f"{family}, {given}" if family and given else family or given
    ideographic = "".join(groups[1].split("^"))
    return f"{name} {ideographic}".strip()


def date(value: Any) -> str:
    """Return a DICOM date (``"20200320"``) as ``"2020-03-20"``; ``""`` when missing."""
    text = str(value or "").strip()
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


def time(value: Any) -> str:
    """Return a DICOM time (``"114800.000"``) as ``"11:48"`` (with seconds when not zero)."""
    text = str(value or "").strip().split(".")[0]
    if len(text) >= 4 and text[:4].isdigit():
        seconds = text[4:6]
        return f"{text[:2]}:{text[2:4]}" + (f":{seconds}" if seconds and seconds != "00" else "")
    return text


def text(item: Mapping[str, Any], keyword: str) -> str:
    """Return one attribute of a DICOM JSON object as words; ``""`` when missing.

    Parameters
    ----------
    item : mapping
        A DICOM JSON object.
    keyword : str
        The attribute.

    Returns
    -------
    str
        Names, dates and times formatted; several values joined by ``", "``.
    """
    if keyword == "PatientName":
        element = item.get("00100010") or {}
        values = element.get("Value") or [""]
        return person(values[0])
    if keyword.endswith("Date"):
        return date(first_value(item, keyword))
    if keyword.endswith("Time"):
        return time(first_value(item, keyword))
    if keyword == "ModalitiesInStudy":
        element = item.get("00080061") or {}
        return ", ".join(str(v) for v in element.get("Value") or [])
    value = first_value(item, keyword)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def joined(item: Mapping[str, Any], *keywords: str, empty: str = "(no description)") -> str:
    """Return several attributes as one line, ``" · "`` between those present."""
    parts = [text(item, k) for k in keywords]
    return " · ".join(p for p in parts if p) or empty


def study_table(items: Sequence[Mapping[str, Any]]) -> str:
    """Return the found studies as an HTML table that scrolls inside the panel's width.

    Parameters
    ----------
    items : sequence of mapping
        QIDO study results.

    Returns
    -------
    str
        HTML: readable columns first (:data:`STUDY_COLUMNS`), UIDs last, blanks for gaps.
    """
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h, _ in STUDY_COLUMNS)
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(text(item, key))}</td>" for _, key in STUDY_COLUMNS)
        + "</tr>"
        for item in items
    )
    return (
        "<div style='max-width:100%;overflow-x:auto'>"
        f"<table style='white-space:nowrap'><tr>{head}</tr>{rows}</table></div>"
    )
