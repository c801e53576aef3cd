"""DICOM JSON (QIDO results, metadata) to pandas DataFrames. Pure functions.

One row per object, columns named by keyword in a stable order (UIDs and the level's key
attributes first, the rest by tag); values converted to what pandas can sort and filter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from pydicom.datadict import keyword_for_tag

KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "study": (
        "StudyInstanceUID",
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "StudyDate",
        "StudyTime",
        "AccessionNumber",
        "StudyDescription",
        "ModalitiesInStudy",
        "NumberOfStudyRelatedSeries",
        "NumberOfStudyRelatedInstances",
        "ReferringPhysicianName",
        "StudyID",
    ),
    "series": (
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "Modality",
        "SeriesNumber",
        "SeriesDescription",
        "SeriesDate",
        "SeriesTime",
        "BodyPartExamined",
        "NumberOfSeriesRelatedInstances",
    ),
    "instance": (
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "SOPInstanceUID",
        "SOPClassUID",
        "InstanceNumber",
        "Rows",
        "Columns",
        "NumberOfFrames",
    ),
}
_INT_VRS = frozenset({"IS", "SL", "SS", "UL", "US", "SV", "UV"})
_FLOAT_VRS = frozenset({"DS", "FL", "FD"})
UID_COLUMNS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
_PN_SUFFIXES = ("_ideographic", "_phonetic")


def column_name(tag: str) -> str:
    """Return the column name of an eight-hex-digit tag: its keyword, else ``(gggg,eeee)``.

    Parameters
    ----------
    tag : str
        E.g. ``"00100010"``.

    Returns
    -------
    str
        ``"PatientName"``, or ``"(0009,1001)"`` for a private or unknown tag.
    """
    try:
        keyword = keyword_for_tag(int(tag, 16))
    except ValueError:
        keyword = ""
    return keyword or f"({tag[:4].upper()},{tag[4:].upper()})"


def person_name(value: Any) -> dict[str, str]:
    """Split a DICOM JSON PN value into readable groups.

    Parameters
    ----------
    value : dict or str
        ``{"Alphabetic": "Doe^John", "Ideographic": …}`` or a bare string (some servers).

    Returns
    -------
    dict
        ``{"Alphabetic": "Doe, John", …}`` for the groups present: family name, comma, the other
        components; empty components dropped.
    """
    groups = value if isinstance(value, Mapping) else {"Alphabetic": str(value)}
    out = {}
    for group, text in groups.items():
        if not text:
            continue
        parts = [p.strip() for p in str(text).split("^")]
        family, rest = parts[0], " ".join(p for p in parts[1:] if p)
        readable = f"{family}, {rest}" if family and rest else family or rest
        if readable:
            out[group] = readable
    return out


def _bulk(element: Mapping[str, Any]) -> str | None:
    if "BulkDataURI" in element:
        return str(element["BulkDataURI"])
    if "InlineBinary" in element:
        encoded = str(element["InlineBinary"]).strip()
        size = len(encoded) * 3 // 4 - encoded[-2:].count("=")
        return f"<{size} bytes inline>"
    return None


def _scalar(vr: str, value: Any) -> Any:
    if value is None:
        return None
    if vr in _INT_VRS:
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return None
    if vr in _FLOAT_VRS:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if vr == "AT":
        text = str(value)
        return f"({text[:4]},{text[4:]})" if len(text) == 8 else text
    return str(value)


def _cells(name: str, element: Mapping[str, Any]) -> dict[str, Any]:
    vr = str(element.get("vr", "UN"))
    values = element.get("Value")
    if not values:
        return {name: _bulk(element)}
    if vr == "SQ":
        return {name: f"{len(values)} item{'s' if len(values) != 1 else ''}"}
    if vr == "PN":
        names = [person_name(v) for v in values]
        cells: dict[str, Any] = {}
        for group, suffix in (
            ("Alphabetic", ""),
            ("Ideographic", "_ideographic"),
            ("Phonetic", "_phonetic"),
        ):
            texts = [n.get(group) for n in names]
            if any(texts):
                cells[name + suffix] = texts[0] if len(texts) == 1 else texts
        return cells or {name: None}
    converted = [_scalar(vr, v) for v in values]
    return {name: converted[0] if len(converted) == 1 else converted}


def _vr_of(items: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    vrs: dict[str, str] = {}
    for item in items:
        for tag, element in item.items():
            if isinstance(element, Mapping):
                vrs.setdefault(column_name(tag), str(element.get("vr", "UN")))
    return vrs


def guess_level(items: Sequence[Mapping[str, Any]]) -> str:
    """Guess the query level of results from the UIDs they carry.

    Parameters
    ----------
    items : sequence of mapping
        DICOM JSON objects.

    Returns
    -------
    str
        ``"instance"`` when SOPInstanceUID is present, ``"series"`` for SeriesInstanceUID,
        else ``"study"``.
    """
    tags = {t for item in items for t in item}
    if "00080018" in tags:
        return "instance"
    if "0020000E" in tags:
        return "series"
    return "study"


def _parse_tm(text: Any) -> pd.Timedelta | Any:
    if not isinstance(text, str):
        return pd.NaT
    match = re.fullmatch(r"(\d{2}):?(\d{2})?:?(\d{2})?(?:\.(\d{1,6}))?", text.strip())
    if not match:
        return pd.NaT
    hours, minutes, seconds, fraction = match.groups()
    if int(hours) > 23 or int(minutes or 0) > 59 or int(seconds or 0) > 60:
        return pd.NaT
    micro = int((fraction or "0").ljust(6, "0"))
    return pd.Timedelta(
        hours=int(hours), minutes=int(minutes or 0), seconds=int(seconds or 0), microseconds=micro
    )


def _parse_dt(text: Any) -> pd.Timestamp | Any:
    if not isinstance(text, str):
        return pd.NaT
    match = re.fullmatch(
        r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?([+-]\d{4})?", text.strip()
    )
    if not match:
        return pd.NaT
    year, month, day, hour, minute, second, fraction, _ = match.groups()
    try:
        return pd.Timestamp(
            dt.datetime(
                int(year),
                int(month or 1),
                int(day or 1),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                int((fraction or "0").ljust(6, "0")),
            )
        )
    except ValueError:
        return pd.NaT


def _missing(value: Any) -> bool:
    # Cells absent from a row arrive as NaN/None; pd.isna would misread lists.
    return value is None or (not isinstance(value, (list, str)) and bool(pd.isna(value)))


def _number(value: Any, kind: type) -> Any:
    if _missing(value):
        return None
    try:
        return kind(value)
    except (TypeError, ValueError, OverflowError):
        return None


# pandas 3 has a dedicated text dtype ("str"); pandas 2 keeps text as object.
_TEXT_DTYPE: Any = "str" if int(pd.__version__.split(".")[0]) >= 3 else object


def _series(values: Sequence[Any], index: pd.Index, dtype: Any) -> pd.Series:
    series: pd.Series = pd.Series(values, index=index, dtype=dtype)
    return series


def _typed(column: pd.Series, vr: str) -> pd.Series:
    # Each conversion builds its values one by one and names its dtype outright, so an
    # all-empty, all-valid or mixed column gets the same dtype under pandas 2 and 3.
    values = list(column)
    index = column.index
    if any(isinstance(v, list) for v in values):
        return _series(values, index, object)
    if vr == "DA":
        # DA is exactly yyyymmdd; anything else (e.g. "2020-09-22") is NaT, not an error.
        dates = [_parse_dt(v) if not _missing(v) and len(str(v)) == 8 else pd.NaT for v in values]
        return _series(dates, index, "datetime64[ns]")
    if vr == "DT":
        stamps = [pd.NaT if _missing(v) else _parse_dt(v) for v in values]
        return _series(stamps, index, "datetime64[ns]")
    if vr == "TM":
        times = [pd.NaT if _missing(v) else _parse_tm(v) for v in values]
        return _series(times, index, "timedelta64[ns]")
    if vr in _INT_VRS:
        return _series([_number(v, int) for v in values], index, "Int64")
    if vr in _FLOAT_VRS:
        floats = [_number(v, float) for v in values]
        floats = [float("nan") if f is None else f for f in floats]
        return _series(floats, index, "float64")
    # Text, UIDs, PN, sequence summaries and bulk URIs: text even when every value is missing,
    # and a missing value stays missing (pandas 2's astype(str) would write "nan").
    texts = [None if _missing(v) else str(v) for v in values]
    return _series(texts, index, _TEXT_DTYPE)


def to_dataframe(
    dicom_json_list: Iterable[Mapping[str, Any]], level: str | None = None
) -> pd.DataFrame:
    """Tabulate DICOM JSON objects: one row per object, one column per attribute.

    Parameters
    ----------
    dicom_json_list : iterable of mapping
        QIDO results or metadata, e.g. what ``DicomWebClient.search_for_studies`` returns.
    level : {"study", "series", "instance"}, optional
        Orders the key columns; guessed from the UIDs present when omitted.

    Returns
    -------
    pandas.DataFrame
        Columns by keyword (private/unknown tags as ``(gggg,eeee)``): UIDs and the level's key
        attributes first, the rest by tag. PN as "Family, Given" text (ideographic and phonetic
        groups in ``<name>_ideographic`` / ``_phonetic``); DA and DT as datetimes, TM as time
        since midnight (invalid values become NaT); integer VRs as nullable ``Int64``, decimals
        as ``float64``; several values as a list; sequences as "n items"; bulk data as its URI.
        ``df.attrs["dicom_json"]`` keeps the objects (row label = position) for the way back,
        see :func:`row_json` and :func:`row_uids`; ``df.attrs["level"]`` the level.
    """
    items = [dict(i) for i in dicom_json_list]
    level = level or guess_level(items)
    rows = []
    for item in items:
        row: dict[str, Any] = {}
        for tag, element in item.items():
            if isinstance(element, Mapping):
                row.update(_cells(column_name(tag), element))
        rows.append(row)
    frame = pd.DataFrame(rows)
    vrs = _vr_of(items)
    for name in frame.columns:
        base = name.removesuffix(_PN_SUFFIXES[0]).removesuffix(_PN_SUFFIXES[1])
        frame[name] = _typed(frame[name], vrs.get(base, "UN"))
    keys = [c for c in KEY_COLUMNS.get(level, ()) if c in frame.columns]
    keys = [c for c in UID_COLUMNS if c in keys] + [c for c in keys if c not in UID_COLUMNS]
    order = {column_name(t): t for item in items for t in item}
    rest = sorted(
        (c for c in frame.columns if c not in keys and c in order), key=lambda c: order[c]
    )
    columns = []
    for name in keys + rest:
        # A PN's ideographic and phonetic groups follow it.
        columns += [name] + [f"{name}{s}" for s in _PN_SUFFIXES if f"{name}{s}" in frame.columns]
    table: pd.DataFrame = frame.loc[:, columns]
    table.attrs["dicom_json"] = items
    table.attrs["level"] = level
    return table


def row_json(frame: pd.DataFrame, label: int) -> dict[str, Any]:
    """Return the DICOM JSON object behind a row (also after sorting or filtering).

    Parameters
    ----------
    frame : pandas.DataFrame
        A frame made by :func:`to_dataframe`.
    label : int
        The row's index label.

    Returns
    -------
    dict
        The original object.
    """
    items: list[dict[str, Any]] = frame.attrs["dicom_json"]
    return items[int(label)]


def row_uids(frame: pd.DataFrame, label: int) -> dict[str, str]:
    """Return the UIDs of a row, ready to retrieve or delete what it describes.

    Parameters
    ----------
    frame : pandas.DataFrame
        A frame made by :func:`to_dataframe`.
    label : int
        The row's index label.

    Returns
    -------
    dict
        ``study_instance_uid``, and ``series_instance_uid`` / ``sop_instance_uid`` when present.
    """
    item = row_json(frame, label)
    out = {}
    for tag, key in (
        ("0020000D", "study_instance_uid"),
        ("0020000E", "series_instance_uid"),
        ("00080018", "sop_instance_uid"),
    ):
        values = item.get(tag, {}).get("Value")
        if values:
            out[key] = str(values[0])
    return out
