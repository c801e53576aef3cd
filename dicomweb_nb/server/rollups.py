"""Study and series rows, kept current as instances are stored and deleted.

A study's (or series') searchable values are those of its latest stored instance, as the
reference server keeps them; its counts and modalities cover all its stored instances. A store
updates the rows in place (no scan of the study); a delete recomputes the rows it touched from
what remains, so their cost grows with the study, never with the archive.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from .attributes import INDEXED
from .matching import pn_terms
from .schema import SERIES_COLUMNS, STUDY_COLUMNS

CREATED = 1  # the instances.status of a stored instance (index.CREATED)
_PN_COLUMNS = tuple(a.column for a in INDEXED if a.level == "study" and a.vr == "PN")


def _modalities(current: str | None, added: str | None) -> str | None:
    values = set(current.split("\\")) if current else set()
    if added:
        values.add(added.upper())
    return "\\".join(sorted(values)) or None


def _write_terms(db: sqlite3.Connection, study_key: int, values: Mapping[str, str | None]) -> None:
    db.execute("DELETE FROM pn_terms WHERE study_key = ?", (study_key,))
    rows = []
    for column in _PN_COLUMNS:
        value = values.get(column)
        if not value:
            continue
        whole, words = pn_terms(value)
        rows += [(study_key, column, 0, t) for t in whole]
        rows += [(study_key, column, 1, w) for w in words]
    db.executemany(
        "INSERT INTO pn_terms (study_key, attribute, kind, term) VALUES (?, ?, ?, ?)", rows
    )


def add_instance(
    db: sqlite3.Connection,
    partition_key: int,
    study_uid: str,
    series_uid: str,
    watermark: int,
    values: Mapping[str, str | None],
) -> None:
    """Count a newly stored instance into its series and study rows (in the store's transaction).

    Parameters
    ----------
    db : sqlite3.Connection
        The connection, in a write transaction.
    partition_key : int
        The partition.
    study_uid, series_uid : str
        The instance's study and series.
    watermark : int
        The instance's watermark.
    values : mapping
        Index column -> the instance's normalised value.
    """
    row = db.execute(
        "SELECT series_key, latest FROM series WHERE partition_key=? AND study_uid=? "
        "AND series_uid=?",
        (partition_key, study_uid, series_uid),
    ).fetchone()
    new_series = row is None
    if new_series:
        db.execute(
            f"INSERT INTO series (partition_key, study_uid, series_uid, latest, instance_count, "
            f"{', '.join(SERIES_COLUMNS)}) VALUES (?, ?, ?, ?, 1, "
            f"{', '.join('?' * len(SERIES_COLUMNS))})",
            (
                partition_key,
                study_uid,
                series_uid,
                watermark,
                *(values.get(c) for c in SERIES_COLUMNS),
            ),
        )
    elif watermark > row[1]:
        sets = ", ".join(f"{c} = ?" for c in SERIES_COLUMNS)
        db.execute(
            f"UPDATE series SET instance_count = instance_count + 1, latest = ?, {sets} "
            "WHERE series_key = ?",
            (watermark, *(values.get(c) for c in SERIES_COLUMNS), row[0]),
        )
    else:
        db.execute(
            "UPDATE series SET instance_count = instance_count + 1 WHERE series_key = ?", (row[0],)
        )

    row = db.execute(
        "SELECT study_key, latest, modalities FROM studies WHERE partition_key=? AND study_uid=?",
        (partition_key, study_uid),
    ).fetchone()
    modality = values.get("modality")
    if row is None:
        cur = db.execute(
            f"INSERT INTO studies (partition_key, study_uid, latest, instance_count, series_count, "
            f"modalities, {', '.join(STUDY_COLUMNS)}) VALUES (?, ?, ?, 1, 1, ?, "
            f"{', '.join('?' * len(STUDY_COLUMNS))})",
            (
                partition_key,
                study_uid,
                watermark,
                _modalities(None, modality),
                *(values.get(c) for c in STUDY_COLUMNS),
            ),
        )
        assert cur.lastrowid is not None
        _write_terms(db, cur.lastrowid, values)
        return
    study_key, latest, modalities = row
    counts = f"instance_count = instance_count + 1, series_count = series_count + {int(new_series)}"
    if watermark > latest:
        sets = ", ".join(f"{c} = ?" for c in STUDY_COLUMNS)
        db.execute(
            f"UPDATE studies SET {counts}, latest = ?, modalities = ?, {sets} WHERE study_key = ?",
            (
                watermark,
                _modalities(modalities, modality),
                *(values.get(c) for c in STUDY_COLUMNS),
                study_key,
            ),
        )
        _write_terms(db, study_key, values)
    else:
        db.execute(
            f"UPDATE studies SET {counts}, modalities = ? WHERE study_key = ?",
            (_modalities(modalities, modality), study_key),
        )


def refresh(db: sqlite3.Connection, partition_key: int, study_uid: str, series_uid: str) -> None:
    """Recompute a series row and its study row from the instances that remain (after a delete).

    Parameters
    ----------
    db : sqlite3.Connection
        The connection, in a write transaction.
    partition_key : int
        The partition.
    study_uid, series_uid : str
        The study and series to recompute; rows with no instance left are removed.
    """
    live = f"partition_key = ? AND study_uid = ? AND status = {CREATED}"
    count, latest = db.execute(
        f"SELECT COUNT(*), MAX(watermark) FROM instances WHERE {live} AND series_uid = ?",
        (partition_key, study_uid, series_uid),
    ).fetchone()
    if not count:
        db.execute(
            "DELETE FROM series WHERE partition_key=? AND study_uid=? AND series_uid=?",
            (partition_key, study_uid, series_uid),
        )
    else:
        values = _values_of(db, latest)
        sets = ", ".join(f"{c} = ?" for c in SERIES_COLUMNS)
        db.execute(
            f"UPDATE series SET instance_count = ?, latest = ?, {sets} "
            "WHERE partition_key=? AND study_uid=? AND series_uid=?",
            (
                count,
                latest,
                *(values[c] for c in SERIES_COLUMNS),
                partition_key,
                study_uid,
                series_uid,
            ),
        )

    row = db.execute(
        "SELECT study_key FROM studies WHERE partition_key=? AND study_uid=?",
        (partition_key, study_uid),
    ).fetchone()
    if row is None:
        return
    count, latest, series_count = db.execute(
        f"SELECT COUNT(*), MAX(watermark), COUNT(DISTINCT series_uid) FROM instances WHERE {live}",
        (partition_key, study_uid),
    ).fetchone()
    if not count:
        db.execute("DELETE FROM pn_terms WHERE study_key = ?", (row[0],))
        db.execute("DELETE FROM studies WHERE study_key = ?", (row[0],))
        return
    modalities = [
        m[0].upper()
        for m in db.execute(
            f"SELECT DISTINCT modality FROM instances WHERE {live} AND modality IS NOT NULL",
            (partition_key, study_uid),
        )
    ]
    values = _values_of(db, latest)
    sets = ", ".join(f"{c} = ?" for c in STUDY_COLUMNS)
    db.execute(
        f"UPDATE studies SET instance_count = ?, series_count = ?, latest = ?, modalities = ?, "
        f"{sets} WHERE study_key = ?",
        (
            count,
            series_count,
            latest,
            "\\".join(sorted(set(modalities))) or None,
            *(values[c] for c in STUDY_COLUMNS),
            row[0],
        ),
    )
    _write_terms(db, row[0], values)


def _values_of(db: sqlite3.Connection, watermark: int) -> dict[str, str | None]:
    columns = (*STUDY_COLUMNS, *SERIES_COLUMNS)
    row = db.execute(
        f"SELECT {', '.join(columns)} FROM instances WHERE watermark = ?", (watermark,)
    ).fetchone()
    return dict(zip(columns, row, strict=True))


def rebuild(db: sqlite3.Connection) -> int:
    """Rebuild every study and series row from the instances (after a migration).

    Parameters
    ----------
    db : sqlite3.Connection
        The connection, in a write transaction.

    Returns
    -------
    int
        How many instances were counted.
    """
    db.execute("DELETE FROM pn_terms")
    db.execute("DELETE FROM series")
    db.execute("DELETE FROM studies")
    columns = (*STUDY_COLUMNS, *SERIES_COLUMNS)
    rows = db.execute(
        f"SELECT partition_key, study_uid, series_uid, watermark, {', '.join(columns)} "
        f"FROM instances WHERE status = {CREATED} ORDER BY watermark"
    ).fetchall()
    for partition_key, study_uid, series_uid, watermark, *values in rows:
        add_instance(
            db,
            partition_key,
            study_uid,
            series_uid,
            watermark,
            dict(zip(columns, values, strict=True)),
        )
    return len(rows)
