"""DICOM JSON helpers and QIDO-RS parameter building (pure functions, no HTTP)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydicom.datadict import keyword_for_tag

from ..protocol.dicomjson import TAG_DIGITS, tag_of
from ..protocol.dicomjson import first_value as protocol_first_value
from .errors import InvalidInput

FilterValue = str | int | dt.date | Sequence[str] | tuple[Any, Any]


def tag_key(attribute: str | int) -> str:
    """Return the eight-hex-digit key of an attribute given by keyword, hex string or int tag.

    Parameters
    ----------
    attribute : str or int
        ``"PatientName"``, ``"00100010"``, ``"0010,0010"`` or ``0x00100010``.

    Returns
    -------
    str
        E.g. ``"00100010"``.

    Raises
    ------
    InvalidInput
        For an unknown keyword.
    """
    if isinstance(attribute, int):
        return f"{attribute:08X}"
    # Lenient beyond PS3.18's keyword-or-eight-hex-digits: "(0010,0010)" and "0010,0010" too.
    text = attribute.strip().strip("()").replace(",", "")
    tag = tag_of(text if len(text) == TAG_DIGITS else attribute)
    if tag is None:
        raise InvalidInput(
            f"'{attribute}' is not a DICOM keyword or tag (e.g. PatientName, 00100010)."
        )
    return f"{tag:08X}"


def _date(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def filter_value(value: FilterValue) -> str:
    """Encode one QIDO filter value.

    Parameters
    ----------
    value : str, int, date, sequence of str, or (start, end)
        A plain value; a date; a list of UIDs (sent comma-separated); or a ``(start, end)`` tuple
        for a range where either end may be None (``("20200101", None)`` means from 2020 on).

    Returns
    -------
    str
        The query-string value.
    """
    if isinstance(value, dt.datetime | dt.date):
        return _date(value)
    if isinstance(value, tuple) and len(value) == 2:  # noqa: PLR2004 - a (start, end) range
        start, end = (
            "" if v is None else _date(v) if isinstance(v, dt.date) else str(v) for v in value
        )
        return f"{start}-{end}"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def search_params(
    search_filters: Mapping[str | int, FilterValue] | None,
    *,
    fuzzymatching: bool = False,
    fields: Iterable[str | int] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[tuple[str, str]]:
    """Build the query parameters of a QIDO-RS search.

    Parameters
    ----------
    search_filters : mapping, optional
        Attribute (keyword or tag) -> value (see :func:`filter_value`).
    fuzzymatching : bool
        Ask for fuzzy person-name matching.
    fields : iterable, optional
        Extra attributes to return (``includefield``); ``["all"]`` for all.
    limit : int, optional
        Page size.
    offset : int
        Results to skip.

    Returns
    -------
    list of (str, str)
        The parameters, filters by keyword where one exists.

    Raises
    ------
    InvalidInput
        For an unknown keyword, a negative offset or a limit below 1.
    """
    params: list[tuple[str, str]] = []
    for attribute, value in (search_filters or {}).items():
        key = tag_key(attribute)
        name = keyword_for_tag(int(key, 16)) or key
        params.append((name, filter_value(value)))
    for field in fields or ():
        params.append(("includefield", "all" if field == "all" else _field_name(field)))
    if fuzzymatching:
        params.append(("fuzzymatching", "true"))
    if limit is not None:
        if limit < 1:
            raise InvalidInput(f"limit must be at least 1, got {limit}.")
        params.append(("limit", str(limit)))
    if offset:
        if offset < 0:
            raise InvalidInput(f"offset cannot be negative, got {offset}.")
        params.append(("offset", str(offset)))
    return params


def _field_name(field: str | int) -> str:
    key = tag_key(field)
    return keyword_for_tag(int(key, 16)) or key


def first_value(item: Mapping[str, Any], attribute: str | int) -> Any:
    """Return the first value of an attribute in a DICOM JSON object, or None.

    Parameters
    ----------
    item : mapping
        A DICOM JSON object (QIDO result or metadata).
    attribute : str or int
        Keyword or tag.

    Returns
    -------
    Any
        The value (a PN is its Alphabetic string), or None when absent or empty.
    """
    return protocol_first_value(item, tag_key(attribute))
