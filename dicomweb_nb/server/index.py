"""The SQLite index of a data folder: instances, their study and series rows, partitions, changes.

An instance row is first *reserved* (status 0, "being created", with its owner process) so that
two concurrent stores of the same UIDs cannot both write: the loser sees the reservation and
answers 45071 (or 45070 once the winner has committed); a reservation whose owner is gone is taken
over (:mod:`.reservations`). The watermark (the row id, never reused) versions each stored copy
and feeds the ETags and the change feed. The schema and its migration are :mod:`.schema`; the
study and series rows are kept by :mod:`.rollups`. Every method takes the partition it works in.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..protocol.status import ALREADY_EXISTS, BEING_CREATED
from . import rollups
from .reservations import current_owner, owner_alive
from .schema import DEFAULT_PARTITION_KEY, INSTANCE_VALUE_COLUMNS, create_or_migrate

CREATING, CREATED = 0, 1
# How long a write waits for the writers before it (in this process or another) to finish.
BUSY_TIMEOUT_S = 30
log = logging.getLogger("dicomweb_nb.server")


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


@dataclass(frozen=True)
class Staged:
    """An instance reserved and written to disk, waiting for its index commit."""

    record: InstanceRecord
    columns: dict[str, str | None]
    metadata_json: str
    partition: int


@dataclass(frozen=True)
class StaleReservation:
    """A reservation whose owner is gone: its row was removed, its file may be left behind."""

    watermark: int
    study_uid: str
    series_uid: str
    sop_uid: str


_RECORD = (
    "watermark, study_uid, series_uid, sop_uid, sop_class_uid, transfer_syntax, path, size, frames"
)


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
        The database file; created with its schema when missing, migrated when older.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._local = threading.local()
        # Called with a reservation taken over from a dead owner, after the takeover commits,
        # so the archive can remove a file the dead process may have left (set by the Archive).
        self.on_stale: Callable[[StaleReservation], None] | None = None
        # Write transactions of this process queue here, woken as soon as the writer before them
        # commits: SQLite's busy handler would sleep a millisecond or more per retry. (Other
        # processes on the same folder still meet SQLite's lock and its busy timeout.)
        self._writing = threading.Lock()
        with self.write() as db:
            if create_or_migrate(db, utc_timestamp()):
                counted = rollups.rebuild(db)
                log.warning(
                    "index of %s upgraded; %d instances re-indexed", db_path.parent, counted
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
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
            from .query_sql import register_functions

            register_functions(db)
            self._local.db = db
        return db

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """Run a write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on error).

        Parameters
        ----------
        durable : bool
            Sync the log at commit (``synchronous=FULL``). ``False`` for what may be lost with
            the power: a reservation is only a lock, and a lost one is as good as a released one.

        Yields
        ------
        sqlite3.Connection
            The connection inside the transaction.
        """
        db = self.connection()
        if not self._writing.acquire(timeout=BUSY_TIMEOUT_S):
            raise sqlite3.OperationalError("database is locked")
        try:
            if not durable:
                db.execute("PRAGMA synchronous=OFF")
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            finally:
                if not durable:
                    db.execute("PRAGMA synchronous=FULL")
        finally:
            self._writing.release()

    # Partitions ---------------------------------------------------------------------------

    def partition_key(self, name: str, *, create: bool = False) -> int | None:
        """Return the key of a partition, creating it when asked.

        Parameters
        ----------
        name : str
            The partition's name.
        create : bool
            Create it when missing (a STOW creates its partition implicitly).

        Returns
        -------
        int or None
            The key, or None when it does not exist and ``create`` is false.
        """
        query = "SELECT partition_key FROM partitions WHERE name = ?"
        row = self.connection().execute(query, (name,)).fetchone()
        if row is not None or not create:
            return int(row[0]) if row is not None else None
        with self.write() as db:
            db.execute(
                "INSERT OR IGNORE INTO partitions (name, created_at) VALUES (?, ?)",
                (name, utc_timestamp()),
            )
            return int(db.execute(query, (name,)).fetchone()[0])

    def partitions(self) -> list[tuple[int, str, str]]:
        """List the partitions.

        Returns
        -------
        list of (int, str, str)
            Key, name and creation time of each, by key.
        """
        return [
            (int(k), str(n), str(c))
            for k, n, c in self.connection().execute(
                "SELECT partition_key, name, created_at FROM partitions ORDER BY partition_key"
            )
        ]

    # Storing ------------------------------------------------------------------------------

    def reserve(
        self, study_uid: str, series_uid: str, sop_uid: str, partition: int = DEFAULT_PARTITION_KEY
    ) -> int:
        """Claim the instance's UIDs before its file is written.

        A reservation left by a process that is gone is taken over (its row removed and named in
        passed to :attr:`on_stale`, so the archive can remove a file it may have left).

        Parameters
        ----------
        study_uid, series_uid, sop_uid : str
            The instance's UIDs.
        partition : int
            The partition's key.

        Returns
        -------
        int
            The watermark of the reservation.

        Raises
        ------
        AlreadyExists
            With reason 45070 when stored, 45071 when a live request is storing it.
        """
        stale: StaleReservation | None = None
        with self.write(durable=False) as db:
            row = db.execute(
                "SELECT status, watermark, owner, reserved_at FROM instances "
                "WHERE partition_key=? AND study_uid=? AND series_uid=? AND sop_uid=?",
                (partition, study_uid, series_uid, sop_uid),
            ).fetchone()
            if row is not None:
                status, watermark, owner, reserved_at = row
                if status == CREATED:
                    raise AlreadyExists(ALREADY_EXISTS)
                if owner_alive(owner, time.time() - reserved_at):
                    raise AlreadyExists(BEING_CREATED)
                db.execute("DELETE FROM instances WHERE watermark = ?", (watermark,))
                stale = StaleReservation(watermark, study_uid, series_uid, sop_uid)
            cur = db.execute(
                "INSERT INTO instances (partition_key, status, reserved_at, owner, study_uid, "
                "series_uid, sop_uid) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (partition, CREATING, time.time(), current_owner(), study_uid, series_uid, sop_uid),
            )
            assert cur.lastrowid is not None
            reserved = cur.lastrowid
        if stale is not None:
            log.warning(
                "took over a reservation of a process that is gone (watermark %d)", stale.watermark
            )
            if self.on_stale is not None:
                self.on_stale(stale)
        return reserved

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

    def sweep_reservations(self) -> list[StaleReservation]:
        """Remove every reservation whose owner is gone.

        Returns
        -------
        list of StaleReservation
            What was removed (files named by their watermark may be left on disk).
        """
        now = time.time()
        with self.write() as db:
            rows = db.execute(
                "SELECT watermark, study_uid, series_uid, sop_uid, owner, reserved_at "
                "FROM instances WHERE status = ?",
                (CREATING,),
            ).fetchall()
            stale = [r for r in rows if not owner_alive(r[4], now - r[5])]
            db.executemany("DELETE FROM instances WHERE watermark = ?", [(r[0],) for r in stale])
        return [StaleReservation(*r[:4]) for r in stale]

    def holds(self, watermark: int | None, path: str) -> bool:
        """Tell whether a file belongs to the index: stored there, or reserved by a live owner.

        Parameters
        ----------
        watermark : int or None
            The watermark in the file's name (None when the name has none).
        path : str
            The file's path relative to the data folder.

        Returns
        -------
        bool
            False for an orphan.
        """
        if watermark is None:
            return False
        row = (
            self.connection()
            .execute(
                "SELECT status, path, owner, reserved_at FROM instances WHERE watermark = ?",
                (watermark,),
            )
            .fetchone()
        )
        if row is None:
            return False
        status, stored_path, owner, reserved_at = row
        if status == CREATED:
            return bool(stored_path == path)
        return owner_alive(owner, time.time() - reserved_at)

    def commit(
        self, staged: list[Staged], *, before_commit: Callable[[], None] | None = None
    ) -> None:
        """Mark reserved instances as stored, update their studies and series, log the changes.

        All in one transaction, so a request of many instances syncs the log once (group
        commit); nothing of it is acknowledged before this returns.

        Parameters
        ----------
        staged : list of Staged
            The instances, each reserved and written to disk.
        before_commit : callable, optional
            Called inside the transaction after its statements, just before it commits; what
            it raises rolls the transaction back. The store waits for its file syncs here, so
            the statements run while the disk syncs.

        Raises
        ------
        RuntimeError
            When a reservation was lost (taken over as stale): none of them is stored then.
        """
        sets = ", ".join(f"{c} = ?" for c in INSTANCE_VALUE_COLUMNS)
        now = utc_timestamp()
        with self.write() as db:
            for item in staged:
                record = item.record
                cur = db.execute(
                    f"UPDATE instances SET status=?, created_at=?, sop_class_uid=?, "
                    f"transfer_syntax=?, path=?, size=?, frames=?, metadata=?, {sets} "
                    "WHERE watermark=? AND status=?",
                    (
                        CREATED,
                        now,
                        record.sop_class_uid,
                        record.transfer_syntax,
                        record.path,
                        record.size,
                        record.frames,
                        item.metadata_json,
                        *(item.columns.get(c) for c in INSTANCE_VALUE_COLUMNS),
                        record.watermark,
                        CREATING,
                    ),
                )
                if cur.rowcount != 1:
                    # Taken over as stale (this process was thought gone): nothing is stored.
                    raise RuntimeError("the reservation of this instance was lost")
                rollups.add_instance(
                    db,
                    item.partition,
                    record.study_uid,
                    record.series_uid,
                    record.watermark,
                    item.columns,
                )
                db.execute(
                    "INSERT INTO changes (partition_key, timestamp, action, study_uid, "
                    "series_uid, sop_uid, watermark) VALUES (?, ?, 'create', ?, ?, ?, ?)",
                    (
                        item.partition,
                        now,
                        record.study_uid,
                        record.series_uid,
                        record.sop_uid,
                        record.watermark,
                    ),
                )
            if before_commit is not None:
                before_commit()

    # Reading ------------------------------------------------------------------------------

    @staticmethod
    def _scope(
        partition: int, study: str, series: str | None, sop: str | None
    ) -> tuple[str, tuple[object, ...]]:
        where = f"partition_key = ? AND study_uid = ? AND status = {CREATED}"
        args: tuple[object, ...] = (partition, study)
        if series is not None:
            where, args = where + " AND series_uid = ?", (*args, series)
        if sop is not None:
            where, args = where + " AND sop_uid = ?", (*args, sop)
        return where, args

    def instances(
        self,
        study: str,
        series: str | None = None,
        sop: str | None = None,
        partition: int = DEFAULT_PARTITION_KEY,
    ) -> list[InstanceRecord]:
        """List the stored instances of a study, series or instance, oldest first.

        Parameters
        ----------
        study : str
            StudyInstanceUID.
        series, sop : str, optional
            SeriesInstanceUID and SOPInstanceUID to narrow the scope.
        partition : int
            The partition's key.

        Returns
        -------
        list of InstanceRecord
            Empty when nothing matches.
        """
        where, args = self._scope(partition, study, series, sop)
        rows = self.connection().execute(
            f"SELECT {_RECORD} FROM instances WHERE {where} ORDER BY watermark", args
        )
        return [InstanceRecord(*row) for row in rows]

    def metadata(
        self,
        study: str,
        series: str | None = None,
        sop: str | None = None,
        partition: int = DEFAULT_PARTITION_KEY,
    ) -> tuple[list[str], str]:
        """Return the stored DICOM JSON texts of the scope and its ETag.

        Parameters
        ----------
        study : str
            StudyInstanceUID.
        series, sop : str, optional
            SeriesInstanceUID and SOPInstanceUID to narrow the scope.
        partition : int
            The partition's key.

        Returns
        -------
        (list of str, str)
            One JSON object text per instance, and the ETag: the watermark for an instance,
            ``<max watermark>-<count>`` for a study or series (the reference's form, unquoted).
        """
        where, args = self._scope(partition, study, series, sop)
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

    def stored_paths(self) -> dict[int, str]:
        """Return every stored instance's watermark and path (for start-up reconciliation).

        Returns
        -------
        dict
            Watermark -> path relative to the data folder.
        """
        rows = self.connection().execute(
            "SELECT watermark, path FROM instances WHERE status = ?", (CREATED,)
        )
        return {int(w): str(p) for w, p in rows}

    # Deleting -----------------------------------------------------------------------------

    def delete(
        self,
        study: str,
        series: str | None = None,
        sop: str | None = None,
        partition: int = DEFAULT_PARTITION_KEY,
    ) -> list[InstanceRecord]:
        """Remove the scope's instances and log their deletion, in one transaction.

        Parameters
        ----------
        study : str
            StudyInstanceUID.
        series, sop : str, optional
            SeriesInstanceUID and SOPInstanceUID to narrow the scope.
        partition : int
            The partition's key.

        Returns
        -------
        list of InstanceRecord
            The removed instances (their files are for the caller to unlink); empty when none.
        """
        where, args = self._scope(partition, study, series, sop)
        with self.write() as db:
            rows = db.execute(f"SELECT {_RECORD} FROM instances WHERE {where}", args).fetchall()
            records = [InstanceRecord(*row) for row in rows]
            self._remove(db, partition, records, "delete")
        return records

    def forget(self, watermarks: list[int]) -> list[InstanceRecord]:
        """Remove stored instances whose files are gone (start-up reconciliation).

        Parameters
        ----------
        watermarks : list of int
            The instances to remove from the index.

        Returns
        -------
        list of InstanceRecord
            What was removed.
        """
        removed = []
        with self.write() as db:
            for watermark in watermarks:
                row = db.execute(
                    f"SELECT partition_key, {_RECORD} FROM instances WHERE watermark = ?",
                    (watermark,),
                ).fetchone()
                if row is not None:
                    record = InstanceRecord(*row[1:])
                    self._remove(db, int(row[0]), [record], "delete")
                    removed.append(record)
        return removed

    @staticmethod
    def _remove(
        db: sqlite3.Connection, partition: int, records: list[InstanceRecord], action: str
    ) -> None:
        now = utc_timestamp()
        db.executemany(
            "DELETE FROM instances WHERE watermark = ?", [(r.watermark,) for r in records]
        )
        db.executemany(
            "INSERT INTO changes "
            "(partition_key, timestamp, action, study_uid, series_uid, sop_uid, watermark) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (partition, now, action, r.study_uid, r.series_uid, r.sop_uid, r.watermark)
                for r in records
            ],
        )
        for study_uid, series_uid in {(r.study_uid, r.series_uid) for r in records}:
            rollups.refresh(db, partition, study_uid, series_uid)

    def counts(self, partition: int | None = None) -> dict[str, int]:
        """Count the stored studies, series and instances.

        Parameters
        ----------
        partition : int, optional
            One partition's key; all partitions when omitted.

        Returns
        -------
        dict
            ``{"studies": …, "series": …, "instances": …}``.
        """
        where, args = ("WHERE partition_key = ?", (partition,)) if partition else ("", ())
        db = self.connection()
        studies, instances = db.execute(
            f"SELECT COUNT(*), COALESCE(SUM(instance_count), 0) FROM studies {where}", args
        ).fetchone()
        (series,) = db.execute(f"SELECT COUNT(*) FROM series {where}", args).fetchone()
        return {"studies": studies, "series": series, "instances": instances}

    def close(self) -> None:
        """Close this thread's connection (other threads' close when they end)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
