"""Start Debian's Orthanc with its DICOMweb plugin on a free loopback port, for interop tests."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def orthanc_available() -> bool:
    return shutil.which("Orthanc") is not None and PLUGIN.exists()


def start_orthanc(folder: Path) -> Iterator[str]:
    """Yield Orthanc's DICOMweb root URL; stop it afterwards."""
    if not orthanc_available():
        if os.environ.get("CI"):
            pytest.fail(
                "Orthanc is not installed: .ci/run must apt-get install orthanc orthanc-dicomweb"
            )
        pytest.skip("Orthanc not installed (apt-get install orthanc orthanc-dicomweb)")
    port = _free_port()
    config = {
        "Name": "dicomweb-nb-tests",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "index"),
        "HttpPort": port,
        "DicomServerEnabled": False,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "HttpCompressionEnabled": False,
        "Plugins": [str(PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
    }
    path = folder / "orthanc.json"
    path.write_text(json.dumps(config))
    log = open(folder / "orthanc.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(["Orthanc", str(path)], stdout=log, stderr=subprocess.STDOUT)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{root}/system", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / "orthanc.log").read_text()[-2000:])
            time.sleep(0.1)
        yield f"{root}/dicom-web"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
