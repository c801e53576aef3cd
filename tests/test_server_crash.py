"""kill -9 under load: what was acknowledged survives, nothing is left wedged or orphaned.

A `dicomweb-nb serve` process on one data folder takes concurrent stores and deletes and is
killed with SIGKILL several times, restarted on the same folder each time. Bounded: five kills,
about a second of load before each.
"""

from __future__ import annotations

import io
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pydicom
import pytest
import requests

from dicomweb_nb import samples

from .helpers import free_port, serve

JSON = {"Accept": "application/dicom+json"}
KILLS = 5


def _start(folder: Path, port: int) -> subprocess.Popen[bytes]:
    proc: subprocess.Popen[bytes] = serve(
        folder, port, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/health/check", timeout=1).raise_for_status()
            return proc
        except requests.RequestException:
            if proc.poll() is not None:
                pytest.fail(proc.stderr.read().decode() if proc.stderr else "server died")
            time.sleep(0.05)
    pytest.fail("server did not start")


def _payloads(count: int) -> dict[str, tuple[pydicom.Dataset, bytes]]:
    out = {}
    for ds in samples.synthetic_datasets(count // 10, 2, 5, rows=16, columns=16):
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        out[str(ds.SOPInstanceUID)] = (ds, buffer.getvalue())
    return out


def test_kill_9_under_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    folder, port = tmp_path / "data", free_port()
    base = f"http://127.0.0.1:{port}/v1"
    payloads = _payloads(400)
    pending = list(payloads)
    random.Random(3).shuffle(pending)
    acknowledged: set[str] = set()
    deleted: set[str] = set()
    attempted: set[str] = set()  # deletes sent; the server may have done them without answering
    lock = threading.Lock()

    def store_loop(stop: threading.Event) -> None:
        with requests.Session() as http:
            while not stop.is_set():
                with lock:
                    if not pending:
                        return
                    sop = pending.pop()
                try:
                    r = http.post(
                        base + "/studies",
                        data=payloads[sop][1],
                        headers={**JSON, "Content-Type": "application/dicom"},
                        timeout=10,
                    )
                except requests.RequestException:
                    continue  # no answer: unacknowledged
                if r.status_code == 200:
                    with lock:
                        acknowledged.add(sop)

    def delete_loop(stop: threading.Event) -> None:
        rng = random.Random(5)
        with requests.Session() as http:
            while not stop.is_set():
                with lock:
                    done = sorted(acknowledged - deleted)
                if not done:
                    time.sleep(0.01)
                    continue
                sop = rng.choice(done)
                with lock:
                    attempted.add(sop)
                ds = payloads[sop][0]
                url = f"{base}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/{sop}"
                try:
                    r = http.delete(url, timeout=10)
                except requests.RequestException:
                    continue
                if r.status_code == 204:
                    with lock:
                        deleted.add(sop)
                time.sleep(0.02)

    rng = random.Random(11)
    for _ in range(KILLS):
        proc = _start(folder, port)
        stop = threading.Event()
        workers = [threading.Thread(target=store_loop, args=(stop,)) for _ in range(3)]
        workers.append(threading.Thread(target=delete_loop, args=(stop,)))
        for w in workers:
            w.start()
        time.sleep(rng.uniform(0.4, 1.2))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        stop.set()
        for w in workers:
            w.join()
    assert acknowledged, "the load stored nothing: the test would prove nothing"

    proc = _start(folder, port)
    try:
        with requests.Session() as http:
            # Every acknowledged, undeleted instance is there byte for byte; deleted ones are gone.
            gone = set(deleted)
            for sop in sorted(acknowledged):
                ds, data = payloads[sop]
                url = f"{base}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/{sop}"
                r = http.get(
                    url, headers={"Accept": "application/dicom; transfer-syntax=*"}, timeout=30
                )
                if sop in deleted:
                    assert r.status_code == 404, sop
                elif sop in attempted and r.status_code == 404:
                    gone.add(sop)  # deleted, but the answer was lost with the process
                else:
                    assert r.status_code == 200, sop
                    assert r.content == data, sop
            # A retry of everything never acknowledged stores it (or finds it stored).
            for sop, (_, data) in payloads.items():
                if sop in acknowledged:
                    continue
                r = http.post(
                    base + "/studies",
                    data=data,
                    headers={**JSON, "Content-Type": "application/dicom"},
                    timeout=30,
                )
                assert r.status_code in (200, 409), (sop, r.status_code, r.text)
                if r.status_code == 409:
                    assert "45070" in r.text or r.json()["00081198"]["Value"][0]["00081197"][
                        "Value"
                    ] == [45070]
            r = http.get(base + "/instances", params={"limit": 200}, headers=JSON, timeout=30)
            found = len(r.json())
            r = http.get(
                base + "/instances", params={"limit": 200, "offset": 200}, headers=JSON, timeout=30
            )
            found += len(r.json()) if r.status_code == 200 else 0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    files = sorted((folder / "instances").rglob("*.dcm"))
    db = sqlite3.connect(folder / "index.sqlite")
    indexed = {folder / p for (p,) in db.execute("SELECT path FROM instances WHERE status = 1")}
    stuck = db.execute("SELECT COUNT(*) FROM instances WHERE status = 0").fetchone()[0]
    expected = len(payloads) - len(gone)
    assert found == expected == len(files) == len(indexed)
    assert set(files) == indexed  # no orphans, no rows without files
    assert stuck == 0
    assert not list((folder / "tmp").iterdir())
