"""QIDO-RS query parameters: parse, validate and normalise them into a :class:`Query`.

Rules follow the reference server (docs/reference-server.md), with the standard's
wildcard (``*``, ``?``) and UID-list matching added as a superset (PS3.18 8.3.4.1).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Literal

from ..protocol.uids import is_valid_uid
from .attributes import (
    SEARCHABLE_BY_TAG,
    Level,
    Searchable,
    all_tags,
    computed_tags,
    default_tags,
    keyword_of,
    resolve_attribute,
)
from .errors import RequestError

MAX_LIMIT = 200
DEFAULT_LIMIT = 100
# The reference binds offset to a C# long (PaginationOptions, ChangeFeedController); SQLite's
# integers are 64-bit too, and a larger value overflowed into a 500.
MAX_OFFSET = 2**63 - 1

FilterKind = Literal["exact", "range", "uids", "wildcard", "pn", "pn_fuzzy"]


class QueryError(RequestError):
    """A query parameter the server refuses with 400; ``str(exc)`` is the plain-text message.

    Parameters
    ----------
    message : str
        Which parameter, which value, and why.
    """

    def __init__(self, message: str) -> None:
        super().__init__(HTTPStatus.BAD_REQUEST, message)


@dataclass(frozen=True)
class Filter:
    """One matching condition on an index column."""

    attribute: Searchable
    kind: FilterKind
    values: tuple[str, ...]


@dataclass
class Query:
    """A validated QIDO-RS query."""

    level: Level
    filters: list[Filter] = field(default_factory=list)
    include: list[int] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    fuzzy: bool = False


def normalize_text(value: str) -> str:
    """Fold case and strip accents, so that "Hall^X^Ta" matches "hall^x^tá".

    Parameters
    ----------
    value : str
        A stored or queried value.

    Returns
    -------
    str
        The folded value.
    """
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _allowed_levels(level: Level, path: dict[str, str]) -> tuple[Level, ...]:
    # Parent-level attributes are searchable only when the parent is not fixed by the path.
    if level == "study":
        return ("study",)
    if level == "series":
        return ("series",) if "study" in path else ("study", "series")
    if "series" in path:
        return ("instance",)
    if "study" in path:
        return ("series", "instance")
    return ("study", "series", "instance")


def _parse_date(value: str, keyword: str) -> str:
    if not re.fullmatch(r"\d{8}", value):
        raise QueryError(
            f"Invalid query: the value '{value}' of {keyword} is not a date in the format yyyyMMdd."
        )
    try:
        dt.datetime.strptime(value, "%Y%m%d")
    except ValueError as exc:
        raise QueryError(f"Invalid query: '{value}' of {keyword} is not a valid date.") from exc
    return value


def _date_filter(attr: Searchable, value: str) -> Filter:
    if "-" not in value:
        return Filter(attr, "exact", (_parse_date(value, attr.keyword),))
    start, _, end = value.partition("-")
    if not start and not end:
        raise QueryError(f"Invalid query: the range '{value}' of {attr.keyword} has no bounds.")
    lo = _parse_date(start, attr.keyword) if start else ""
    hi = _parse_date(end, attr.keyword) if end else ""
    if lo and hi and lo > hi:
        raise QueryError(
            f"Invalid query: the range '{value}' of {attr.keyword} starts after it ends."
        )
    return Filter(attr, "range", (lo, hi))


def _make_filter(attr: Searchable, raw: str, fuzzy: bool) -> Filter:
    if attr.vr == "UI":
        # PS3.18 8.3.4.1: a UID list is separated by backslashes (commas are accepted too).
        uids = tuple(u.strip() for u in re.split(r"[\\,]", raw))
        for uid in uids:
            if not is_valid_uid(uid):
                raise QueryError(f"Invalid query: '{uid}' is not a valid {attr.keyword}.")
        return Filter(attr, "uids" if len(uids) > 1 else "exact", uids)
    if attr.vr == "DA":
        return _date_filter(attr, raw)
    value = normalize_text(raw)
    if "*" in value or "?" in value:
        # PS3.4 C.2.2.2.4: '*' matches any run of characters, '?' exactly one; the pattern is
        # matched in linear time by matching.wildcard_match.
        return Filter(attr, "wildcard", (value,))
    if attr.vr == "PN":
        return Filter(attr, "pn_fuzzy" if fuzzy else "pn", (value,))
    return Filter(attr, "exact", (value,))


def _parse_int(name: str, raw: str, lo: int, hi: int | None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"Invalid query: {name} '{raw}' is not an integer.") from None
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise QueryError(f"Invalid query: {name} must be {bound}, got {value}.")
    return value


def not_a_long(key: str, raw: str) -> QueryError:
    """Refuse a value beyond a 64-bit integer in the reference's words.

    ASP.NET's model binding fails on it ("The value '{0}' is not valid for {1}.") and the
    reference's QueryModelStateValidatorAttribute wraps that in DicomCoreResource's
    InvalidQueryStringValue, "The query parameter '{0}' is invalid. {1}".

    Parameters
    ----------
    key : str
        The name the reference binds, e.g. ``Offset`` (QIDO) or ``offset`` (v1 change feed).
    raw : str
        The value as sent.

    Returns
    -------
    QueryError
        The 400 to raise.
    """
    return QueryError(
        f"The query parameter '{key}' is invalid. The value '{raw}' is not valid for {key}."
    )


def _parse_includefield(values: list[str], levels: tuple[Level, ...]) -> list[int]:
    names = [n.strip() for v in values for n in v.split(",")]
    if "all" in names:
        if len(names) > 1:
            raise QueryError(
                "Invalid query: includefield=all cannot be combined with other fields."
            )
        tags: list[int] = []
        for lv in levels:
            tags.extend(all_tags(lv))
            tags.extend(computed_tags(lv))
        return tags
    out = []
    for name in names:
        tag = resolve_attribute(name) if name else None
        if tag is None:
            raise QueryError(f"Invalid query: unknown includefield attribute '{name}'.")
        out.append(tag)
    return out


def parse_query(
    level: Level, params: list[tuple[str, str]], *, path: dict[str, str], version: str
) -> Query:
    """Validate a QIDO-RS query string and build a :class:`Query`.

    Parameters
    ----------
    level : {"study", "series", "instance"}
        The level of the route (``/studies``, ``/series``, ``/instances`` and their nested forms).
    params : list of (str, str)
        The decoded query parameters in order, repeats kept.
    path : dict
        The UIDs fixed by the route, keyed ``"study"`` and ``"series"``.
    version : str
        The API version from the URL, which selects the default returned attributes.

    Returns
    -------
    Query
        The validated query.

    Raises
    ------
    QueryError
        For anything the reference answers with 400: an unknown or non-searchable parameter, an
        empty or repeated attribute, a bad date, range, limit, offset or includefield.
    """
    levels = _allowed_levels(level, path)
    query = Query(level=level)
    includefield: list[str] = []
    raw_filters: list[tuple[Searchable, str]] = []
    seen: set[int] = set()
    for name, raw in params:
        lowered = name.lower()
        if lowered == "includefield":
            includefield.append(raw)
            continue
        if lowered == "limit":
            query.limit = _parse_int("limit", raw, 1, MAX_LIMIT)
            continue
        if lowered == "offset":
            query.offset = _parse_int("offset", raw, 0, None)
            if query.offset > MAX_OFFSET:
                raise not_a_long("Offset", raw)
            continue
        if lowered == "fuzzymatching":
            if raw.lower() not in ("true", "false"):
                raise QueryError(
                    f"Invalid query: fuzzymatching must be true or false, got '{raw}'."
                )
            query.fuzzy = raw.lower() == "true"
            continue
        tag = resolve_attribute(name)
        if tag is None:
            raise QueryError(f"Invalid query: unknown query parameter '{name}'.")
        attr = SEARCHABLE_BY_TAG.get(tag)
        if attr is None or attr.level not in levels:
            where = " within the path's study/series" if path else ""
            raise QueryError(
                f"Invalid query: {keyword_of(tag)} is not a searchable attribute "
                f"at the {level} level{where}."
            )
        if (attr.keyword == "StudyInstanceUID" and "study" in path) or (
            attr.keyword == "SeriesInstanceUID" and "series" in path
        ):
            raise QueryError(f"Invalid query: {attr.keyword} is already given in the path.")
        if tag in seen:
            raise QueryError(f"Invalid query: {attr.keyword} is given more than once.")
        seen.add(tag)
        if not raw.strip():
            raise QueryError(f"Invalid query: the value of {attr.keyword} is empty.")
        raw_filters.append((attr, raw))
    query.filters = [_make_filter(attr, raw, query.fuzzy) for attr, raw in raw_filters]

    # Parent levels' defaults come along exactly where their attributes are searchable:
    # /series adds the study's, /instances both parents', /studies/{s}/instances the series'.
    include: list[int] = []
    for lv in levels:
        include.extend(default_tags(lv, version))
    # The counts (and ModalitiesInStudy) of the query's own level come by default: OHIF's study
    # list shows them and does not ask for them. A superset of the reference, which returns them
    # only by includefield (docs/reference-server.md, QIDO-RS); its attributes stay as they are.
    include.extend(computed_tags(level))
    include.extend(_parse_includefield(includefield, levels))
    include.extend(attr.tag for attr, _ in raw_filters)
    query.include = list(dict.fromkeys(include))
    return query
