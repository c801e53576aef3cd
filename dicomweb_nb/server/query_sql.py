"""Run a validated QIDO :class:`~dicomweb_nb.server.query.Query` against the index.

Study and series results take their values from the latest stored instance of the study or series
(as the reference does); results are newest first.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from typing import Any

from .attributes import Level
from .index import CREATED
from .query import Filter, Query

_GROUP: dict[Level, str | None] = {
    "study": "study_uid",
    "series": "study_uid, series_uid",
    "instance": None,
}
_PN_SPLIT = re.compile(r"[\s^=,]+")


def _pn_groups(stored: str) -> list[str]:
    # PS3.5 6.2.1: up to three component groups (alphabetic, ideographic, phonetic), '='-separated.
    groups = [g.rstrip("^").strip() for g in stored.split("=")]
    return [g for g in groups if g]


def pn_match(stored: str | None, query: str, fuzzy: int) -> bool:
    """Match a folded person name against a folded query value.

    Parameters
    ----------
    stored : str or None
        The stored, case- and accent-folded PN value (all component groups).
    query : str
        The folded query value.
    fuzzy : int
        1 for the reference's fuzzy matching: every word of the query is the start of a word of
        the name ("jo do" finds "John^Doe", "ohn" does not); 0 for exact matching of the whole
        value or of one component group.

    Returns
    -------
    bool
        True on a match.
    """
    if not stored:
        return False
    if not fuzzy:
        target = query.rstrip("^").strip()
        return target == stored.strip() or target in _pn_groups(stored)
    words = [w for w in _PN_SPLIT.split(stored) if w]
    tokens = [t for t in _PN_SPLIT.split(query) if t]
    return bool(tokens) and all(any(w.startswith(t) for w in words) for t in tokens)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.DOTALL)


def _regexp(pattern: str, value: str | None) -> bool:
    if value is None:
        return False
    rx = _compiled(pattern)
    return bool(rx.match(value)) or any(rx.match(g) for g in _pn_groups(value) if "=" in value)


def register_functions(db: sqlite3.Connection) -> None:
    """Add the matching functions QIDO needs to a connection.

    Parameters
    ----------
    db : sqlite3.Connection
        The connection.
    """
    db.create_function("pn_match", 3, pn_match, deterministic=True)
    db.create_function("regexp", 2, _regexp, deterministic=True)


def _condition(f: Filter, alias: str) -> tuple[str, list[str]]:
    if f.attribute.keyword == "ModalitiesInStudy":
        # Matches when any instance of the study has the modality.
        inner, args = _match(f, "m.modality")
        return (
            f"{alias}.study_uid IN (SELECT m.study_uid FROM instances m "
            f"WHERE m.status = {CREATED} AND {inner})",
            args,
        )
    return _match(f, f"{alias}.{f.attribute.column}")


def _match(f: Filter, col: str) -> tuple[str, list[str]]:
    if f.kind == "exact":
        return f"{col} = ?", [f.values[0]]
    if f.kind == "uids":
        return f"{col} IN ({', '.join('?' * len(f.values))})", list(f.values)
    if f.kind == "range":
        lo, hi = f.values
        parts, args = [], []
        if lo:
            parts.append(f"{col} >= ?")
            args.append(lo)
        if hi:
            parts.append(f"{col} <= ?")
            args.append(hi)
        return " AND ".join(parts), args
    if f.kind == "wildcard":
        return f"{col} REGEXP ?", [f.values[0]]
    return f"pn_match({col}, ?, {1 if f.kind == 'pn_fuzzy' else 0})", [f.values[0]]


def _element(vr: str, values: list[Any]) -> dict[str, Any]:
    return {"vr": vr, "Value": values}


def search(db: sqlite3.Connection, query: Query, path: dict[str, str]) -> list[dict[str, Any]]:
    """Return the DICOM JSON results of a query, newest first, paged by its limit and offset.

    Parameters
    ----------
    db : sqlite3.Connection
        A connection with :func:`register_functions` applied.
    query : Query
        The validated query.
    path : dict
        The UIDs fixed by the route (``"study"``, ``"series"``).

    Returns
    -------
    list of dict
        One DICOM JSON object per match; empty when nothing matches.
    """
    scope, scope_args = [f"status = {CREATED}"], []
    for key, column in (("study", "study_uid"), ("series", "series_uid")):
        if key in path:
            scope.append(f"{column} = ?")
            scope_args.append(path[key])
    conds, cond_args = [], []
    for f in query.filters:
        sql, args = _condition(f, "i")
        conds.append(sql)
        cond_args.extend(args)
    where = " AND ".join(conds) or "1"
    group = _GROUP[query.level]
    if group is None:
        sql = (
            f"SELECT i.watermark, i.metadata, i.study_uid, i.series_uid, 1 FROM instances i "
            f"WHERE {' AND '.join(scope)} AND {where} ORDER BY i.watermark DESC LIMIT ? OFFSET ?"
        )
    else:
        sql = (
            f"SELECT i.watermark, i.metadata, i.study_uid, i.series_uid, g.n FROM "
            f"(SELECT MAX(watermark) AS w, COUNT(*) AS n FROM instances "
            f"WHERE {' AND '.join(scope)} GROUP BY {group}) g "
            f"JOIN instances i ON i.watermark = g.w WHERE {where} "
            f"ORDER BY i.watermark DESC LIMIT ? OFFSET ?"
        )
    rows = db.execute(sql, [*scope_args, *cond_args, query.limit, query.offset]).fetchall()
    keys = [f"{tag:08X}" for tag in query.include]
    results = []
    for _, metadata, study_uid, series_uid, count in rows:
        full = json.loads(metadata)
        # The reference omits attributes without a value from search results.
        item = {k: full[k] for k in keys if k in full and "Value" in full[k]}
        _add_computed(db, item, keys, study_uid, series_uid, count, query.level)
        results.append(item)
    return results


def _add_computed(
    db: sqlite3.Connection,
    item: dict[str, Any],
    keys: list[str],
    study_uid: str,
    series_uid: str,
    count: int,
    level: Level,
) -> None:
    if "00080061" in keys:  # ModalitiesInStudy
        mods = db.execute(
            f"SELECT DISTINCT modality FROM instances WHERE status = {CREATED} AND study_uid = ? "
            "AND modality IS NOT NULL ORDER BY modality",
            (study_uid,),
        ).fetchall()
        if mods:
            item["00080061"] = _element("CS", [m[0].upper() for m in mods])
    if "00201206" in keys:  # NumberOfStudyRelatedSeries
        (n,) = db.execute(
            f"SELECT COUNT(DISTINCT series_uid) FROM instances WHERE status = {CREATED} "
            "AND study_uid = ?",
            (study_uid,),
        ).fetchone()
        item["00201206"] = _element("IS", [n])
    if "00201208" in keys:  # NumberOfStudyRelatedInstances
        if level != "study":
            (count,) = db.execute(
                f"SELECT COUNT(*) FROM instances WHERE status = {CREATED} AND study_uid = ?",
                (study_uid,),
            ).fetchone()
        item["00201208"] = _element("IS", [count])
    if "00201209" in keys:  # NumberOfSeriesRelatedInstances
        if level != "series":
            (count,) = db.execute(
                f"SELECT COUNT(*) FROM instances WHERE status = {CREATED} AND study_uid = ? "
                "AND series_uid = ?",
                (study_uid, series_uid),
            ).fetchone()
        item["00201209"] = _element("IS", [count])
