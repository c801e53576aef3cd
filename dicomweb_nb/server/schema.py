"""The index schema (version 2) and the migration of older data folders.

One design serves three needs:

- **Partitions** (workshops): every row carries ``partition_key``; the same UIDs may be stored in
  several partitions; ``Microsoft.Default`` is key 1 and holds all data of older folders.
- **Archive scale**: ``studies`` and ``series`` rows are kept current at every store and delete
  with the values of their latest instance (as the reference keeps study, series and instance
  tables), their counts and the study's modalities; each searchable attribute has an index on its
  level's table, and person names are indexed as terms (``pn_terms``), so a search costs what it
  returns, not the size of the archive.
- **Crash safety**: a reservation row ("being created") names its owner, a process, so a
  reservation left by a killed process never blocks a store (see :mod:`.reservations`).

``PRAGMA user_version`` holds the schema version: 0 is the first release's single ``instances``
table, migrated here in one transaction on first open.
"""

from __future__ import annotations

import sqlite3

from .attributes import INDEXED

SCHEMA_VERSION = 2
DEFAULT_PARTITION = "Microsoft.Default"
DEFAULT_PARTITION_KEY = 1

STUDY_COLUMNS = tuple(dict.fromkeys(a.column for a in INDEXED if a.level == "study"))[1:]
SERIES_COLUMNS = tuple(dict.fromkeys(a.column for a in INDEXED if a.level == "series"))[1:]
# Every instance keeps all its own values: a study's or series' row is refreshed from whichever
# instance is its latest after a delete.
INSTANCE_VALUE_COLUMNS = (*STUDY_COLUMNS, *SERIES_COLUMNS)


def _ordered_indexes(table: str, columns: tuple[str, ...]) -> str:
    return "".join(
        f"CREATE INDEX IF NOT EXISTS ix_{table}_{c}_latest ON {table} (partition_key, {c}, latest);"
        for c in columns
    )


_STUDY_INDEXES = _ordered_indexes("studies", STUDY_COLUMNS)
_SERIES_INDEXES = _ordered_indexes("series", SERIES_COLUMNS)

_INSTANCES = f"""
CREATE TABLE IF NOT EXISTS instances (
    watermark INTEGER PRIMARY KEY AUTOINCREMENT,
    partition_key INTEGER NOT NULL DEFAULT {DEFAULT_PARTITION_KEY},
    status INTEGER NOT NULL,
    reserved_at REAL NOT NULL,
    owner TEXT,
    created_at TEXT,
    sop_class_uid TEXT,
    transfer_syntax TEXT,
    path TEXT,
    size INTEGER,
    frames INTEGER,
    metadata TEXT,
    {", ".join(f"{c} TEXT" for c in INSTANCE_VALUE_COLUMNS)},
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    sop_uid TEXT NOT NULL,
    UNIQUE (partition_key, study_uid, series_uid, sop_uid)
);
"""

_REST = f"""
CREATE INDEX IF NOT EXISTS ix_instances_study
    ON instances (partition_key, study_uid, status, watermark);
CREATE INDEX IF NOT EXISTS ix_instances_series
    ON instances (partition_key, study_uid, series_uid, status, watermark);
CREATE INDEX IF NOT EXISTS ix_instances_latest ON instances (partition_key, status, watermark);
CREATE INDEX IF NOT EXISTS ix_instances_sop ON instances (partition_key, sop_uid);
CREATE INDEX IF NOT EXISTS ix_instances_modality
    ON instances (partition_key, study_uid, modality, status);
CREATE INDEX IF NOT EXISTS ix_instances_owner ON instances (status, owner);

CREATE TABLE IF NOT EXISTS partitions (
    partition_key INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS studies (
    study_key INTEGER PRIMARY KEY,
    partition_key INTEGER NOT NULL,
    study_uid TEXT NOT NULL,
    latest INTEGER NOT NULL,
    instance_count INTEGER NOT NULL,
    series_count INTEGER NOT NULL,
    modalities TEXT,
    {", ".join(f"{c} TEXT" for c in STUDY_COLUMNS)},
    UNIQUE (partition_key, study_uid)
);
-- Searches return newest first: each searchable column is indexed together with "latest", so an
-- exact match is found and ordered by one index (with single-column indexes SQLite's planner
-- scanned the "latest" index over the whole archive instead, to avoid a sort).
CREATE INDEX IF NOT EXISTS ix_studies_latest ON studies (partition_key, latest);
{_STUDY_INDEXES}
CREATE TABLE IF NOT EXISTS series (
    series_key INTEGER PRIMARY KEY,
    partition_key INTEGER NOT NULL,
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    latest INTEGER NOT NULL,
    instance_count INTEGER NOT NULL,
    {", ".join(f"{c} TEXT" for c in SERIES_COLUMNS)},
    UNIQUE (partition_key, study_uid, series_uid)
);
CREATE INDEX IF NOT EXISTS ix_series_latest ON series (partition_key, latest);
CREATE INDEX IF NOT EXISTS ix_series_study_latest ON series (partition_key, study_uid, latest);
CREATE INDEX IF NOT EXISTS ix_series_uid ON series (partition_key, series_uid);
{_SERIES_INDEXES}
-- Person names as terms: kind 0 is a whole value or one component group (exact and wildcard
-- matches), kind 1 a word (fuzzy matches: a query word is the start of a term).
CREATE TABLE IF NOT EXISTS pn_terms (
    study_key INTEGER NOT NULL,
    attribute TEXT NOT NULL,
    kind INTEGER NOT NULL,
    term TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_pn_terms ON pn_terms (attribute, kind, term, study_key);
CREATE INDEX IF NOT EXISTS ix_pn_terms_study ON pn_terms (study_key);

CREATE TABLE IF NOT EXISTS changes (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    partition_key INTEGER NOT NULL DEFAULT {DEFAULT_PARTITION_KEY},
    timestamp TEXT NOT NULL,
    action TEXT NOT NULL,
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    sop_uid TEXT NOT NULL,
    watermark INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_changes_time ON changes (timestamp);
"""


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


# Indexes an earlier build of schema 2 had; single-column, they led SQLite's planner to walk the
# whole "latest" index instead (see _STUDY_INDEXES).
_REPLACED_INDEXES = [f"ix_studies_{c}" for c in STUDY_COLUMNS] + [
    f"ix_series_{c}" for c in SERIES_COLUMNS
]


def _indexes(db: sqlite3.Connection) -> None:
    for statement in _REST.split(";"):
        if statement.strip():
            db.execute(statement)
    for name in _REPLACED_INDEXES:
        db.execute(f"DROP INDEX IF EXISTS {name}")


def create_or_migrate(db: sqlite3.Connection, now: str) -> bool:
    """Bring a database to the current schema; call inside a write transaction.

    Parameters
    ----------
    db : sqlite3.Connection
        The connection, in a ``BEGIN IMMEDIATE`` transaction.
    now : str
        The timestamp to record for the default partition.

    Returns
    -------
    bool
        True when an older schema was migrated (the caller rebuilds the study and series rows).
    """
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version >= SCHEMA_VERSION:
        # Indexes are added and replaced within a version: creating what is missing is cheap.
        _indexes(db)
        return False
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    migrated = "instances" in tables and "partition_key" not in _columns(db, "instances")
    if migrated:
        # Version 0: the UNIQUE constraint gains partition_key, so the table is rebuilt.
        for name in ("ix_series", "ix_latest_study", "ix_latest_series", "ix_sop",
                     "ix_patient_id", "ix_study_date", "ix_accession", "ix_modality"):  # fmt: skip
            db.execute(f"DROP INDEX IF EXISTS {name}")
        db.execute("ALTER TABLE instances RENAME TO instances_v0")
        db.execute(_INSTANCES)
        old = set(_columns(db, "instances_v0"))
        shared = [c for c in _columns(db, "instances") if c in old]
        names = ", ".join(shared)
        db.execute(f"INSERT INTO instances ({names}) SELECT {names} FROM instances_v0")
        # Watermarks are never reused: the new table continues the old sequence.
        db.execute(
            "UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence "
            "WHERE name = 'instances_v0'), 0)) WHERE name = 'instances'"
        )
        db.execute("DROP TABLE instances_v0")
        db.execute("DELETE FROM sqlite_sequence WHERE name = 'instances_v0'")
        if "changes" in tables and "partition_key" not in _columns(db, "changes"):
            db.execute(
                "ALTER TABLE changes ADD COLUMN partition_key INTEGER NOT NULL "
                f"DEFAULT {DEFAULT_PARTITION_KEY}"
            )
    else:
        db.execute(_INSTANCES)
    _indexes(db)
    db.execute(
        "INSERT OR IGNORE INTO partitions (partition_key, name, created_at) VALUES (?, ?, ?)",
        (DEFAULT_PARTITION_KEY, DEFAULT_PARTITION, now),
    )
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return migrated
