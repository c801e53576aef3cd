"""Client throughput of whole-study WADO-RS and client time per one-instance STOW request.

    python benchmarks/client_speed.py [--instances 60 --size 512 --repeat 5]

Our server runs in its own process, so "client CPU" (this process's CPU time) is the
client's work alone: on a 2-core machine shared with the server, the client's CPU per study
bounds its throughput once the server keeps up. Figures are medians of ``--repeat`` runs.
``raw`` reads the same response with ``iter_content`` and does nothing else: the ceiling.
Not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

from dicomweb_nb import DicomWebClient, samples

sys.path.insert(0, str(Path(__file__).parent))
from servers import start_ours

ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*'


def _median(fn: Callable[[int], object], repeat: int) -> tuple[float, float]:
    walls, cpus = [], []
    for i in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn(i)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=60)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--stow", type=int, default=100, help="one-instance STOW requests")
    args = ap.parse_args()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        series = max(1, args.instances // 20)
        samples.write_synthetic_archive(
            root / "in", 1, series, args.instances // series, rows=args.size, columns=args.size
        )
        paths = sorted((root / "in").rglob("*.dcm"))
        size = sum(p.stat().st_size for p in paths)
        samples.write_synthetic_archive(
            root / "one", 1, 1, args.stow, rows=args.size, columns=args.size, seed=1
        )
        singles = sorted((root / "one").rglob("*.dcm"))
        url, server = start_ours(root / "server")
        try:
            client = DicomWebClient(url)
            client.store_instances(paths)
            study = str(client.search_for_studies()[0]["0020000D"]["Value"][0])
            http = requests.Session()

            def raw(_: int) -> None:
                response = http.get(
                    f"{url}/studies/{study}", headers={"Accept": ACCEPT}, stream=True
                )
                assert sum(len(c) for c in response.iter_content(1 << 20)) > size

            runs: dict[str, Callable[[int], object]] = {
                "iter_study": lambda _: sum(1 for _ in client.iter_study(study)),
                "save_study_same_folder": lambda _: client.save_study(study, root / "out"),
                "save_study_new_folder": lambda i: client.save_study(study, root / f"out{i}"),
                "raw": raw,
            }
            for name, fn in runs.items():
                wall, cpu = _median(fn, args.repeat)
                figures[f"{name}_MB_per_s"] = round(size / 1e6 / wall)
                figures[f"{name}_client_cpu_ms"] = round(cpu * 1e3, 1)
            wall, cpu = _median(lambda _: client.store_instances(singles, batch_size=1), 1)
            figures["stow_one_instance_ms_per_request"] = round(wall / len(singles) * 1e3, 2)
            figures["stow_one_instance_client_cpu_ms"] = round(cpu / len(singles) * 1e3, 2)
        finally:
            server.terminate()
            server.wait()
    figures["study_MB"] = round(size / 1e6, 1)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
