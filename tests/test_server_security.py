"""Security hygiene of the embedded server: what it writes, who may ask, how much and how slowly."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from dicomweb_nb import LocalServer
from dicomweb_nb.cli import build_parser, parse_size
from dicomweb_nb.server.app import create_app
from dicomweb_nb.server.serving import MAX_HEAD_BYTES, TimedHttpToolsProtocol

from .helpers import JSON, make_instance, multipart, read_response, stow

STUDY, SERIES = "1.2.826.0.1.3680043.8.498.9", "1.2.826.0.1.3680043.8.498.9.1"


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_data_folders_and_index_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)  # the most permissive: every mode below is set, not inherited
    try:
        with LocalServer(tmp_path / "data") as server:
            assert (
                stow(server.url, [make_instance(STUDY, SERIES, f"{SERIES}.1")]).status_code == 200
            )
            root = tmp_path / "data"
            for folder in (root, root / "tmp", root / "instances", root / "instances" / STUDY):
                assert _mode(folder) == 0o700, folder
            assert _mode(root / "instances" / STUDY / SERIES) == 0o700
            for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
                assert _mode(root / name) == 0o600, name
            [instance] = (root / "instances").rglob("*.dcm")
            assert _mode(instance) == 0o600
    finally:
        os.umask(old)


def test_bearer_scheme_in_any_case_and_a_quiet_health_check(tmp_path: Path) -> None:
    with LocalServer(tmp_path / "data", token="s3cret") as server:
        url = f"{server.url}/studies"
        for scheme in ("Bearer", "bearer", "BEARER", "bEaReR"):
            r = requests.get(url, headers={**JSON, "Authorization": f"{scheme} s3cret"})
            assert r.status_code == 204, scheme
        for wrong in ("Bearer s3cre", "Basic s3cret", "s3cret", "Bearer"):
            assert requests.get(url, headers={**JSON, "Authorization": wrong}).status_code == 401
        health = f"{server.base_url}/health/check"
        assert requests.get(health).json() == {"status": "Healthy"}
        authorised = requests.get(health, headers={"Authorization": "bearer s3cret"}).json()
        assert authorised["status"] == "Healthy" and "studies" in authorised
    with LocalServer(tmp_path / "open") as server:  # no token: everything is open anyway
        assert "studies" in requests.get(f"{server.base_url}/health/check").json()


@pytest.fixture()
def serve(tmp_path: Path) -> Iterator[Any]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(*options: str, env: dict[str, str] | None = None) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        command = [sys.executable, "-m", "dicomweb_nb.cli", "serve", "--port", str(port)]
        command += ["--data", str(tmp_path / f"data{len(procs)}"), "--log-level", "warning"]
        proc = subprocess.Popen(
            [*command, *options],
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        root = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                requests.get(f"{root}/health/check", timeout=1)
                return f"{root}/v1"
            except requests.ConnectionError:
                assert proc.poll() is None, "dicomweb-nb serve exited"
                time.sleep(0.05)
        raise AssertionError("dicomweb-nb serve did not start")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_token_from_a_file_or_the_environment(serve: Any, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    token_file.chmod(0o600)
    for url, token in (
        (serve("--token-file", str(token_file)), "from-a-file"),
        (serve(env={"DICOMWEB_NB_TOKEN": "from-the-environment"}), "from-the-environment"),
    ):
        assert requests.get(f"{url}/studies", headers=JSON).status_code == 401
        good = {**JSON, "Authorization": f"Bearer {token}"}
        assert requests.get(f"{url}/studies", headers=good).status_code == 204
    with pytest.raises(SystemExit):  # one way at a time
        build_parser().parse_args(["serve", "--token", "a", "--token-file", str(token_file)])


def test_max_body_is_refused_in_the_reference_words(tmp_path: Path) -> None:
    assert parse_size("4G") == 4 * 1024**3 and parse_size("512KiB") == 512 * 1024
    assert parse_size("0") is None and parse_size("none") is None
    assert build_parser().parse_args(["serve"]).max_body == 4 * 1024**3
    parts = [make_instance(STUDY, SERIES, f"{SERIES}.{k}") for k in range(1, 6)]
    with LocalServer(tmp_path / "data", max_body=3000) as server:
        assert stow(server.url, parts[:1]).status_code == 200
        # DicomCoreResource.resx RequestLengthLimitExceeded, 413 (PayloadTooLargeException).
        expected = "The request exceeded the allowed limit of 3000 bytes."
        r = stow(server.url, parts)  # Content-Length says it up front
        assert r.status_code == 413 and r.text == expected
        assert r.headers["connection"] == "close"
        body, content_type = multipart(parts)
        chunks = (body[i : i + 1000] for i in range(0, len(body), 1000))  # no length: chunked
        r = requests.post(
            f"{server.url}/studies", data=chunks, headers={**JSON, "Content-Type": content_type}
        )
        assert r.status_code == 413 and r.text.startswith(expected)
        assert list((tmp_path / "data" / "tmp").iterdir()) == []


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
        return True
    except TimeoutError:
        return False


def test_a_slow_request_head_is_cut_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TimedHttpToolsProtocol, "header_timeout", 0.5)
    with LocalServer(tmp_path / "data") as server:
        # Never a byte; then half a request line: both are closed, generously soon.
        with socket.create_connection((server.host, server.port)) as silent:
            assert _closed_within(silent, 15)
        with socket.create_connection((server.host, server.port)) as slow:
            slow.sendall(b"GET /health/check HTTP/1.1\r\nHost: x\r\n")
            assert _closed_within(slow, 15)
        # The same after a first request on the connection: each head has its own deadline
        # (uvicorn's keep-alive timer stops at the next request's first byte).
        with socket.create_connection((server.host, server.port)) as again:
            again.sendall(b"GET /health/check HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(again)[0].startswith("HTTP/1.1 200 ")
            again.sendall(b"GET /health/check HTTP/1.1\r\n")
            assert _closed_within(again, 5)
        # A request that arrives whole is answered, on a connection that stays usable.
        with requests.Session() as s:
            for _ in range(2):
                assert s.get(f"{server.base_url}/health/check", timeout=10).status_code == 200
                time.sleep(0.7)  # longer than the head timeout, between requests


def test_a_request_head_over_the_bound_is_answered_431(tmp_path: Path) -> None:
    with LocalServer(tmp_path / "data") as server:
        # Just under the bound, sent in small pieces (the count spans them): answered.
        line = b"GET /health/check HTTP/1.1\r\nHost: x\r\n"
        filler = b"X-Filler: " + b"a" * (MAX_HEAD_BYTES - len(line) - 200) + b"\r\n"
        with socket.create_connection((server.host, server.port)) as ok:
            head = line + filler + b"\r\n"
            for i in range(0, len(head), 1000):
                ok.sendall(head[i : i + 1000])
            assert read_response(ok)[0].startswith("HTTP/1.1 200 ")
        # Over it, in the request line or across many headers: 431, and the connection closes.
        long_target = b"GET /v1/studies?PatientID=" + b"9" * MAX_HEAD_BYTES + b" HTTP/1.1\r\n"
        many = line + b"".join(
            b"X-N%d: %s\r\n" % (n, b"b" * 100) for n in range(MAX_HEAD_BYTES // 100)
        )
        for head in (long_target + b"Host: x\r\n\r\n", many + b"\r\n"):
            with socket.create_connection((server.host, server.port)) as big:
                big.sendall(head)
                status, _, body = read_response(big)
                assert status.startswith("HTTP/1.1 431 "), status
                assert f"exceed {MAX_HEAD_BYTES} bytes".encode() in body
                assert _closed_within(big, 15)
        # The server goes on answering.
        assert requests.get(f"{server.base_url}/health/check", timeout=10).status_code == 200


def test_a_stalled_body_is_answered_408(tmp_path: Path) -> None:
    app = create_app(tmp_path / "data", body_timeout=0.2)
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        messages = [{"type": "http.request", "body": b"--x\r\n", "more_body": True}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop(0)
            await asyncio.sleep(3600)  # the client stopped sending
            raise AssertionError("not reached")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/v1/studies",
            "raw_path": b"/v1/studies",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"accept", b"application/dicom+json"),
                (b"content-type", b'multipart/related; type="application/dicom"; boundary=x'),
            ],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 2),
        }
        await asyncio.wait_for(app(scope, receive, send), 30)

    asyncio.run(run())
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert b"stopped arriving for 0.2 seconds" in sent[1]["body"]
