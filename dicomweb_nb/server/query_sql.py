"""Run a validated QIDO :class:`~dicomweb_nb.server.query.Query` against the index.

Study searches read the ``studies`` table, series searches ``series`` (joined to its study),
instance searches ``instances`` (joined to both), each ordered newest first by an index, so a
search costs what it returns. Study and series results take their values from the latest stored
instance of the study or series, as the reference does. Matching: exact and range on indexed
columns; person names through ``pn_terms``; wildcards by :func:`.matching.wildcard_match`
(linear time), narrowed by an index range when the pattern starts with literal characters.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .attributes import Level, Searchable
from .index import CREATED
from .matching import TOP, exact_pn_target, literal_prefix, pn_words, wildcard_match
from .query import Filter, Query

_ALIAS: dict[Level, str] = {"study": "st", "series": "se", "instance": "i"}
_FROM: dict[Level, str] = {
    "study": "studies st",
    "series": "series se JOIN studies st "
    "ON st.partition_key = se.partition_key AND st.study_uid = se.study_uid",
    "instance": "instances i JOIN series se ON se.partition_key = i.partition_key "
    "AND se.study_uid = i.study_uid AND se.series_uid = i.series_uid "
    "JOIN studies st ON st.partition_key = i.partition_key AND st.study_uid = i.study_uid",
}
# The row each result is built from: the latest instance of a study or series, or the instance.
_LATEST: dict[Level, str] = {"study": "st.latest", "series": "se.latest", "instance": "i.watermark"}


def register_functions(db: sqlite3.Connection) -> None:
    """Add the matching functions QIDO needs to a connection.

    Parameters
    ----------
    db : sqlite3.Connection
        The connection.
    """
    db.create_function("wildcard_match", 2, wildcard_match, deterministic=True)


def _column(attr: Searchable) -> str:
    return f"{_ALIAS[attr.level]}.{attr.column}"


def _wildcard(column: str, pattern: str) -> tuple[str, list[str]]:
    prefix = literal_prefix(pattern)
    if not prefix:
        return f"wildcard_match(?, {column})", [pattern]
    if pattern == prefix + "*":
        # "Wa*", the common case: the index range alone is the answer, no per-row matching.
        return f"{column} >= ? AND {column} < ?", [prefix, prefix + TOP]
    # The literal start narrows the rows through the column's index before the match runs.
    return (
        f"{column} >= ? AND {column} < ? AND wildcard_match(?, {column})",
        [prefix, prefix + TOP, pattern],
    )


def _pn_condition(f: Filter) -> tuple[str, list[str]]:
    terms = "SELECT t.study_key FROM pn_terms t WHERE t.attribute = ? AND t.kind = ?"
    column = f.attribute.column
    if f.kind == "pn":
        return f"st.study_key IN ({terms} AND t.term = ?)", [
            column,
            "0",
            exact_pn_target(f.values[0]),
        ]
    if f.kind == "wildcard":
        inner, args = _wildcard("t.term", f.values[0])
        return f"st.study_key IN ({terms} AND {inner})", [column, "0", *args]
    # Fuzzy: every word of the query starts a word of the name.
    words = pn_words(f.values[0])
    if not words:
        return "0", []
    parts, args = [], []
    for word in words:
        parts.append(f"st.study_key IN ({terms} AND t.term >= ? AND t.term < ?)")
        args += [column, "1", word, word + TOP]
    return " AND ".join(parts), args


def _match(f: Filter, column: str) -> tuple[str, list[str]]:
    if f.kind == "exact":
        return f"{column} = ?", [f.values[0]]
    if f.kind == "uids":
        return f"{column} IN ({', '.join('?' * len(f.values))})", list(f.values)
    if f.kind == "range":
        lo, hi = f.values
        parts, args = [], []
        if lo:
            parts.append(f"{column} >= ?")
            args.append(lo)
        if hi:
            parts.append(f"{column} <= ?")
            args.append(hi)
        return " AND ".join(parts), args
    return _wildcard(column, f.values[0])


def _condition(f: Filter) -> tuple[str, list[str]]:
    if f.attribute.keyword == "ModalitiesInStudy":
        # Matches when any stored instance of the study has the modality.
        inner, args = _match(f, "m.modality")
        return (
            "EXISTS (SELECT 1 FROM instances m WHERE m.partition_key = st.partition_key "
            f"AND m.study_uid = st.study_uid AND {inner} AND m.status = {CREATED})",
            args,
        )
    if f.attribute.vr == "PN" and f.kind in ("pn", "pn_fuzzy", "wildcard"):
        return _pn_condition(f)
    return _match(f, _column(f.attribute))


def _element(vr: str, values: list[Any]) -> dict[str, Any]:
    return {"vr": vr, "Value": values}


def search(
    db: sqlite3.Connection, query: Query, path: dict[str, str], partition: int = 1
) -> list[dict[str, Any]]:
    """Return the DICOM JSON results of a query, newest first, paged by its limit and offset.

    Parameters
    ----------
    db : sqlite3.Connection
        A connection with :func:`register_functions` applied.
    query : Query
        The validated query.
    path : dict
        The UIDs fixed by the route (``"study"``, ``"series"``).
    partition : int
        The partition's key.

    Returns
    -------
    list of dict
        One DICOM JSON object per match; empty when nothing matches.
    """
    level = query.level
    alias = _ALIAS[level]
    conds: list[str] = [f"{alias}.partition_key = ?"]
    args: list[object] = [partition]
    if level == "instance":
        conds.append(f"i.status = {CREATED}")
    for key, column in (("study", "study_uid"), ("series", "series_uid")):
        if key in path:
            conds.append(f"{alias}.{column} = ?")
            args.append(path[key])
    for f in query.filters:
        sql, values = _condition(f)
        conds.append(sql)
        args.extend(values)
    latest = _LATEST[level]
    series_columns = "se.series_uid, se.instance_count" if level != "study" else "NULL, NULL"
    rows = db.execute(
        f"SELECT {latest}, st.study_uid, {series_columns}, st.instance_count, st.series_count, "
        f"st.modalities FROM {_FROM[level]} WHERE {' AND '.join(conds)} "
        f"ORDER BY {latest} DESC LIMIT ? OFFSET ?",
        [*args, query.limit, query.offset],
    ).fetchall()
    if not rows:
        return []
    watermarks = [r[0] for r in rows]
    metadata = dict(
        db.execute(
            f"SELECT watermark, metadata FROM instances WHERE watermark IN "
            f"({', '.join('?' * len(watermarks))})",
            watermarks,
        ).fetchall()
    )
    keys = [f"{tag:08X}" for tag in query.include]
    results = []
    for watermark, _, _, series_instances, study_instances, series_count, modalities in rows:
        full = json.loads(metadata[watermark])
        # The reference omits attributes without a value from search results.
        item = {k: full[k] for k in keys if k in full and "Value" in full[k]}
        if "00080061" in keys and modalities:  # ModalitiesInStudy
            item["00080061"] = _element("CS", modalities.split("\\"))
        if "00201206" in keys:  # NumberOfStudyRelatedSeries
            item["00201206"] = _element("IS", [series_count])
        if "00201208" in keys:  # NumberOfStudyRelatedInstances
            item["00201208"] = _element("IS", [study_instances])
        if "00201209" in keys and series_instances is not None:  # NumberOfSeriesRelatedInstances
            item["00201209"] = _element("IS", [series_instances])
        results.append(item)
    return results
