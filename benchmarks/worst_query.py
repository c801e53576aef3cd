"""One hostile query against the rest: how long the worst wildcard takes, and what others wait.

    python benchmarks/worst_query.py [--studies 2000]

Fills a `dicomweb-nb serve` process with studies whose names are 64 characters of 'a' (the
backtracking matcher's worst case), then sends pathological wildcard and fuzzy queries in a loop
while another client times `/health/check` and an ordinary search. Prints the worst query time and
the other requests' p50/p99 latency, idle and during the attack.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import _template
from servers import start_ours

JSON = {"Accept": "application/dicom+json"}
HOSTILE = ["*a" * 8 + "*b", "*a" * 40 + "*b", "?" * 63 + "*b", "*a*?*a*" * 9 + "b", "a" * 64 + "*b"]


def _fill(base: str, studies: int) -> None:
    from pydicom.uid import generate_uid

    ds = _template()
    with requests.Session() as http:
        for k in range(studies):
            ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
            ds.SOPInstanceUID = generate_uid()
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.PatientName = "a" * 64
            ds.PatientID = f"{'a' * 56}{k:08d}"
            ds.Modality = "CT"
            buffer = io.BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            http.post(
                base + "/studies",
                data=buffer.getvalue(),
                headers={**JSON, "Content-Type": "application/dicom"},
            ).raise_for_status()


def _others(base: str, root: str, stop: threading.Event, out: list[float]) -> None:
    with requests.Session() as http:
        while not stop.is_set():
            for url, params in ((root + "/health/check", {}), (base + "/studies", {"limit": "10"})):
                started = time.perf_counter()
                http.get(url, params=params, headers=JSON, timeout=120).raise_for_status()
                out.append((time.perf_counter() - started) * 1000)


def _summary(values: list[float]) -> str:
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return f"p50 {statistics.median(values):6.2f} ms, p99 {p99:6.2f} ms ({len(values)} requests)"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--studies", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    base, proc = start_ours(Path(tempfile.mkdtemp()) / "data")
    root = base.rsplit("/v", 1)[0]
    try:
        _fill(base, args.studies)
        for label, attack in (("idle", False), ("during hostile queries", True)):
            stop, latencies, worst = threading.Event(), [], 0.0
            other = threading.Thread(target=_others, args=(base, root, stop, latencies))
            other.start()
            started = time.perf_counter()
            with requests.Session() as http:
                while time.perf_counter() - started < args.seconds:
                    if not attack:
                        time.sleep(0.05)
                        continue
                    for value in HOSTILE:
                        for key, fuzzy in (
                            ("PatientName", "false"),
                            ("PatientID", "false"),
                            ("PatientName", "true"),
                        ):
                            t = time.perf_counter()
                            http.get(
                                base + "/studies",
                                params={key: value, "fuzzymatching": fuzzy},
                                headers=JSON,
                                timeout=120,
                            )
                            worst = max(worst, (time.perf_counter() - t) * 1000)
            stop.set()
            other.join()
            print(f"other requests, {label}: {_summary(latencies)}")
            if attack:
                print(
                    f"worst hostile query ({args.studies} studies of 64-character names): {worst:.1f} ms"
                )
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
