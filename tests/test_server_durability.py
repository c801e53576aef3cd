"""What a STOW makes durable before it answers, and in which order (syncs observed, not mocked away).

A power cut cannot be made on demand, so the syncs are watched where the server asks the OS for
them: every folder on a new file's path is synced (a new study's folder lives only once its
parent is synced), and no index row becomes visible before its file and folders are synced,
although the index statements now run while the disk syncs.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from dicomweb_nb.server import syncing
from dicomweb_nb.server.app import create_app

from .helpers import JSON, make_instance, multipart

STUDY = "1.2.826.0.1.3680043.8.498.9"
SERIES = [f"{STUDY}.1", f"{STUDY}.2"]


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tmp_path / "data")) as c:
        yield c


def _stow(client: TestClient, uids: list[tuple[str, str]]) -> int:
    body, content_type = multipart([make_instance(STUDY, s, sop) for s, sop in uids])
    headers = {**JSON, "Content-Type": content_type}
    return client.post("/v1/studies", content=body, headers=headers).status_code


def test_every_folder_on_a_new_files_path_is_synced(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    original = syncing.fsync_dir

    def fsync_dir(path: Path) -> None:
        synced.append(path)
        original(path)

    monkeypatch.setattr(syncing, "fsync_dir", fsync_dir)
    assert _stow(client, [(SERIES[0], f"{SERIES[0]}.1"), (SERIES[1], f"{SERIES[1]}.1")]) == 200
    instances = tmp_path / "data" / "instances"
    # Both series folders, the study folder that holds them and instances/ that holds it: each
    # once for the request (one group commit).
    assert sorted(synced) == sorted(
        [instances, instances / STUDY, instances / STUDY / SERIES[0], instances / STUDY / SERIES[1]]
    )


def test_no_row_is_visible_before_its_file_is_synced(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # While a file's data sync is (slowly) under way, another connection must not see its
    # instance as stored: the index transaction waits for the syncs before it commits.
    seen_early: list[int] = []
    original = syncing.fdatasync
    database = tmp_path / "data" / "index.sqlite"

    def slow_fdatasync(path: Path) -> None:
        time.sleep(0.2)  # the index statements run meanwhile
        with sqlite3.connect(database) as db:
            seen_early.append(
                db.execute("SELECT count(*) FROM instances WHERE status=1").fetchone()[0]
            )
        original(path)

    monkeypatch.setattr(syncing, "fdatasync", slow_fdatasync)
    uids = [(SERIES[0], f"{SERIES[0]}.{k}") for k in (1, 2, 3)]
    assert _stow(client, uids) == 200
    assert seen_early == [0, 0, 0]
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM instances WHERE status=1").fetchone()[0] == 3


def test_a_write_waits_for_the_commit_before_it_without_failing(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A commit holds the index's write lock while its syncs finish; requests reserving meanwhile
    # wait their turn (in-process lock) and all succeed.
    original = syncing.fdatasync

    def slow_fdatasync(path: Path) -> None:
        time.sleep(0.05)
        original(path)

    monkeypatch.setattr(syncing, "fdatasync", slow_fdatasync)
    codes: list[int] = []

    def store(k: int) -> None:
        codes.append(_stow(client, [(SERIES[k % 2], f"{SERIES[k % 2]}.{100 + k}")]))

    threads = [threading.Thread(target=store, args=(k,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert codes == [200] * 6
    found = client.get(f"/v1/studies/{STUDY}/instances", headers=JSON).json()
    assert len(found) == 6
