"""Start the servers the benchmark compares, each in its own process on a free loopback port."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ORTHANC_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(url: str, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    for _ in range(int(seconds * 10)):
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.args}")
        time.sleep(0.1)
    raise RuntimeError(f"server did not start: {proc.args}")


def _spawn(
    command: list[str], port: int, ready: str, base: str, start_seconds: float = 30
) -> tuple[str, subprocess.Popen[bytes]]:
    # Start a server quietly, wait until its ``ready`` path answers 200, return its base URL.
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(f"http://127.0.0.1:{port}{ready}", proc, start_seconds)
    return f"http://127.0.0.1:{port}{base}", proc


def start_ours(folder: Path, start_seconds: float = 30) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    command = [sys.executable, "-m", "dicomweb_nb.cli", "serve", "--port", str(port)]
    command += ["--data", str(folder), "--log-level", "warning"]
    return _spawn(command, port, "/health/check", "/v1", start_seconds)


def start_orthanc(folder: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "Name": "benchmark",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "index"),
        "HttpPort": port,
        "DicomServerEnabled": False,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "HttpCompressionEnabled": False,
        "Plugins": [ORTHANC_PLUGIN],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    (folder / "orthanc.json").write_text(json.dumps(config))
    return _spawn(["Orthanc", str(folder / "orthanc.json")], port, "/system", "/dicom-web")


def start_static(folder: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    command = [sys.executable, str(Path(__file__).parent / "static_server.py"), str(folder)]
    return _spawn([*command, str(port)], port, "/", "")


def start_floor(tier: str, folder: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    command = [sys.executable, str(Path(__file__).parent / "floor_app.py"), "--port", str(port)]
    command += ["--tier", tier, "--data", str(folder)]
    return _spawn(command, port, "/health/check", "/v1")
