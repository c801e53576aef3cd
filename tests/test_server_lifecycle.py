"""Deletes, the change feed, restarts on one data folder, two servers on one folder, the token."""

from __future__ import annotations

import datetime as dt
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from dicomweb_nb import samples
from dicomweb_nb.server.local import LocalServer

from .helpers import JSON, free_port, make_instance, serve, stow

S, SE = samples.STUDY_UID, samples.SERIES_UID_GREEN_RED


def _store_tutorial(url: str, tutorial_dir: Path) -> None:
    parts = [(tutorial_dir / name).read_bytes() for name in samples.TUTORIAL_FILES]
    assert stow(url, parts).status_code == 200


def test_delete_levels_and_restore(server: LocalServer, tutorial_dir: Path) -> None:
    _store_tutorial(server.url, tutorial_dir)
    inst = f"{server.url}/studies/{S}/series/{SE}/instances/{samples.INSTANCE_UID_RED}"
    assert requests.delete(f"{server.url}/studies/1.2.3").status_code == 404
    assert requests.delete(f"{server.url}/studies/1.2.x").status_code == 400
    assert requests.delete(inst).status_code == 204
    assert requests.get(inst, headers={"Accept": "*/*"}).status_code == 404
    assert requests.delete(inst).status_code == 404
    assert requests.delete(f"{server.url}/studies/{S}/series/{SE}").status_code == 204
    r = requests.get(f"{server.url}/studies/{S}/instances", headers=JSON)
    assert [i["00080018"]["Value"][0] for i in r.json()] == [samples.INSTANCE_UID_BLUE]
    assert requests.delete(f"{server.url}/studies/{S}").status_code == 204
    assert requests.get(f"{server.url}/studies", headers=JSON).status_code == 204
    assert list(Path(server.data_dir or "").glob("instances/**/*.dcm")) == []
    # Re-storing the same UIDs later works.
    _store_tutorial(server.url, tutorial_dir)
    assert len(requests.get(f"{server.url}/instances", headers=JSON).json()) == 3


def test_changefeed_states_and_paging(server: LocalServer) -> None:
    raw = make_instance("1.2.3", "1.2.3.4", "1.2.3.4.5")
    t0 = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    assert stow(server.url, [raw]).status_code == 200
    assert requests.delete(f"{server.url}/studies/1.2.3").status_code == 204
    assert stow(server.url, [raw]).status_code == 200
    feed = requests.get(f"{server.url}/changefeed").json()
    assert [(e["sequence"], e["action"], e["state"]) for e in feed] == [
        (1, "create", "replaced"),
        (2, "delete", "replaced"),
        (3, "create", "current"),
    ]
    assert feed[2]["sopInstanceUid"] == "1.2.3.4.5"
    assert feed[2]["metadata"]["00080018"]["Value"] == ["1.2.3.4.5"]
    assert "metadata" not in feed[0]
    # v1: offset is the exclusive starting sequence.
    assert [
        e["sequence"]
        for e in requests.get(f"{server.url}/changefeed", params={"offset": 1, "limit": 1}).json()
    ] == [2]
    latest = requests.get(
        f"{server.url}/changefeed/latest", params={"includemetadata": "false"}
    ).json()
    assert latest["sequence"] == 3 and "metadata" not in latest
    # v2: a time window, offset skips entries.
    v2 = f"{server.base_url}/v2/changefeed"
    start = t0.isoformat().replace("+00:00", "Z")
    entries = requests.get(v2, params={"startTime": start, "offset": 1}).json()
    assert [e["sequence"] for e in entries] == [2, 3]
    future = (t0 + dt.timedelta(days=1)).isoformat()
    assert requests.get(v2, params={"startTime": future}).json() == []
    for params in (
        {"startTime": "yesterday"},
        {"limit": 0},
        {"limit": 201},
        {"includemetadata": "x"},
    ):
        assert requests.get(v2, params=params).status_code == 400, params
    assert requests.get(f"{server.url}/changefeed", params={"limit": 101}).status_code == 400


def test_restart_keeps_everything(tmp_path: Path, tutorial_dir: Path) -> None:
    data = tmp_path / "archive"
    with LocalServer(data) as first:
        _store_tutorial(first.url, tutorial_dir)
        etag = requests.get(f"{first.url}/studies/{S}/metadata", headers=JSON).headers["etag"]
    with LocalServer(data) as second:
        r = requests.get(f"{second.url}/studies/{S}/metadata", headers=JSON)
        assert r.status_code == 200 and len(r.json()) == 3 and r.headers["etag"] == etag
        r = requests.get(f"{second.url}/studies/{S}", headers={"Accept": "*/*"})
        assert r.status_code == 200
        assert len(requests.get(f"{second.url}/changefeed").json()) == 3
    assert data.exists()  # a given folder is never removed


def test_two_servers_on_one_folder(tmp_path: Path, tutorial_dir: Path) -> None:
    data = tmp_path / "shared"
    with LocalServer(data) as a, LocalServer(data) as b:
        assert a.port != b.port
        raw = (tutorial_dir / "green-square.dcm").read_bytes()
        assert stow(a.url, [raw]).status_code == 200
        r = stow(b.url, [raw])
        assert r.status_code == 409
        assert len(requests.get(f"{b.url}/instances", headers=JSON).json()) == 1
        a.start()  # starting a running server again is harmless
        assert a.running


def test_temporary_folder_is_removed() -> None:
    server = LocalServer().start()
    folder = server.data_dir
    assert folder is not None and folder.exists()
    assert server.url.endswith("/v1") and server.url.startswith("http://127.0.0.1:")
    server.stop()
    assert not folder.exists()


def test_bearer_token(tmp_path: Path) -> None:
    with LocalServer(tmp_path, token="s3cret") as server:
        url = f"{server.url}/studies"
        r = requests.get(url, headers=JSON)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert "s3cret" not in r.text
        assert (
            requests.get(url, headers={**JSON, "Authorization": "Bearer wrong"}).status_code == 401
        )
        assert (
            requests.get(url, headers={**JSON, "Authorization": "Bearer s3cret"}).status_code == 204
        )
        assert requests.get(f"{server.base_url}/health/check").status_code == 200


def test_versions_and_headers(server: LocalServer) -> None:
    for prefix in ("v1.0-prerelease", "v1", "v2"):
        r = requests.get(f"{server.base_url}/{prefix}/studies", headers=JSON)
        assert r.status_code == 204, prefix
        assert r.headers["api-supported-versions"] == "1.0-prerelease, 1, 2"
    assert requests.get(f"{server.base_url}/studies", headers=JSON).status_code == 404
    assert requests.get(f"{server.base_url}/v3/studies", headers=JSON).status_code == 404
    assert requests.put(f"{server.url}/studies", headers=JSON).status_code == 405


def test_cli_serve_with_samples(tmp_path: Path) -> None:
    port = free_port()
    proc = serve(
        tmp_path, port, "--samples", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}/v1"
        for _ in range(300):
            try:
                r = requests.get(f"{url}/studies", headers=JSON, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("dicomweb-nb serve did not start")
        [study] = r.json()
        assert study["0020000D"]["Value"] == [S]
        assert len(requests.get(f"{url}/instances", headers=JSON).json()) == 3
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert "3 stored" in out


def test_the_command_line_server_answers_small_requests_without_nagle_delays() -> None:
    import socket

    from dicomweb_nb.cli import _listen

    # Both ways of serving pre-bind their socket; accepted connections inherit TCP_NODELAY from
    # it, without which every small answer waited ~40 ms for a delayed ACK.
    sock = _listen("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()


def test_servers_started_and_stopped_leave_no_sync_threads_behind(tmp_path: Path) -> None:
    # A notebook's panel starts and stops servers; their durable commits share one pool.
    from dicomweb_nb.server.syncing import SYNC_THREADS

    for n in range(4):
        with LocalServer(tmp_path / f"d{n}") as server:
            parts = [make_instance("1.2.3", "1.2.3.1", f"1.2.3.1.{k}") for k in range(12)]
            assert stow(server.url, parts).status_code == 200
    syncing = [t for t in threading.enumerate() if t.name.startswith("dicomweb-nb-sync")]
    assert 0 < len(syncing) <= SYNC_THREADS
