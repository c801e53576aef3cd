"""Whole-study WADO from our server and Orthanc, read in alternating rounds (medians and their ratio).

    python benchmarks/wado_rounds.py                 # one study of 3 × 20 CT 512², 11 rounds
    python benchmarks/wado_rounds.py --rounds 21

run.py's pair table reads a study five times per pair, the pairs minutes apart. On 2026-12-02 two
such runs put Orthanc ahead (0.83 and 0.77 of it) where reading both in turn put them level. Here
both servers hold the same study, and each round reads it from one and then the other (the order
flips every round), twice: through our client (``iter_study``, every instance parsed by pydicom),
and raw (the same multipart answer read through requests in 1 MiB pieces, nothing decoded), which
is what the server and loopback allow. The client's CPU time per study is printed beside: when it
is close to the wall time, the client and not the server sets the pace. Needs Debian's orthanc +
orthanc-dicomweb.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pydicom
import requests

sys.path.insert(0, str(Path(__file__).parent))
from rounds import SERVERS, spread, summarize
from servers import start_orthanc, start_ours

from dicomweb_nb import DicomWebClient, samples

KINDS = ("client", "raw")
ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*'


def _reader(url: str, study: str, kind: str) -> Any:
    if kind == "client":
        client = DicomWebClient(url)
        return lambda: sum(1 for _ in client.iter_study(study))
    session = requests.Session()

    def raw() -> int:
        got = session.get(f"{url}/studies/{study}", headers={"Accept": ACCEPT}, stream=True)
        got.raise_for_status()
        return sum(len(piece) for piece in got.iter_content(1 << 20))

    return raw


def measure(
    root: Path, rounds: int = 11, series: int = 3, instances: int = 20, size: int = 512
) -> dict[str, Any]:
    """Store one study in both servers and read it from each in alternating rounds.

    Parameters
    ----------
    root : Path
        A scratch folder (the servers' data and the generated study).
    rounds : int
        Rounds counted, after one that is not.
    series, instances : int
        The study's series, and instances per series.
    size : int
        Rows and columns of the CT images.

    Returns
    -------
    dict
        Per kind (``client``, ``raw``): each round's MB/s per server, their medians, the ratio of
        the medians (ours ÷ Orthanc) and the client's median CPU milliseconds per study.
    """
    samples.write_synthetic_archive(
        root / "study", 1, series, instances, rows=size, columns=size, seed=77
    )
    paths = sorted((root / "study").rglob("*.dcm"))
    study_bytes = sum(p.stat().st_size for p in paths)
    study = str(pydicom.dcmread(paths[0], stop_before_pixels=True).StudyInstanceUID)
    started = {
        name: (start_ours if name == "ours" else start_orthanc)(root / name) for name in SERVERS
    }
    rates: dict[str, dict[str, list[float]]] = {k: {n: [] for n in SERVERS} for k in KINDS}
    cpus: dict[str, dict[str, list[float]]] = {k: {n: [] for n in SERVERS} for k in KINDS}
    try:
        readers = {}
        for name, (url, _) in started.items():
            stored = DicomWebClient(url).store_instances(paths, batch_size=20)
            assert len(stored.stored) == len(paths), stored
            readers[name] = {kind: _reader(url, study, kind) for kind in KINDS}
        for n in range(rounds + 1):
            for name in SERVERS if n % 2 == 0 else reversed(SERVERS):
                for kind in KINDS:
                    wall, cpu = time.perf_counter(), time.process_time()
                    readers[name][kind]()
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    if n:  # round 0 warms up connections and the servers' caches
                        rates[kind][name].append(study_bytes / 1e6 / wall)
                        cpus[kind][name].append(cpu * 1e3)
    finally:
        for _, proc in started.values():
            proc.terminate()
            proc.wait()
    out: dict[str, Any] = {"rounds": rounds, "study_MB": round(study_bytes / 1e6, 1)}
    for kind in KINDS:
        out[kind] = {
            **summarize(rates[kind], None),
            "client_cpu_ms": {n: round(statistics.median(v), 1) for n, v in cpus[kind].items()},
        }
    return out


def report(result: dict[str, Any]) -> None:
    """Print the medians, their ratio, the spread of the rounds and the client's CPU.

    Parameters
    ----------
    result : dict
        What :func:`measure` returned.
    """
    print(
        f"WADO whole study ({result['study_MB']} MB), {result['rounds']} alternating rounds "
        "(MB/s, median [min-max]; client CPU per study):"
    )
    labels = {"client": "our client", "raw": "raw"}
    for kind in KINDS:
        row = result[kind]
        cells = [f"{spread(row, name)} {row['client_cpu_ms'][name]} ms" for name in SERVERS]
        print(f"  {labels[kind]:10s} " + "   ".join(cells) + f"   ratio {row['ratio']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=11)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(Path(tmp), args.rounds)
    report(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
