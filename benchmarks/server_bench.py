"""Measure the embedded server over loopback with plain requests: STOW, QIDO, WADO, metadata.

    python benchmarks/server_bench.py [--studies 4 --series 2 --instances 25 --size 512]

Prints a table and writes benchmarks/results/server-<timestamp>.json. Not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import requests

from dicomweb_nb import LocalServer, samples
from dicomweb_nb.protocol.multipart import iter_parts

JSON = {"Accept": "application/dicom+json"}


def _median_ms(fn, repeat: int = 20) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--studies", type=int, default=4)
    ap.add_argument("--series", type=int, default=2)
    ap.add_argument("--instances", type=int, default=25)
    ap.add_argument("--size", type=int, default=512)
    args = ap.parse_args()
    parts = [
        samples.to_bytes(ds)
        for ds in samples.synthetic_datasets(
            args.studies, args.series, args.instances, rows=args.size, columns=args.size
        )
    ]
    total_mb = sum(map(len, parts)) / 1e6
    results: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory() as data,
        LocalServer(data) as server,
        requests.Session() as s,
    ):
        t0 = time.perf_counter()
        for i in range(0, len(parts), 10):
            batch = parts[i : i + 10]
            boundary = "b" * 20
            body = (
                b"".join(
                    f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
                    + p
                    + b"\r\n"
                    for p in batch
                )
                + f"--{boundary}--\r\n".encode()
            )
            ct = f'multipart/related; type="application/dicom"; boundary={boundary}'
            r = s.post(f"{server.url}/studies", body, headers={**JSON, "Content-Type": ct})
            assert r.status_code == 200, r.text
        elapsed = time.perf_counter() - t0
        results["stow_batch10_instances_per_s"] = len(parts) / elapsed
        results["stow_batch10_MB_per_s"] = total_mb / elapsed

        studies = s.get(f"{server.url}/studies", headers=JSON).json()
        study = studies[0]["0020000D"]["Value"][0]
        name = studies[0]["00100010"]["Value"][0]["Alphabetic"]
        results["qido_all_studies_ms"] = _median_ms(
            lambda: s.get(f"{server.url}/studies", headers=JSON)
        )
        results["qido_fuzzy_name_ms"] = _median_ms(
            lambda: s.get(
                f"{server.url}/studies",
                params={"PatientName": name[:3], "fuzzymatching": "true"},
                headers=JSON,
            )
        )
        results["qido_date_range_ms"] = _median_ms(
            lambda: s.get(
                f"{server.url}/studies", params={"StudyDate": "20150101-20251231"}, headers=JSON
            )
        )
        results["qido_instances_of_study_ms"] = _median_ms(
            lambda: s.get(f"{server.url}/studies/{study}/instances", headers=JSON)
        )
        results["metadata_study_ms"] = _median_ms(
            lambda: s.get(f"{server.url}/studies/{study}/metadata", headers=JSON)
        )
        accept = {"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'}
        t0 = time.perf_counter()
        size = 0
        for _ in range(3):
            r = s.get(f"{server.url}/studies/{study}", headers=accept, stream=True)
            boundary = r.headers["content-type"].split("boundary=")[1]
            size += sum(len(p.content) for p in iter_parts(r.iter_content(1 << 20), boundary))
        results["wado_study_MB_per_s"] = size / 1e6 / (time.perf_counter() - t0)
        inst = s.get(f"{server.url}/studies/{study}/instances", headers=JSON).json()[0]
        series_uid = inst["0020000E"]["Value"][0]
        sop = inst["00080018"]["Value"][0]
        url = f"{server.url}/studies/{study}/series/{series_uid}/instances/{sop}"
        frame_accept = {
            "Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
        }
        results["wado_frame_ms"] = _median_ms(
            lambda: s.get(f"{url}/frames/1", headers=frame_accept)
        )
        results["wado_rendered_png_ms"] = _median_ms(
            lambda: s.get(f"{url}/rendered", headers={"Accept": "image/png"}), repeat=10
        )
    print(f"{len(parts)} instances, {total_mb:.1f} MB")
    for key, value in results.items():
        print(f"{key:32s} {value:10.1f}")
    out = Path(__file__).parent / "results" / f"server-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"instances": len(parts), "MB": total_mb, **results}, indent=2))


if __name__ == "__main__":
    main()
