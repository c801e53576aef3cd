"""Reads racing deletes: every answer is the whole instance or a clean 404 (fault test, bounded).

Before the fix, 300 delete/re-store rounds with concurrent reads gave 500s with a server path in the
body, 200s cut off after their Content-Length, and 406s from /rendered for a file that had just
been deleted. The retrieve now opens its files before it answers (an open file survives an unlink).
"""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from collections.abc import Callable

import pydicom
import requests
from PIL import Image

from dicomweb_nb import LocalServer, samples
from dicomweb_nb.protocol.media import parse_media_type
from dicomweb_nb.protocol.multipart import iter_parts

from .helpers import stow

ROUNDS = 30
READERS = 4
FRAME_BYTES = 64 * 64 * 2


def _check_instance(r: requests.Response) -> str | None:
    if len(r.content) != int(r.headers["content-length"]):
        return "length"
    ds = pydicom.dcmread(io.BytesIO(r.content))
    return None if int(ds.NumberOfFrames) == 4 else "frames"


def _parts(r: requests.Response) -> list[bytes]:
    boundary = parse_media_type(r.headers["content-type"]).param("boundary") or ""
    return [p.content for p in iter_parts([r.content], boundary)]


def _check_study(r: requests.Response) -> str | None:
    parts = _parts(r)
    if len(parts) != 1:
        return f"{len(parts)} parts"
    pydicom.dcmread(io.BytesIO(parts[0]))
    return None


def _check_frames(r: requests.Response) -> str | None:
    sizes = [len(p) for p in _parts(r)]
    return None if sizes == [FRAME_BYTES, FRAME_BYTES] else f"frame sizes {sizes}"


def _check_rendered(r: requests.Response) -> str | None:
    Image.open(io.BytesIO(r.content)).load()
    return None


def test_reads_racing_deletes_get_whole_answers_or_404(server: LocalServer) -> None:
    ds = samples.multiframe_dataset(frames=4)
    data = samples.to_bytes(ds)
    assert stow(server.url, [data]).status_code == 200
    study = f"{server.url}/studies/{ds.StudyInstanceUID}"
    instance = f"{study}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}"
    reads: list[tuple[str, dict[str, str], Callable[[requests.Response], str | None]]] = [
        (instance, {"Accept": "application/dicom; transfer-syntax=*"}, _check_instance),
        (study, {"Accept": 'multipart/related; type="application/dicom"'}, _check_study),
        (
            f"{instance}/frames/2,3",
            {"Accept": 'multipart/related; type="application/octet-stream"'},
            _check_frames,
        ),
        (f"{instance}/rendered", {"Accept": "image/png"}, _check_rendered),
        (f"{instance}/frames/1/rendered", {"Accept": "image/jpeg"}, _check_rendered),
    ]
    done = threading.Event()
    outcomes: Counter[str] = Counter()
    problems: list[str] = []
    lock = threading.Lock()

    def reader(k: int) -> None:
        with requests.Session() as s:
            i = k
            while not done.is_set():
                url, headers, check = reads[i % len(reads)]
                i += 1
                status = 0
                try:
                    r = s.get(url, headers=headers, timeout=60)
                    status = r.status_code
                    if status == 200:
                        problem = check(r)
                    elif status == 404:
                        problem = None
                    else:
                        problem = f"{status} {r.text[:200]}"
                except requests.RequestException as exc:  # a body cut short lands here
                    problem = f"{type(exc).__name__}: {exc}"
                with lock:
                    outcomes[f"{url.rsplit('/', 1)[-1]} {status}"] += 1
                    if problem is not None:
                        problems.append(f"{url}: {problem}")

    threads = [threading.Thread(target=reader, args=(k,), daemon=True) for k in range(READERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 300  # a liveness bound only: the rounds take seconds
    try:
        for _ in range(ROUNDS):
            assert requests.delete(study, timeout=60).status_code == 204
            time.sleep(0.005)  # let reads in the gap see the instance gone
            assert stow(server.url, [data], timeout=60).status_code == 200
            assert time.monotonic() < deadline
    finally:
        done.set()
        for t in threads:
            t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert problems == [], (problems[:10], outcomes)
    # The race really was run: both answers happened.
    assert any(k.endswith(" 200") for k in outcomes) and any(k.endswith(" 404") for k in outcomes)
