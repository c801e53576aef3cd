"""Peak client memory while storing and saving a study larger than 1 GB (issue: streaming).

    python benchmarks/client_streaming.py [--instances 2100 --size 512]

The server runs in its own process (``dicomweb-nb serve``), so the figures are the client's
alone: ru_maxrss of this process after each phase. Not a test.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from dicomweb_nb import DicomWebClient, samples


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=2100)
    ap.add_argument("--size", type=int, default=512)
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dicomweb_nb.cli",
                "serve",
                "--port",
                str(port),
                "--data",
                f"{tmp}/data",
                "--log-level",
                "warning",
            ],
        )
        try:
            url = f"http://127.0.0.1:{port}/v1"
            for _ in range(200):
                try:
                    requests.get(f"http://127.0.0.1:{port}/health/check", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.05)
            client = DicomWebClient(url)
            before = _rss_mb()
            datasets = samples.synthetic_datasets(
                1, 1, args.instances, rows=args.size, columns=args.size, seed=3
            )
            t0 = time.perf_counter()
            result = client.store_instances(datasets)
            stow_s = time.perf_counter() - t0
            after_stow = _rss_mb()
            study = result.stored[0].retrieve_url.split("/studies/")[1].split("/")[0]  # type: ignore[union-attr]
            t0 = time.perf_counter()
            files = client.save_study(study, Path(tmp) / "saved")
            save_s = time.perf_counter() - t0
            after_save = _rss_mb()
            total = sum(p.stat().st_size for p in files)
        finally:
            server.terminate()
            server.wait()
    figures = {
        "instances": len(files),
        "study_MB": round(total / 1e6, 1),
        "stow_s": round(stow_s, 1),
        "stow_MB_per_s": round(total / 1e6 / stow_s, 1),
        "save_s": round(save_s, 1),
        "save_MB_per_s": round(total / 1e6 / save_s, 1),
        "client_peak_rss_MB_at_start": round(before, 1),
        "client_peak_rss_MB_after_store": round(after_stow, 1),
        "client_peak_rss_MB_after_save": round(after_save, 1),
    }
    print(json.dumps(figures, indent=2))
    out = (
        Path(__file__).parent
        / "results"
        / f"client-streaming-{time.strftime('%Y%m%dT%H%M%S')}.json"
    )
    out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
