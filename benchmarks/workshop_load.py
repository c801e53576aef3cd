"""Thirty participants run the tutorial at once against one `dicomweb-nb serve --workshop`.

    python benchmarks/workshop_load.py [--participants 30]

Each participant is its own process with its own partition and runs the whole tutorial flow
through DicomWebClient: store blue-circle, then red + green, store blue-circle again single-part
(409), retrieve the study, a series, an instance, metadata, a frame, a rendered image, search
studies / series / instances, delete an instance, a series, the study, and a second delete (404).
Every status is checked against the tutorial's. Prints completion, errors (must be 0), per-step
p50/p95 latency and the server's peak RSS; writes benchmarks/results/workshop-load.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import free_port


def participant(args: tuple[str, str, str]) -> dict[str, Any]:
    """Run the tutorial flow in one partition; return per-step times and any error."""
    from dicomweb_nb import DicomWebClient, samples
    from dicomweb_nb.client import NotFound

    url, name, folder = args
    S, G_R = samples.STUDY_UID, samples.SERIES_UID_GREEN_RED
    RED = samples.INSTANCE_UID_RED
    paths = {p.name: p for p in samples.write_tutorial_samples(Path(folder) / name)}
    times: dict[str, float] = {}
    client = DicomWebClient(url, partition=name)

    def step(label: str, call: Any, expect: Any = None) -> Any:
        started = time.perf_counter()
        result = call()
        times[label] = (time.perf_counter() - started) * 1000
        if expect is not None and not expect(result):
            raise AssertionError(f"{label}: unexpected {result!r}")
        return result

    try:
        step(
            "store blue",
            lambda: client.store_instances([paths["blue-circle.dcm"]]),
            lambda r: r.status_code == 200,
        )
        step(
            "store red+green",
            lambda: client.store_instances([paths["red-triangle.dcm"], paths["green-square.dcm"]]),
            lambda r: r.status_code == 200,
        )
        step(
            "store again (409)",
            lambda: client.store_instance_single(paths["blue-circle.dcm"]),
            lambda r: r.status_code == 409,
        )
        step("retrieve study", lambda: client.retrieve_study(S), lambda r: len(r) == 3)
        step("retrieve series", lambda: client.retrieve_series(S, G_R), lambda r: len(r) == 2)
        step(
            "retrieve instance",
            lambda: client.retrieve_instance(S, G_R, RED),
            lambda r: r.SOPInstanceUID == RED,
        )
        step("study metadata", lambda: client.retrieve_study_metadata(S), lambda r: len(r) == 3)
        step(
            "frame",
            lambda: client.retrieve_instance_frames(S, G_R, RED, [1]),
            lambda r: len(r[0]) == 979 * 985 * 3,
        )
        step(
            "rendered",
            lambda: client.retrieve_instance_rendered(S, G_R, RED),
            lambda r: len(r) > 1000,
        )
        step("search studies", lambda: client.search_for_studies(), lambda r: len(r) == 1)
        step("search series", lambda: client.search_for_series(S), lambda r: len(r) == 2)
        step("search instances", lambda: client.search_for_instances(S), lambda r: len(r) == 3)
        step("delete instance", lambda: client.delete_instance(S, G_R, RED))
        step("delete series", lambda: client.delete_series(S, G_R))
        step("delete study", lambda: client.delete_study(S))
        try:
            client.delete_study(S)
            raise AssertionError("a second delete was not a 404")
        except NotFound:
            pass
        return {"name": name, "times": times, "error": None}
    except Exception as exc:
        return {"name": name, "times": times, "error": f"{type(exc).__name__}: {exc}"}


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--participants", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dicomweb-nb-workshop-"))
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dicomweb_nb.cli",
            "serve",
            "--workshop",
            "--port",
            str(port),
            "--data",
            str(folder / "data"),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(300):
            try:
                requests.get(f"http://127.0.0.1:{port}/health/check", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.1)
        names = [f"participant-{i:02d}" for i in range(args.participants)]
        started = time.perf_counter()
        with mp.get_context("spawn").Pool(args.participants) as pool:
            results = pool.map(participant, [(url, n, str(folder / "in")) for n in names])
        wall = time.perf_counter() - started
        rss = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)
    errors = [r for r in results if r["error"]]
    steps = list(results[0]["times"])
    table = {}
    for label in steps:
        values = sorted(r["times"][label] for r in results if label in r["times"])
        table[label] = {
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(values[min(len(values) - 1, int(len(values) * 0.95))], 1),
        }
    print(
        f"{len(results) - len(errors)} of {len(results)} participants completed the tutorial "
        f"in {wall:.1f} s; errors: {len(errors)}; server peak RSS {rss:.0f} MB"
    )
    for e in errors:
        print("  error:", e["name"], e["error"])
    print(f"{'step':24s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for label, t in table.items():
        print(f"{label:24s} {t['p50_ms']:8.1f} {t['p95_ms']:8.1f}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "workshop-load.json").write_text(
        json.dumps(
            {
                "participants": len(results),
                "errors": [e["error"] for e in errors],
                "wall_s": round(wall, 1),
                "server_peak_rss_mb": round(rss),
                "steps": table,
            },
            indent=1,
        )
    )
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
