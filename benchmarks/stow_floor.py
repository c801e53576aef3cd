"""What a one-instance STOW costs on our HTTP stack before any of our code: floors beside both servers.

    python benchmarks/stow_floor.py                  # 7 rounds of 100 requests per server
    python benchmarks/stow_floor.py --rounds 11 --instances 200

The same one-instance STOW requests (512² CT, bodies built once, sent by ``requests`` one after
another on one connection, so no client work is timed but sending and reading) go to Orthanc, to
our server and to three floors from ``floor_app.py`` on our HTTP stack (Starlette on uvicorn,
configured as our server is): ``http`` reads the body and answers, ``sync`` also writes the
instance and syncs its data (Orthanc's one sync), ``parse`` also decodes the multipart body and
reads the instance with pydicom first. Rounds alternate as in ``stow_rounds.py`` (fresh instances
for the two servers every round, one warm-up round). Printed per server: requests per second,
milliseconds per request, server CPU per request, and the ratio to Orthanc. If a floor that
stores nothing durable is itself not 1.2× Orthanc, no server on this stack that checks and syncs
what it stores will be. Needs Debian's orthanc + orthanc-dicomweb.
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

import requests

sys.path.insert(0, str(Path(__file__).parent))
from floor_app import TIERS
from rounds import cpu_seconds, median_cpu_ms, spread, summarize
from servers import start_floor, start_orthanc, start_ours

from dicomweb_nb import samples
from dicomweb_nb.protocol.multipart import BodyPart, encode

SERVERS = ("orthanc", "ours", *(f"floor-{tier}" for tier in TIERS))


def _request(path: Path) -> tuple[str, bytes]:
    data = path.read_bytes()
    content_type, _, chunks = encode(
        [BodyPart("application/dicom", len(data), lambda: [data])], "application/dicom"
    )
    return content_type, b"".join(chunks)


def _send(session: requests.Session, url: str, bodies: list[tuple[str, bytes]]) -> float:
    start = time.perf_counter()
    for content_type, body in bodies:
        response = session.post(
            f"{url}/studies",
            data=body,
            headers={"Content-Type": content_type, "Accept": "application/dicom+json"},
        )
        assert response.status_code == 200, (url, response.status_code, response.text[:200])
    return time.perf_counter() - start


def measure(root: Path, rounds: int = 7, instances: int = 100, size: int = 512) -> dict[str, Any]:
    """Send one-instance STOW requests to every server in alternating rounds.

    Parameters
    ----------
    root : Path
        A scratch folder (the servers' data and the generated instances).
    rounds : int
        Rounds counted, after one that is not.
    instances : int
        Requests per server and round.
    size : int
        Rows and columns of the CT images.

    Returns
    -------
    dict
        What :func:`rounds.summarize` gives (requests per second of each round and their median,
        per server; ``ratio`` ours ÷ Orthanc), and per server ``ratio_to_orthanc``,
        ``ms_per_request`` and ``server_cpu_ms`` (median; None without /proc).
    """
    started = {}
    for name in SERVERS:
        if name == "orthanc":
            started[name] = start_orthanc(root / name)
        elif name == "ours":
            started[name] = start_ours(root / name)
        else:
            started[name] = start_floor(name.removeprefix("floor-"), root / name)
    rates: dict[str, list[float]] = {name: [] for name in SERVERS}
    cpus: dict[str, list[float]] = {name: [] for name in SERVERS}
    sessions = {name: requests.Session() for name in SERVERS}
    try:
        for n in range(rounds + 1):
            folder = root / f"round-{n}"
            # Fresh instances for each real server (they refuse or replace a stored one); the
            # floors store nothing by UID and take our server's share again.
            samples.write_synthetic_archive(
                folder, 2, 1, instances, rows=size, columns=size, seed=2000 + n
            )
            paths = sorted(folder.rglob("*.dcm"))
            bodies = {
                "orthanc": [_request(p) for p in paths[:instances]],
                "ours": [_request(p) for p in paths[instances:]],
            }
            order = SERVERS if n % 2 == 0 else tuple(reversed(SERVERS))
            for name in order:
                url, proc = started[name]
                before = cpu_seconds(proc.pid)
                elapsed = _send(sessions[name], url, bodies.get(name, bodies["ours"]))
                if n:  # round 0 warms up
                    rates[name].append(instances / elapsed)
                    cpus[name].append((cpu_seconds(proc.pid) - before) / instances * 1e3)
            for path in paths:
                path.unlink()
    finally:
        for _, proc in started.values():
            proc.terminate()
            proc.wait()
    out: dict[str, Any] = {"rounds": rounds, "requests_per_round": instances}
    out.update(summarize(rates, 1))  # per_round, median, ratio (ours ÷ Orthanc)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    out["ratio_to_orthanc"] = {
        name: round(v / medians["orthanc"], 2) for name, v in medians.items()
    }
    out["ms_per_request"] = {name: round(1e3 / v, 2) for name, v in medians.items()}
    out["server_cpu_ms"] = {name: median_cpu_ms(values) for name, values in cpus.items()}
    return out


def report(result: dict[str, Any]) -> None:
    """Print each server's rate, time and CPU per request, and its ratio to Orthanc.

    Parameters
    ----------
    result : dict
        What :func:`measure` returned.
    """
    print(
        f"One-instance STOW, {result['rounds']} alternating rounds of "
        f"{result['requests_per_round']} requests (requests/s, median [min-max]):"
    )
    for name in SERVERS:
        print(
            f"  {spread(result, name):34s} {result['ms_per_request'][name]:5.2f} ms"
            f"  server CPU {result['server_cpu_ms'][name]} ms"
            f"  ÷ Orthanc {result['ratio_to_orthanc'][name]}"
        )
    needed = result["ms_per_request"]["orthanc"] / 1.2
    print(f"  1.2× Orthanc needs {needed:.2f} ms per request")


def main() -> None:
    """Run the rounds and print the table and the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stow-floor-") as tmp:
        result = measure(Path(tmp), args.rounds, args.instances, args.size)
    report(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
