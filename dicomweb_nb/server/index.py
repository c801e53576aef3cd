"""The SQLite index: one row per instance, written in one transaction per instance (WAL mode).

An instance row is first *reserved* (status 0, "being created") so that two concurrent stores of
the same UIDs cannot both write: the loser sees the reservation and answers 45071 (or 45070 once the
winner has committed). The watermark (the row id, never reused) versions each stored copy and feeds
the ETags and the change feed.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..protocol.status import ALREADY_EXISTS, BEING_CREATED
from .attributes import INDEXED

CREATING, CREATED = 0, 1
# Reservations older than this are left over from a crashed process and are cleared at start-up.
STALE_RESERVATION_SECONDS = 600

_COLUMNS = tuple(dict.fromkeys(a.column for a in INDEXED))
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS instances (
    watermark INTEGER PRIMARY KEY AUTOINCREMENT,
    status INTEGER NOT NULL,
    reserved_at REAL NOT NULL,
    created_at TEXT,
    sop_class_uid TEXT,
    transfer_syntax TEXT,
    path TEXT,
    size INTEGER,
    frames INTEGER,
    metadata TEXT,
    {", ".join(f"{c} TEXT" for c in _COLUMNS if not c.endswith("_uid"))},
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    sop_uid TEXT NOT NULL,
    UNIQUE (study_uid, series_uid, sop_uid)
);
CREATE INDEX IF NOT EXISTS ix_series ON instances (series_uid);
-- Covering indexes for "the latest instance of each study/series" (study and series searches):
-- the GROUP BY reads only the index (10 000 instances: 11.4 ms -> 0.95 ms).
CREATE INDEX IF NOT EXISTS ix_latest_study ON instances (study_uid, status, watermark);
CREATE INDEX IF NOT EXISTS ix_latest_series ON instances (study_uid, series_uid, status, watermark);
CREATE INDEX IF NOT EXISTS ix_sop ON instances (sop_uid);
CREATE INDEX IF NOT EXISTS ix_patient_id ON instances (patient_id);
CREATE INDEX IF NOT EXISTS ix_study_date ON instances (study_date);
CREATE INDEX IF NOT EXISTS ix_accession ON instances (accession_number);
CREATE INDEX IF NOT EXISTS ix_modality ON instances (modality);
CREATE TABLE IF NOT EXISTS changes (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TEXT NOT NULL,
    action TEXT NOT NULL,
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    sop_uid TEXT NOT NULL,
    watermark INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_changes_time ON changes (timestamp);
"""


class AlreadyExists(Exception):
    """The instance is stored (reason 45070) or being stored by another request (45071)."""

    def __init__(self, reason: int) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class InstanceRecord:
    """Where a stored instance lives and what it is."""

    watermark: int
    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class_uid: str
    transfer_syntax: str
    path: str
    size: int
    frames: int


def utc_timestamp() -> str:
    """Return the current UTC time in the fixed-width ISO form stored in the change feed.

    Returns
    -------
    str
        ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``; lexical order equals time order.
    """
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


class Index:
    """The SQLite index of one data folder; safe to share between threads and processes.

    Parameters
    ----------
    db_path : Path
        The database file; created with its schema when missing.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._local = threading.local()
        self.connection().executescript(_SCHEMA)
        with self.write() as db:
            db.execute(
                "DELETE FROM instances WHERE status = ? AND reserved_at < ?",
                (CREATING, time.time() - STALE_RESERVATION_SECONDS),
            )

    def connection(self) -> sqlite3.Connection:
        """Return this thread's connection (autocommit mode; transactions are explicit).

        Returns
        -------
        sqlite3.Connection
            The connection.
        """
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.db_path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=30000")
            from .query_sql import register_functions

            register_functions(db)
            self._local.db = db
        return db

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """Run a write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on error).

        Yields
        ------
        sqlite3.Connection
            The connection inside the transaction.
        """
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def reserve(self, study_uid: str, series_uid: str, sop_uid: str) -> int:
        """Claim the instance's UIDs before its file is written.

        Parameters
        ----------
        study_uid, series_uid, sop_uid : str
            The instance's UIDs.

        Returns
        -------
        int
            The watermark of the reservation.

        Raises
        ------
        AlreadyExists
            With reason 45070 when stored, 45071 when another request is storing it.
        """
        with self.write() as db:
            row = db.execute(
                "SELECT status FROM instances WHERE study_uid=? AND series_uid=? AND sop_uid=?",
                (study_uid, series_uid, sop_uid),
            ).fetchone()
            if row is not None:
                raise AlreadyExists(ALREADY_EXISTS if row[0] == CREATED else BEING_CREATED)
            cur = db.execute(
                "INSERT INTO instances (status, reserved_at, study_uid, series_uid, sop_uid) "
                "VALUES (?, ?, ?, ?, ?)",
                (CREATING, time.time(), study_uid, series_uid, sop_uid),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def release(self, watermark: int) -> None:
        """Drop a reservation whose store failed.

        Parameters
        ----------
        watermark : int
            The reservation's watermark.
        """
        with self.write() as db:
            db.execute(
                "DELETE FROM instances WHERE watermark=? AND status=?", (watermark, CREATING)
            )

    def commit(
        self,
        watermark: int,
        record: InstanceRecord,
        columns: dict[str, str | None],
        metadata_json: str,
    ) -> None:
        """Mark a reserved instance as stored and add its change-feed entry, in one transaction.

        Parameters
        ----------
        watermark : int
            The reservation's watermark.
        record : InstanceRecord
            Where the file is and what it is.
        columns : dict
            Index column name -> normalised value of the searchable attributes.
        metadata_json : str
            The instance's DICOM JSON (bulk data left out), served by ``/metadata``.
        """
        names = [c for c in _COLUMNS if not c.endswith("_uid")]
        sets = ", ".join(f"{c} = ?" for c in names)
        now = utc_timestamp()
        with self.write() as db:
            db.execute(
                f"UPDATE instances SET status=?, created_at=?, sop_class_uid=?, transfer_syntax=?, "
                f"path=?, size=?, frames=?, metadata=?, {sets} WHERE watermark=?",
                (
                    CREATED,
                    now,
                    record.sop_class_uid,
                    record.transfer_syntax,
                    record.path,
                    record.size,
                    record.frames,
                    metadata_json,
                    *(columns.get(c) for c in names),
                    watermark,
                ),
            )
            db.execute(
                "INSERT INTO changes "
                "(timestamp, action, study_uid, series_uid, sop_uid, watermark) "
                "VALUES (?, 'create', ?, ?, ?, ?)",
                (now, record.study_uid, record.series_uid, record.sop_uid, watermark),
            )

    @staticmethod
    def _scope(study: str, series: str | None, sop: str | None) -> tuple[str, tuple[str, ...]]:
        where = f"status = {CREATED} AND study_uid = ?"
        args: tuple[str, ...] = (study,)
        if series is not None:
            where, args = where + " AND series_uid = ?", (*args, series)
        if sop is not None:
            where, args = where + " AND sop_uid = ?", (*args, sop)
        return where, args

    def instances(
        self, study: str, series: str | None = None, sop: str | None = None
    ) -> list[InstanceRecord]:
        """List the stored instances of a study, series or instance, oldest first.

        Parameters
        ----------
        study : str
            StudyInstanceUID.
        series, sop : str, optional
            SeriesInstanceUID and SOPInstanceUID to narrow the scope.

        Returns
        -------
        list of InstanceRecord
            Empty when nothing matches.
        """
        where, args = self._scope(study, series, sop)
        rows = self.connection().execute(
            "SELECT watermark, study_uid, series_uid, sop_uid, sop_class_uid, transfer_syntax, "
            f"path, size, frames FROM instances WHERE {where} ORDER BY watermark",
            args,
        )
        return [InstanceRecord(*row) for row in rows]

    def metadata(
        self, study: str, series: str | None = None, sop: str | None = None
    ) -> tuple[list[str], str]:
        """Return the stored DICOM JSON texts of the scope and its ETag.

        Parameters
        ----------
        study : str
            StudyInstanceUID.
        series, sop : str, optional
            SeriesInstanceUID and SOPInstanceUID to narrow the scope.

        Returns
        -------
        (list of str, str)
            One JSON object text per instance, and the ETag: the watermark for an instance,
            ``<max watermark>-<count>`` for a study or series (the reference's form, unquoted).
        """
        where, args = self._scope(study, series, sop)
        rows = (
            self.connection()
            .execute(
                f"SELECT watermark, metadata FROM instances WHERE {where} ORDER BY watermark", args
            )
            .fetchall()
        )
        if not rows:
            return [], ""
        top = max(r[0] for r in rows)
        etag = str(top) if sop is not None else f"{top}-{len(rows)}"
        return [r[1] for r in rows], etag

    def delete(
        self, study: str, series: str | None = None, sop: str | None = None
    ) -> list[InstanceRecord]:
        """Remove the scope's instances from the index and log their deletion, in one transaction.

        Parameters
        ----------
        study : str
            StudyInstanceUID.
        series, sop : str, optional
            SeriesInstanceUID and SOPInstanceUID to narrow the scope.

        Returns
        -------
        list of InstanceRecord
            The removed instances (their files are for the caller to unlink); empty when none.
        """
        where, args = self._scope(study, series, sop)
        now = utc_timestamp()
        with self.write() as db:
            rows = db.execute(
                "SELECT watermark, study_uid, series_uid, sop_uid, sop_class_uid, transfer_syntax, "
                f"path, size, frames FROM instances WHERE {where}",
                args,
            ).fetchall()
            records = [InstanceRecord(*row) for row in rows]
            db.executemany(
                "DELETE FROM instances WHERE watermark = ?", [(r.watermark,) for r in records]
            )
            db.executemany(
                "INSERT INTO changes "
                "(timestamp, action, study_uid, series_uid, sop_uid, watermark) "
                "VALUES (?, 'delete', ?, ?, ?, ?)",
                [(now, r.study_uid, r.series_uid, r.sop_uid, r.watermark) for r in records],
            )
        return records

    def counts(self) -> dict[str, int]:
        """Count the stored studies, series and instances.

        Returns
        -------
        dict
            ``{"studies": …, "series": …, "instances": …}``.
        """
        row = (
            self.connection()
            .execute(
                "SELECT COUNT(DISTINCT study_uid), COUNT(DISTINCT study_uid || '/' || series_uid), "
                f"COUNT(*) FROM instances WHERE status = {CREATED}"
            )
            .fetchone()
        )
        return {"studies": row[0], "series": row[1], "instances": row[2]}

    def close(self) -> None:
        """Close this thread's connection (other threads' close when they end)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
