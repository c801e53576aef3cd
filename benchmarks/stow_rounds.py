"""STOW rate of our server and Orthanc, measured in alternating rounds (medians and their ratio).

    python benchmarks/stow_rounds.py                 # 7 rounds of 100 + 100 instances per server
    python benchmarks/stow_rounds.py --rounds 11 --instances 200
    python benchmarks/stow_rounds.py --clients 3     # also one per request from 3 clients at once

One pass per server, minutes apart (as run.py's pair table does), moved the one-instance ratio
from 0.75 to 1.12 between two runs on the same machine: a second of STOW is at the mercy of
whatever else the machine does. Here both servers run side by side and each round stores the same
fresh instances into one, then the other (the order flips every round), with our client: once one
instance per request and once ten per request. The medians over rounds and their ratio are what
run.py reports as the STOW figures. With ``--clients N`` each round also stores a third share of
instances one per request from N client processes at once (a class uploading together; each client
sends its own slice in order), timed from the common start to the last client's end. Each
server's CPU time (user + system, from /proc) per instance is printed beside the rates: on a
noisy machine it moves far less than a rate does, and it says where the time goes. Needs
Debian's orthanc + orthanc-dicomweb.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from rounds import SERVERS, cpu_seconds, median_cpu_ms, spread, summarize
from servers import start_orthanc, start_ours

from dicomweb_nb import DicomWebClient, samples

KINDS = ("single", "batch10", "concurrent")


def _rate(client: DicomWebClient, paths: list[Path], batch: int) -> float:
    start = time.perf_counter()
    result = client.store_instances(paths, batch_size=batch)
    elapsed = time.perf_counter() - start
    assert len(result.stored) == len(paths), result
    return len(paths) / elapsed


def _store_slice(job: tuple[str, list[str], float]) -> float:
    # One client process: waits for the common start, stores its slice one per request.
    url, paths, start = job
    client = DicomWebClient(url)
    time.sleep(max(0.0, start - time.time()))
    result = client.store_instances([Path(p) for p in paths], batch_size=1)
    assert len(result.stored) == len(paths), result
    return time.time()


def _concurrent_rate(pool: Any, url: str, paths: list[Path], clients: int) -> float:
    start = time.time() + 0.2  # every client process is ready by then
    slices = [[str(p) for p in paths[n::clients]] for n in range(clients)]
    ends = pool.map(_store_slice, [(url, part, start) for part in slices])
    return len(paths) / (max(ends) - start)


def measure(
    root: Path, rounds: int = 7, instances: int = 100, size: int = 512, clients: int = 1
) -> dict[str, Any]:
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
    clients : int
        Above 1, each round also stores ``instances`` one per request from this many client
        processes at once (the ``concurrent`` kind).

    Returns
    -------
    dict
        Per kind (``single``, ``batch10`` and, with clients, ``concurrent``): the inst/s of each
        round per server, their medians, the ratio of the medians (ours ÷ Orthanc) and each
        server's median CPU milliseconds per instance (None without /proc).
    """
    started = {
        name: (start_ours if name == "ours" else start_orthanc)(root / name) for name in SERVERS
    }
    web = {name: DicomWebClient(url) for name, (url, _) in started.items()}
    kinds = KINDS if clients > 1 else KINDS[:2]
    rates: dict[str, dict[str, list[float]]] = {
        kind: {name: [] for name in SERVERS} for kind in kinds
    }
    # Server CPU milliseconds per instance, per round (user + system, the whole process).
    cpus: dict[str, dict[str, list[float]]] = {
        kind: {name: [] for name in SERVERS} for kind in kinds
    }
    # Client processes, not threads: one process's GIL would cap the clients, not the servers.
    pool = multiprocessing.get_context("spawn").Pool(clients) if clients > 1 else None
    try:
        for n in range(rounds + 1):
            folder = root / f"round-{n}"
            samples.write_synthetic_archive(
                folder, len(kinds), 1, instances, rows=size, columns=size, seed=1000 + n
            )
            paths = sorted(folder.rglob("*.dcm"))
            shares = {
                kind: paths[k * instances : (k + 1) * instances] for k, kind in enumerate(kinds)
            }
            for name in SERVERS if n % 2 == 0 else reversed(SERVERS):
                pid = started[name][1].pid
                got: dict[str, tuple[float, float]] = {}
                for kind in kinds:
                    before = cpu_seconds(pid)
                    if kind == "concurrent":
                        assert pool is not None
                        url = started[name][0]
                        rate = _concurrent_rate(pool, url, shares[kind], clients)
                    else:
                        rate = _rate(web[name], shares[kind], 1 if kind == "single" else 10)
                    got[kind] = (rate, (cpu_seconds(pid) - before) / instances * 1e3)
                if n:  # round 0 warms up (connections, caches, the servers' first pages)
                    for kind, (rate, cpu_ms) in got.items():
                        rates[kind][name].append(rate)
                        cpus[kind][name].append(cpu_ms)
            for path in paths:
                path.unlink()
    finally:
        if pool is not None:
            pool.terminate()
        for _, proc in started.values():
            proc.terminate()
            proc.wait()
    out: dict[str, Any] = {"rounds": rounds, "instances_per_round": instances, "clients": clients}
    for kind, by_server in rates.items():
        out[kind] = {
            **summarize(by_server, 1),
            "cpu_ms_per_instance": {name: median_cpu_ms(v) for name, v in cpus[kind].items()},
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
    labels = {
        "batch10": "batch10",
        "single": "single",
        "concurrent": f"{result['clients']} clients",
    }
    for kind in ("batch10", "single", "concurrent"):
        if kind not in result:
            continue
        row = result[kind]
        cells = [spread(row, name) for name in SERVERS]
        print(f"  {labels[kind]:10s} " + "   ".join(cells) + f"   ratio {row['ratio']}")
        cpu = row.get("cpu_ms_per_instance", {})
        if all(cpu.get(name) is not None for name in SERVERS):
            print(
                f"  {'':10s} server CPU per instance (ms, median): "
                + "   ".join(f"{name} {cpu[name]}" for name in SERVERS)
            )
    overhead = _per_request_cpu(result)
    if overhead:
        # An instance of a batch of ten carries a tenth of its request's fixed cost; one sent
        # alone carries all of it. The difference says what a request costs beyond its instance.
        print(
            "  CPU a request costs beyond its instance (single minus batch10, ms): "
            + "   ".join(f"{name} {ms}" for name, ms in overhead.items())
        )


def _per_request_cpu(result: dict[str, Any]) -> dict[str, float]:
    # About 10/9 of (single - batch10) CPU per instance; empty without /proc.
    single = result["single"].get("cpu_ms_per_instance", {})
    batch = result["batch10"].get("cpu_ms_per_instance", {})
    if any(single.get(n) is None or batch.get(n) is None for n in SERVERS):
        return {}
    return {n: round((single[n] - batch[n]) * 10 / 9, 2) for n in SERVERS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--instances", type=int, default=100)
    ap.add_argument(
        "--clients", type=int, default=1, help="also one per request from N clients at once"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(Path(tmp), args.rounds, args.instances, clients=args.clients)
    report(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
