"""A disk that fills up mid-STOW: each instance gets its own outcome (fault test, with mocks).

Before: a multi-instance STOW that ran out of space answered a plain 500 although part 1 was
stored, and the client's retry of the whole request then got 45070 for it. Now every part is
stored or fails with 272 (processing failure) and the reason in words, as any other per-instance
failure; the parts after it are tried in turn. A full disk cannot be made on demand, so the
faults are injected where the OS would raise them: writing a part's temp file, syncing the stored
file, and SQLite's "database or disk is full".
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from starlette.testclient import TestClient

from dicomweb_nb.server import store, syncing
from dicomweb_nb.server.app import create_app
from dicomweb_nb.server.index import Index

from .helpers import JSON, make_instance, multipart

STUDY, SERIES = "1.2.826.0.1.3680043.8.498.7", "1.2.826.0.1.3680043.8.498.7.1"
SOPS = [f"{SERIES}.{k}" for k in (1, 2, 3)]
ENOSPC = OSError(errno.ENOSPC, "No space left on device", "/data/secret/place")


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tmp_path / "data")) as c:
        yield c


def _stow(client: TestClient, sops: list[str], single: bool = False) -> Any:
    parts = [make_instance(STUDY, SERIES, sop) for sop in sops]
    if single:
        headers = {**JSON, "Content-Type": "application/dicom"}
        return client.post("/v1/studies", content=parts[0], headers=headers)
    body, content_type = multipart(parts)
    return client.post("/v1/studies", content=body, headers={**JSON, "Content-Type": content_type})


def _stored(response: Any) -> list[str]:
    return [i["00081155"]["Value"][0] for i in response.json().get("00081199", {}).get("Value", [])]


def _failures(response: Any) -> list[tuple[int, str]]:
    return [
        (i["00081197"]["Value"][0], i["00741048"]["Value"][0]["00000902"]["Value"][0])
        for i in response.json().get("00081198", {}).get("Value", [])
    ]


def _no_leftovers(tmp_path: Path) -> None:
    assert list((tmp_path / "data" / "tmp").iterdir()) == []


class _FullAfter:
    """A temp file that takes ``room`` bytes and then raises ENOSPC, as a full disk would."""

    def __init__(self, fh: IO[bytes], room: int) -> None:
        self._fh, self._room = fh, room

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            raise ENOSPC
        self._room -= len(data)
        return self._fh.write(data)

    def close(self) -> None:
        self._fh.close()


def test_a_part_that_cannot_be_written_fails_alone(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = 0
    original = store.Archive.temp_file

    def temp_file(_self: store.Archive) -> tuple[Any, Path]:
        nonlocal opened
        opened += 1
        fh, path = original(_self)
        return (_FullAfter(fh, 100) if opened == 2 else fh), path

    monkeypatch.setattr(store.Archive, "temp_file", temp_file)
    r = _stow(client, SOPS)
    assert r.status_code == 202, r.text
    assert _stored(r) == [SOPS[0], SOPS[2]]
    assert _failures(r) == [
        (272, "processing failure: The part could not be written to disk: No space left on device.")
    ]
    assert "/data/secret" not in r.text and str(tmp_path) not in r.text
    _no_leftovers(tmp_path)
    # The space is back: retrying only what failed stores it; nothing else is stored twice.
    monkeypatch.setattr(store.Archive, "temp_file", original)
    assert _stow(client, [SOPS[1]]).status_code == 200


def test_a_single_part_body_that_cannot_be_written(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def temp_file(_self: store.Archive) -> tuple[Any, Path]:
        raise ENOSPC

    monkeypatch.setattr(store.Archive, "temp_file", temp_file)
    r = _stow(client, SOPS[:1], single=True)
    assert r.status_code == 409, r.text
    assert _failures(r) == [
        (272, "processing failure: The part could not be written to disk: No space left on device.")
    ]
    _no_leftovers(tmp_path)


def test_the_disk_filling_while_instances_are_made_durable(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The parts of a request are committed as a group: one sync of their folder, one index
    # transaction. A full disk at that sync fails the instances whose files were in that folder,
    # each with its own 272; their files are removed and their reservations released.
    calls = 0
    original = syncing.fsync_dir

    def fsync_dir(path: Path) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ENOSPC
        original(path)

    monkeypatch.setattr(syncing, "fsync_dir", fsync_dir)
    r = _stow(client, SOPS)
    assert r.status_code == 409, r.text
    assert _stored(r) == []
    assert (
        _failures(r)
        == [
            (272, "processing failure: The instance could not be written: No space left on device.")
        ]
        * 3
    )
    assert "/data/secret" not in r.text
    _no_leftovers(tmp_path)
    assert list((tmp_path / "data" / "instances").rglob("*.dcm")) == []
    assert _stow(client, SOPS).status_code == 200


@pytest.mark.parametrize("method", ["reserve", "commit"])
def test_the_index_filling_up(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    # The index refuses the row of the second instance: at its reservation, or in the group's
    # commit, after which each instance is committed alone so only that one fails.
    original = getattr(Index, method)

    def names_second(args: tuple[Any, ...]) -> bool:
        if method == "reserve":
            return SOPS[1] in args
        return any(item.record.sop_uid == SOPS[1] for item in args[0])

    def full(self: Index, *args: Any, **kwargs: Any) -> Any:
        if names_second(args):
            raise sqlite3.OperationalError("database or disk is full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Index, method, full)
    r = _stow(client, SOPS)
    assert r.status_code == 202, r.text
    assert _stored(r) == [SOPS[0], SOPS[2]]
    [(reason, comment)] = _failures(r)
    assert reason == 272 and comment.endswith("database or disk is full")
    _no_leftovers(tmp_path)
    files = sorted(p.name.split(".")[-3] for p in (tmp_path / "data" / "instances").rglob("*.dcm"))
    assert files == ["1", "3"]  # the failed instance's file was removed
    monkeypatch.setattr(Index, method, original)
    assert _stow(client, [SOPS[1]]).status_code == 200


def test_a_failed_sync_and_a_refused_group_together(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second file cannot be synced and the index refuses any group holding its row: the
    # second fails for its sync, the other two are still stored (as a group of their own).
    original_sync, original_commit = syncing.fdatasync, Index.commit

    def fdatasync(path: Path) -> None:
        if SOPS[1] in path.name:
            raise ENOSPC
        original_sync(path)

    def commit(self: Index, staged: list[Any], **kwargs: Any) -> None:
        if any(item.record.sop_uid == SOPS[1] for item in staged):
            raise sqlite3.OperationalError("database or disk is full")
        original_commit(self, staged, **kwargs)

    monkeypatch.setattr(syncing, "fdatasync", fdatasync)
    monkeypatch.setattr(Index, "commit", commit)
    r = _stow(client, SOPS)
    assert r.status_code == 202, r.text
    assert _stored(r) == [SOPS[0], SOPS[2]]
    assert _failures(r) == [
        (272, "processing failure: The instance could not be written: No space left on device.")
    ]
    _no_leftovers(tmp_path)
    files = sorted(p.name.split(".")[-3] for p in (tmp_path / "data" / "instances").rglob("*.dcm"))
    assert files == ["1", "3"]
