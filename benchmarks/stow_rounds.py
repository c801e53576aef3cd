"""STOW rate of our server and Orthanc, measured in alternating rounds (medians and their ratio).

    python benchmarks/stow_rounds.py                 # 7 rounds of 100 + 100 instances per server
    python benchmarks/stow_rounds.py --rounds 11 --instances 200

One pass per server, minutes apart (as run.py's pair table does), moved the one-instance ratio
from 0.75 to 1.12 between two runs on the same machine: a second of STOW is at the mercy of
whatever else the machine does. Here both servers run side by side and each round stores the same
fresh instances into one, then the other (the order flips every round), with our client: once one
instance per request and once ten per request. The medians over rounds and their ratio are what
run.py reports as the STOW figures. Needs Debian's orthanc + orthanc-dicomweb.
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

sys.path.insert(0, str(Path(__file__).parent))
from servers import start_orthanc, start_ours

from dicomweb_nb import DicomWebClient, samples

SERVERS = ("ours", "orthanc")


def _rate(client: DicomWebClient, paths: list[Path], batch: int) -> float:
    start = time.perf_counter()
    result = client.store_instances(paths, batch_size=batch)
    elapsed = time.perf_counter() - start
    assert len(result.stored) == len(paths), result
    return len(paths) / elapsed


def measure(root: Path, rounds: int = 7, instances: int = 100, size: int = 512) -> dict[str, Any]:
    """Store fresh instances into both servers in alternating rounds.

    Parameters
    ----------
    root : Path
        A scratch folder (the servers' data and the generated instances).
    rounds : int
        Rounds counted, after one that is not; each stores ``instances`` one per request and ``instances`` ten per request
        into each server.
    instances : int
        Instances per round and kind of request.
    size : int
        Rows and columns of the CT images.

    Returns
    -------
    dict
        Per kind (``single``, ``batch10``): the inst/s of each round per server, their medians
        and the ratio of the medians (ours ÷ Orthanc).
    """
    started = {
        name: (start_ours if name == "ours" else start_orthanc)(root / name) for name in SERVERS
    }
    clients = {name: DicomWebClient(url) for name, (url, _) in started.items()}
    rates: dict[str, dict[str, list[float]]] = {
        kind: {name: [] for name in SERVERS} for kind in ("single", "batch10")
    }
    try:
        for n in range(rounds + 1):
            folder = root / f"round-{n}"
            samples.write_synthetic_archive(
                folder, 2, 1, instances, rows=size, columns=size, seed=1000 + n
            )
            paths = sorted(folder.rglob("*.dcm"))
            single, batch = paths[:instances], paths[instances:]
            for name in SERVERS if n % 2 == 0 else reversed(SERVERS):
                single_rate = _rate(clients[name], single, 1)
                batch_rate = _rate(clients[name], batch, 10)
                if n:  # round 0 warms up (connections, caches, the servers' first pages)
                    rates["single"][name].append(single_rate)
                    rates["batch10"][name].append(batch_rate)
            for path in paths:
                path.unlink()
    finally:
        for _, proc in started.values():
            proc.terminate()
            proc.wait()
    out: dict[str, Any] = {"rounds": rounds, "instances_per_round": instances}
    for kind, by_server in rates.items():
        medians = {name: statistics.median(values) for name, values in by_server.items()}
        out[kind] = {
            "per_round": {
                name: [round(v, 1) for v in values] for name, values in by_server.items()
            },
            "median": {name: round(v, 1) for name, v in medians.items()},
            "ratio": round(medians["ours"] / medians["orthanc"], 2),
        }
    return out


def report(result: dict[str, Any]) -> None:
    """Print the medians, their ratio and the spread of the rounds.

    Parameters
    ----------
    result : dict
        What :func:`measure` returned.
    """
    print(
        f"STOW, our client, {result['rounds']} alternating rounds of "
        f"{result['instances_per_round']} instances (inst/s, median [min-max]):"
    )
    for kind in ("batch10", "single"):
        row = result[kind]
        cells = [
            f"{name} {row['median'][name]} [{min(row['per_round'][name])}-"
            f"{max(row['per_round'][name])}]"
            for name in SERVERS
        ]
        print(f"  {kind:8s} " + "   ".join(cells) + f"   ratio {row['ratio']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--instances", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(Path(tmp), args.rounds, args.instances)
    report(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
