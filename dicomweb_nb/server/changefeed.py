"""The non-standard change feed (``/changefeed``, ``/changefeed/latest``) of the reference server.

Each entry's ``state`` is worked out when it is read: ``current`` while the stored copy it
created is still the stored one, ``replaced`` once the same UIDs were stored again, ``deleted``
when they are gone.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

from .index import CREATED
from .query import MAX_OFFSET, QueryError, not_a_long

_SELECT = f"""
SELECT c.sequence, c.study_uid, c.series_uid, c.sop_uid, c.action, c.timestamp, c.watermark,
       i.watermark, i.metadata, p.name
FROM changes c
JOIN partitions p ON p.partition_key = c.partition_key
LEFT JOIN instances i ON i.status = {CREATED} AND i.partition_key = c.partition_key
     AND i.study_uid = c.study_uid
     AND i.series_uid = c.series_uid AND i.sop_uid = c.sop_uid
"""


def _flag(params: dict[str, str], name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise QueryError(f"Invalid change feed query: {name} must be true or false, got '{raw}'.")
    return raw.lower() == "true"


def _int(params: dict[str, str], name: str, default: int, lo: int, hi: int | None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"Invalid change feed query: {name} '{raw}' is not an integer.") from None
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise QueryError(f"Invalid change feed query: {name} must be {bound}, got {value}.")
    return value


def _time(params: dict[str, str], name: str) -> str | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise QueryError(
            f"Invalid change feed query: {name} '{raw}' is not an ISO 8601 date-time with a "
            "time zone offset or Z, e.g. 2024-01-31T08:00:00Z."
        )
    return parsed.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def _entry(row: tuple[Any, ...], include_metadata: bool) -> dict[str, Any]:
    sequence, study, series, sop, action, timestamp, watermark, current, metadata, partition = row
    if current is None:
        state = "deleted"
    elif action == "create" and current == watermark:
        state = "current"
    else:
        state = "replaced"
    entry: dict[str, Any] = {
        "sequence": sequence,
        # Every entry names its partition, as the reference's ChangeFeedEntry.PartitionName does.
        "partitionName": partition,
        "studyInstanceUid": study,
        "seriesInstanceUid": series,
        "sopInstanceUid": sop,
        "action": action,
        "timestamp": timestamp,
        "state": state,
    }
    if include_metadata and state == "current":
        entry["metadata"] = json.loads(metadata)
    return entry


def read_changes(
    db: sqlite3.Connection, version: str, params: dict[str, str]
) -> list[dict[str, Any]]:
    """Return change-feed entries for ``GET ../changefeed``.

    Parameters
    ----------
    db : sqlite3.Connection
        The index connection.
    version : str
        ``"1"``/``"1.0-prerelease"``: ``offset`` is the exclusive starting sequence and ``limit``
        1..100 (default 10). ``"2"``: ``startTime`` (inclusive) / ``endTime`` (exclusive),
        ``offset`` entries to skip, ``limit`` 1..200 (default 100).
    params : dict
        The query parameters.

    Returns
    -------
    list of dict
        The entries in sequence order.

    Raises
    ------
    QueryError
        For a bad number, time or flag (answered with 400).
    """
    include = _flag(params, "includemetadata", True)
    offset = _int(params, "offset", 0, 0, None)
    if offset > MAX_OFFSET:
        # v1 binds a parameter named offset, v2 the Offset of WindowedPaginationOptions.
        raise not_a_long("offset" if version != "2" else "Offset", params["offset"])
    if version != "2":
        limit = _int(params, "limit", 10, 1, 100)
        rows = db.execute(
            _SELECT + " WHERE c.sequence > ? ORDER BY c.sequence LIMIT ?", (offset, limit)
        ).fetchall()
        return [_entry(r, include) for r in rows]
    limit = _int(params, "limit", 100, 1, 200)
    start, end = _time(params, "startTime"), _time(params, "endTime")
    if start and end and start >= end:
        raise QueryError("Invalid change feed query: startTime must be before endTime.")
    where, args = ["1"], []
    if start:
        where.append("c.timestamp >= ?")
        args.append(start)
    if end:
        where.append("c.timestamp < ?")
        args.append(end)
    rows = db.execute(
        _SELECT + f" WHERE {' AND '.join(where)} ORDER BY c.sequence LIMIT ? OFFSET ?",
        (*args, limit, offset),
    ).fetchall()
    return [_entry(r, include) for r in rows]


def latest_change(db: sqlite3.Connection, params: dict[str, str]) -> dict[str, Any] | None:
    """Return the newest change-feed entry, or None when the feed is empty.

    Parameters
    ----------
    db : sqlite3.Connection
        The index connection.
    params : dict
        The query parameters (``includemetadata``).

    Returns
    -------
    dict or None
        The entry.
    """
    include = _flag(params, "includemetadata", True)
    row = db.execute(_SELECT + " ORDER BY c.sequence DESC LIMIT 1").fetchone()
    return _entry(row, include) if row else None
