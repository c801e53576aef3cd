"""The index schema: migration of a first-release folder, study/series rows, partitions,
reservations of dead processes, start-up reconciliation, linear-time matching."""

from __future__ import annotations

import json
import logging
import random
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pydicom
import pytest
import requests

from dicomweb_nb import LocalServer, samples
from dicomweb_nb.server import rollups
from dicomweb_nb.server.index import CREATING
from dicomweb_nb.server.query import parse_query
from dicomweb_nb.server.query_sql import search
from dicomweb_nb.server.store import Archive, import_files

DATA = Path(__file__).parent / "data"
JSON = {"Accept": "application/dicom+json"}


def _files(folder: Path, datasets: list[pydicom.Dataset]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, ds in enumerate(datasets):
        path = folder / f"{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def test_a_first_release_folder_opens_upgraded_with_the_same_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "archive"
    shutil.copytree(DATA / "archive-v0", folder)
    expected = json.loads((DATA / "archive-v0-answers.json").read_text())
    with caplog.at_level(logging.WARNING, "dicomweb_nb.server"), LocalServer(folder) as server:
        for name, case in expected.items():
            response = requests.get(server.url + case["query"], headers=JSON, timeout=30)
            assert response.status_code == case["status"], name
            body = response.json()
            if name == "changefeed":
                for entry in body:
                    entry.pop("timestamp")
                    # Beyond the first release: each entry names its partition.
                    assert entry.pop("partitionName") == "Microsoft.Default"
            else:
                _drop_default_counts(body, case["body"])
            assert body == case["body"], name
        # The sequence of watermarks goes on: a new copy never reuses an old number.
        ds = samples.tutorial_dataset("red-triangle.dcm")
        stored = requests.post(
            server.url + "/studies",
            data=samples.to_bytes(ds),
            headers={**JSON, "Content-Type": "application/dicom"},
            timeout=30,
        )
        assert stored.status_code == 200
        etag = requests.get(
            f"{server.url}/studies/{samples.STUDY_UID}/metadata", headers=JSON, timeout=30
        ).headers["ETag"]
        assert int(etag.split("-")[0]) > 9
    assert any("upgraded" in r.getMessage() for r in caplog.records)
    db = sqlite3.connect(folder / "index.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    assert db.execute("SELECT COUNT(*) FROM studies").fetchone()[0] == 3


# Counts and ModalitiesInStudy now come without includefield (for OHIF's study list); the first
# release returned them only when asked, and its answers are kept as they were.
DEFAULT_COUNTS = {"00080061", "00201206", "00201208", "00201209"}


def _drop_default_counts(body: list[dict[str, object]], first: list[dict[str, object]]) -> None:
    for item, old in zip(body, first, strict=True):
        for key in DEFAULT_COUNTS - set(old):
            item.pop(key, None)  # tests/test_server_qido.py checks which level returns which


def _rollup_rows(db: sqlite3.Connection) -> tuple[list[tuple[object, ...]], ...]:
    return (
        db.execute("SELECT * FROM studies ORDER BY partition_key, study_uid").fetchall(),
        db.execute("SELECT * FROM series ORDER BY partition_key, study_uid, series_uid").fetchall(),
        db.execute("SELECT * FROM pn_terms ORDER BY study_key, attribute, kind, term").fetchall(),
    )


def _without_keys(rows: tuple[list[tuple[object, ...]], ...]) -> object:
    studies, series, terms = rows
    keys = {r[0]: (r[1], r[2]) for r in studies}
    return (
        [r[1:] for r in studies],
        [r[1:] for r in series],
        sorted((keys[r[0]], *r[1:]) for r in terms),
    )


def test_study_and_series_rows_stay_equal_to_a_rebuild(tmp_path: Path) -> None:
    # Stores and deletes in a random (seeded) order, in two partitions; after each step the
    # incrementally kept rows equal what a full rebuild from the instances gives.
    archive = Archive(tmp_path / "data")
    datasets = list(samples.synthetic_datasets(3, 2, 3, rows=8, columns=8))
    paths = _files(tmp_path / "in", datasets)
    rng = random.Random(7)
    db = archive.index.connection()
    for step in range(40):
        partition = rng.choice([1, 2])
        if rng.random() < 0.65:
            path = rng.choice(paths)
            fh, temp = archive.temp_file()
            with fh:
                fh.write(path.read_bytes())
            archive.ingest(temp, study_in_path=None, version="2", partition=partition)
        else:
            ds = rng.choice(datasets)
            scope = rng.choice([1, 2, 3])
            archive.delete(
                ds.StudyInstanceUID,
                ds.SeriesInstanceUID if scope > 1 else None,
                ds.SOPInstanceUID if scope > 2 else None,
                partition,
            )
        kept = _without_keys(_rollup_rows(db))
        with archive.index.write() as tx:
            rollups.rebuild(tx)
        assert _without_keys(_rollup_rows(db)) == kept, step


def test_partitions_hold_the_same_uids_apart(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "data")
    paths = _files(tmp_path / "in", [samples.tutorial_dataset(n) for n in samples.TUTORIAL_FILES])
    alice = archive.index.partition_key("alice", create=True)
    assert alice is not None and alice != 1
    assert [o.stored for o in import_files(archive, paths)] == [True] * 3
    for path in paths:
        fh, temp = archive.temp_file()
        with fh:
            fh.write(path.read_bytes())
        assert archive.ingest(temp, study_in_path=None, version="2", partition=alice).stored
    query = parse_query("instance", [], path={}, version="2")
    db = archive.index.connection()
    assert len(search(db, query, {}, 1)) == len(search(db, query, {}, alice)) == 3
    assert archive.delete(samples.STUDY_UID, partition=alice) == 3
    assert search(db, query, {}, alice) == []
    assert len(search(db, query, {}, 1)) == 3
    assert archive.index.counts(1)["instances"] == 3
    assert archive.index.counts(alice) == {"studies": 0, "series": 0, "instances": 0}
    assert [name for _, name, _ in archive.index.partitions()] == ["Microsoft.Default", "alice"]


def _reserve_as(archive: Archive, owner: str, ds: pydicom.Dataset, age: float = 0.0) -> None:
    with archive.index.write() as db:
        db.execute(
            "INSERT INTO instances (partition_key, status, reserved_at, owner, study_uid, "
            "series_uid, sop_uid) VALUES (1, ?, ?, ?, ?, ?, ?)",
            (
                CREATING,
                time.time() - age,
                owner,
                ds.StudyInstanceUID,
                ds.SeriesInstanceUID,
                ds.SOPInstanceUID,
            ),
        )


def _host() -> str:
    import socket

    return socket.gethostname()


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_reservation_of_a_dead_process_never_blocks_a_store(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "data")
    red, green = (samples.tutorial_dataset(n) for n in ("red-triangle.dcm", "green-square.dcm"))
    paths = _files(tmp_path / "in", [red, green])
    # A process that is gone (a real pid that has exited), and one that lives (pid 1, with its
    # real start time): only the live one's reservation holds.
    _reserve_as(archive, f"{_host()}:{_dead_pid()}:1", red)
    start = Path("/proc/1/stat").read_text().rsplit(")", 1)[1].split()[19]
    _reserve_as(archive, f"{_host()}:1:{start}", green)
    outcomes = import_files(archive, paths)
    assert outcomes[0].stored, outcomes[0].message
    assert not outcomes[1].stored and outcomes[1].reason == 45071
    # An owner that cannot be checked (another host) holds for ten minutes, not forever.
    archive.delete(red.StudyInstanceUID)
    _reserve_as(archive, "elsewhere:1:1", red, age=601)
    assert import_files(archive, paths[:1])[0].stored


def test_start_up_puts_a_crashed_folder_right(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "data"
    archive = Archive(root)
    paths = _files(tmp_path / "in", list(samples.synthetic_datasets(1, 1, 3, rows=8, columns=8)))
    assert all(o.stored for o in import_files(archive, paths))
    stored = sorted((root / "instances").rglob("*.dcm"))
    # What kill -9 leaves: a file no row names (interrupted store or delete), a temp file of a
    # dead process, a row whose file is gone, a reservation of a dead process with its file.
    orphan = stored[0].with_name("1.2.3.4.999.dcm")
    shutil.copy(stored[0], orphan)
    dead = _dead_pid()
    (root / "tmp" / f"part-{dead}-abc.dcm").write_bytes(b"half a part")
    live_temp = root / "tmp" / "part-1-keep.dcm"
    live_temp.write_bytes(b"a part pid 1 is receiving")
    stored[1].unlink()
    ds = samples.tutorial_dataset("red-triangle.dcm")
    _reserve_as(archive, f"{_host()}:{dead}:1", ds)
    watermark = (
        archive.index.connection().execute("SELECT MAX(watermark) FROM instances").fetchone()[0]
    )
    renamed = (
        root
        / "instances"
        / ds.StudyInstanceUID
        / ds.SeriesInstanceUID
        / f"{ds.SOPInstanceUID}.{watermark}.dcm"
    )
    renamed.parent.mkdir(parents=True)
    renamed.write_bytes(b"renamed into place, never committed")
    archive.index.close()
    # The crashed process's marker: it had the folder open and never closed it.
    for marker in (root / "run").iterdir():
        marker.unlink()
    (root / "run" / "crashed").write_text(f"{_host()}:{dead}:1")
    with caplog.at_level(logging.WARNING, "dicomweb_nb.server"):
        reopened = Archive(root)
    assert not orphan.exists() and not renamed.exists()
    assert not (root / "tmp" / f"part-{dead}-abc.dcm").exists() and live_temp.exists()
    db = reopened.index.connection()
    assert db.execute("SELECT COUNT(*) FROM instances WHERE status = 0").fetchone()[0] == 0
    on_disk = sorted((root / "instances").rglob("*.dcm"))
    assert len(on_disk) == 2 == reopened.index.counts()["instances"]
    assert any("is gone; removed from the index" in r.getMessage() for r in caplog.records)
    assert any("1 stale reservation(s), 1 orphan file(s)" in r.getMessage() for r in caplog.records)
    assert not (root / "run" / "crashed").exists()
    # The interrupted instance can be stored again.
    assert import_files(reopened, _files(tmp_path / "again", [ds]))[0].stored


def test_a_cleanly_closed_folder_is_not_walked_at_start(tmp_path: Path) -> None:
    # Walking every file costs time with the archive's size: it happens only after a process
    # that had the folder open went away without closing it.
    root = tmp_path / "data"
    archive = Archive(root)
    paths = _files(tmp_path / "in", list(samples.synthetic_datasets(1, 1, 2, rows=8, columns=8)))
    assert all(o.stored for o in import_files(archive, paths))
    stray = next((root / "instances").rglob("*.dcm")).with_name("1.2.3.4.999.dcm")
    stray.write_bytes(b"not walked while the folder is known to be clean")
    Archive(root)  # this process still has it open: no walk
    assert stray.exists()
    (root / "run" / "gone").write_text(f"{_host()}:{_dead_pid()}:1")
    Archive(root)  # a process that is gone left its marker: walk, and the stray file goes
    assert not stray.exists()


def test_pathological_wildcards_answer_at_once_and_never_stall_others(server: LocalServer) -> None:
    ds = samples.tutorial_dataset("red-triangle.dcm")
    ds.PatientName = "a" * 64
    ds.PatientID = "a" * 64
    requests.post(
        server.url + "/studies",
        data=samples.to_bytes(ds),
        headers={**JSON, "Content-Type": "application/dicom"},
        timeout=30,
    ).raise_for_status()
    health: list[float] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            started = time.perf_counter()
            requests.get(
                server.url.rsplit("/v", 1)[0] + "/health/check", timeout=30
            ).raise_for_status()
            health.append(time.perf_counter() - started)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        for value in ("*a" * 8 + "*b", "*a" * 40 + "*b", "?" * 63 + "*b", "*a*?*a*" * 9 + "b"):
            for key in ("PatientName", "PatientID"):
                started = time.perf_counter()
                response = requests.get(
                    server.url + "/studies", params={key: value}, headers=JSON, timeout=60
                )
                # The backtracking matcher took over 30 s for the first of these; generous bound.
                assert time.perf_counter() - started < 10
                assert response.status_code == 204, (key, value)
        found = requests.get(
            server.url + "/studies", params={"PatientName": "*a*a*a"}, headers=JSON, timeout=30
        )
        assert found.status_code == 200 and len(found.json()) == 1
    finally:
        done.set()
        poller.join()
    assert health and max(health) < 10


def test_searches_are_served_by_an_index_on_what_they_filter(tmp_path: Path) -> None:
    # The planner must not answer an exact match by walking every study newest first (what it
    # did with single-column indexes): the plan's index names the filtered column.
    archive = Archive(tmp_path / "data")
    paths = _files(tmp_path / "in", list(samples.synthetic_datasets(3, 2, 2, rows=8, columns=8)))
    import_files(archive, paths)
    db = archive.index.connection()

    def plan(level: str, params: list[tuple[str, str]], path: dict[str, str]) -> str:
        query = parse_query(level, params, path=path, version="2")
        seen: list[tuple[str, list[object]]] = []

        class Recorder:
            def execute(self, sql: str, args: object = ()) -> sqlite3.Cursor:
                seen.append((sql, list(args)))  # type: ignore[call-overload]
                return db.execute(sql, args)  # type: ignore[arg-type]

        search(Recorder(), query, path, 1)  # type: ignore[arg-type]
        sql, args = seen[0]
        return " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, args))

    study = str(pydicom.dcmread(paths[0]).StudyInstanceUID)
    assert "patient_id" in plan("study", [("PatientID", "X")], {})
    assert "accession_number" in plan("study", [("AccessionNumber", "X")], {})
    assert "ix_series_study_latest" in plan("series", [], {"study": study})
    assert "ix_instances_study" in plan("instance", [], {"study": study})
    assert "ix_pn_terms" in plan("study", [("PatientName", "doe")], {})
    assert "TEMP B-TREE" not in plan("study", [], {})  # all studies: newest first from the index


def test_an_index_left_by_an_earlier_build_is_replaced_at_open(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "data")
    with archive.index.write() as db:
        db.execute("DROP INDEX ix_studies_patient_id_latest")
        db.execute("CREATE INDEX ix_studies_patient_id ON studies (partition_key, patient_id)")
    archive.index.close()
    reopened = Archive(tmp_path / "data")
    names = {r[0] for r in reopened.index.connection().execute("SELECT name FROM sqlite_master")}
    assert "ix_studies_patient_id_latest" in names and "ix_studies_patient_id" not in names
