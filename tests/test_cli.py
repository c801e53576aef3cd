"""The command line: one-line failures, a landing page at /, no temporary data left behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from starlette.testclient import TestClient

from dicomweb_nb.server.app import create_app

CLI = [sys.executable, "-m", "dicomweb_nb.cli"]


def test_a_busy_port_fails_in_one_line_before_anything_else(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [*CLI, "serve", "--port", str(port), "--samples", "--data", str(tmp_path / "d")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1 and done.stdout == ""  # no "Loaded…", no base URL
    [line] = done.stderr.strip().splitlines()
    assert f"Port {port} on 127.0.0.1 is already in use" in line and "--port" in line
    assert not (tmp_path / "d").exists()


def test_samples_into_a_bad_path_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    done = subprocess.run(
        [*CLI, "samples", str(tmp_path / "a-file" / "samples")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("dicomweb-nb samples: Cannot write the samples to")
    assert "Not a directory" in line


def test_serve_answers_at_the_printed_url_and_removes_its_temporary_data(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", "0", "--samples", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        url = lines[2].split("DICOMweb base URL: ")[1].split()[0]
        for _ in range(100):
            try:
                page = requests.get(url.rsplit("/v1", 1)[0] + "/", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert page.status_code == 200 and url in page.text
        assert len(requests.get(f"{url}/studies", timeout=5).json()) == 1
        assert [p.name.startswith("dicomweb-nb-") for p in tmp_path.iterdir()] == [True]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert list(tmp_path.iterdir()) == []


def test_the_landing_page_says_how_to_connect(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path)) as http:
        page = http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://testserver/v1" in page.text and "DicomWebClient(" in page.text
