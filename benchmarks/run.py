"""Side-by-side benchmark: (our client | dicomweb-client) × (our server | Orthanc), over loopback.

    python benchmarks/run.py --quick      # a few minutes
    python benchmarks/run.py              # 20 studies × 3 series × 20 instances of 512² CT ≈ 630 MB

Each client × server pair runs in its own process (so peak RSS is that client's alone) on its own
copy of a synthetic archive. Prints a table and writes benchmarks/results/run-<time>.json with
ratios ours ÷ theirs per operation. The STOW and whole-study WADO ratios against Orthanc come from
alternating rounds with both servers up (stow_rounds.py, wado_rounds.py); the pair table's lines
for them from one pass each, minutes apart. stow_floor.py's table follows: what a one-instance
STOW costs on our HTTP stack before any of our code. Not a test; needs Debian's orthanc +
orthanc-dicomweb.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom
import requests

sys.path.insert(0, str(Path(__file__).parent))
from servers import start_orthanc, start_ours, start_static
from stow_floor import measure as stow_floor
from stow_floor import report as report_stow_floor
from stow_rounds import measure as stow_rounds
from stow_rounds import report as report_stow_rounds
from wado_rounds import measure as wado_rounds
from wado_rounds import report as report_wado_rounds

from dicomweb_nb import samples

PAIRS = [
    ("ours", "ours"),
    ("ours", "orthanc"),
    ("dicomweb-client", "ours"),
    ("dicomweb-client", "orthanc"),
]
UNITS = {"_ms": "ms (lower is better)", "_per_s": "per s (higher is better)"}


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)


class Ours:
    def __init__(self, url: str) -> None:
        from dicomweb_nb import DicomWebClient

        self.c = DicomWebClient(url)

    def store(self, paths: list[Path], batch: int) -> None:
        result = self.c.store_instances(paths, batch_size=batch)
        assert len(result.stored) == len(paths), result

    def studies(self, **filters: Any) -> int:
        return len(self.c.search_for_studies(filters or None))

    def series(self, study: str) -> int:
        return len(self.c.search_for_series(study))

    def instances(self, study: str, series: str) -> int:
        return len(self.c.search_for_instances(study, series))

    def study(self, study: str) -> int:
        return sum(1 for _ in self.c.iter_study(study))

    def instance(self, study: str, series: str, sop: str) -> None:
        self.c.retrieve_instance(study, series, sop)

    def metadata(self, study: str) -> int:
        self.c._etags.clear()  # measure the server, not the ETag cache
        return len(self.c.retrieve_study_metadata(study))

    def frames(self, study: str, series: str, sop: str, numbers: list[int]) -> int:
        return len(self.c.retrieve_instance_frames(study, series, sop, numbers))

    def rendered(self, study: str, series: str, sop: str) -> int:
        return len(
            self.c.retrieve_instance_frames_rendered(study, series, sop, 1, media_type="image/png")
        )


class Theirs:
    def __init__(self, url: str) -> None:
        from dicomweb_client.api import DICOMwebClient

        self.c = DICOMwebClient(url)

    def store(self, paths: list[Path], batch: int) -> None:
        for i in range(0, len(paths), batch):
            self.c.store_instances([pydicom.dcmread(p) for p in paths[i : i + batch]])

    def studies(self, **filters: Any) -> int:
        return len(self.c.search_for_studies(search_filters=filters or None))

    def series(self, study: str) -> int:
        return len(self.c.search_for_series(study))

    def instances(self, study: str, series: str) -> int:
        return len(self.c.search_for_instances(study, series))

    def study(self, study: str) -> int:
        return len(self.c.retrieve_study(study, media_types=(("application/dicom", "*"),)))

    def instance(self, study: str, series: str, sop: str) -> None:
        self.c.retrieve_instance(study, series, sop, media_types=(("application/dicom", "*"),))

    def metadata(self, study: str) -> int:
        return len(self.c.retrieve_study_metadata(study))

    def frames(self, study: str, series: str, sop: str, numbers: list[int]) -> int:
        return len(
            self.c.retrieve_instance_frames(
                study, series, sop, numbers, media_types=(("application/octet-stream", "*"),)
            )
        )

    def rendered(self, study: str, series: str, sop: str) -> int:
        return len(
            self.c.retrieve_instance_frames_rendered(
                study, series, sop, [1], media_types=("image/png",)
            )
        )


def worker(client_name: str, url: str, archive: Path, repeat: int, index: int) -> dict[str, float]:
    client = Ours(url) if client_name == "ours" else Theirs(url)
    batch_paths = sorted((archive / "batch").rglob("*.dcm"))
    single_paths = sorted((archive / "single").rglob("*.dcm"))
    out: dict[str, float] = {}
    size = sum(p.stat().st_size for p in batch_paths)
    start = time.perf_counter()
    client.store(batch_paths, 10)
    elapsed = time.perf_counter() - start
    out["stow_batch10_instances_per_s"] = round(len(batch_paths) / elapsed, 1)
    out["stow_batch10_MB_per_s"] = round(size / 1e6 / elapsed, 1)
    start = time.perf_counter()
    client.store(single_paths, 1)
    out["stow_single_instances_per_s"] = round(len(single_paths) / (time.perf_counter() - start), 1)
    # A CT study (60 instances of 512² in the default run): "multiframe.dcm" sorts first and is
    # a study of one 26 MB instance, which is what this measured before it was told apart.
    ct_paths = [p for p in batch_paths if p.name != "multiframe.dcm"]
    first = pydicom.dcmread(ct_paths[0], stop_before_pixels=True)
    study, series, sop = first.StudyInstanceUID, first.SeriesInstanceUID, first.SOPInstanceUID
    multi = pydicom.dcmread(archive / "batch" / "multiframe.dcm", stop_before_pixels=True)
    mf = (multi.StudyInstanceUID, multi.SeriesInstanceUID, multi.SOPInstanceUID)
    prefix = str(first.PatientName)[:2] + "*"

    def qido(suffix: str) -> None:
        out[f"qido_all_studies{suffix}_ms"] = _median_ms(lambda: client.studies(), repeat)
        out[f"qido_name_wildcard{suffix}_ms"] = _median_ms(
            lambda: client.studies(PatientName=prefix), repeat
        )
        out[f"qido_date_range{suffix}_ms"] = _median_ms(
            lambda: client.studies(StudyDate="20150101-20201231"), repeat
        )
        out[f"qido_series_of_study{suffix}_ms"] = _median_ms(lambda: client.series(study), repeat)
        out[f"qido_instances_of_series{suffix}_ms"] = _median_ms(
            lambda: client.instances(study, series), repeat
        )

    qido("")
    if index:
        # Fill the index with tiny instances (per 10 000: 500 studies × 2 series × 10), stored by
        # our client whichever client is measured: only the searches are timed.
        from dicomweb_nb import DicomWebClient

        loader = DicomWebClient(url)
        filler = samples.synthetic_datasets(index // 20, 2, 10, rows=8, columns=8, seed=9)
        result = loader.store_instances(filler, batch_size=100)
        assert len(result.stored) == index // 20 * 20, result
        qido(f"_{index // 1000}k")
    study_bytes = sum(
        p.stat().st_size
        for p in ct_paths
        if pydicom.dcmread(p, stop_before_pixels=True).StudyInstanceUID == study
    )
    # The median of five whole-study retrieves (one takes ~0.05 s: a single run is noise).
    study_ms = _median_ms(lambda: client.study(study), 5)
    out["wado_study_MB_per_s"] = round(study_bytes / 1e3 / study_ms, 1)
    out["wado_instance_ms"] = _median_ms(lambda: client.instance(study, series, sop), repeat)
    multi_bytes = (archive / "batch" / "multiframe.dcm").stat().st_size
    multi_ms = _median_ms(lambda: client.instance(*mf), 5)
    out["wado_multiframe_instance_MB_per_s"] = round(multi_bytes / 1e3 / multi_ms, 1)
    out["wado_study_metadata_ms"] = _median_ms(lambda: client.metadata(study), repeat)
    out["wado_frame_ms"] = _median_ms(lambda: client.frames(study, series, sop, [1]), repeat)
    out["wado_10_frames_ms"] = _median_ms(lambda: client.frames(*mf, list(range(1, 11))), repeat)
    out["wado_rendered_frame_ms"] = _median_ms(lambda: client.rendered(study, series, sop), repeat)
    out["client_peak_rss_MB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def make_archive(folder: Path, args: argparse.Namespace, seed: int) -> None:
    samples.write_synthetic_archive(
        folder / "batch",
        args.studies,
        args.series,
        args.instances,
        rows=args.size,
        columns=args.size,
        seed=seed,
    )
    samples.multiframe_dataset(args.frames, rows=args.size, columns=args.size, seed=seed).save_as(
        folder / "batch" / "multiframe.dcm", enforce_file_format=True
    )
    samples.write_synthetic_archive(
        folder / "single", 1, 1, args.single, rows=args.size, columns=args.size, seed=seed + 1000
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--worker", nargs=3, metavar=("CLIENT", "URL", "ARCHIVE"), help=argparse.SUPPRESS
    )
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--index", type=int, default=None, help="instances to index, then QIDO again")
    args = ap.parse_args()
    if args.worker:
        figures = worker(
            args.worker[0], args.worker[1], Path(args.worker[2]), args.repeat, args.index or 0
        )
        print(json.dumps(figures))
        return
    args.studies, args.series, args.instances, args.size, args.frames, args.single = (
        (3, 2, 5, 256, 10, 10) if args.quick else (20, 3, 20, 512, 50, 200)
    )
    if args.index is None:
        args.index = 1000 if args.quick else 10_000
    results: dict[str, Any] = {
        "config": {
            k: getattr(args, k)
            for k in ("studies", "series", "instances", "size", "frames", "single", "index")
        }
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n, (client_name, server_name) in enumerate(PAIRS):
            archive = root / f"archive-{n}"
            make_archive(archive, args, seed=100 + n)
            url, proc = (start_ours if server_name == "ours" else start_orthanc)(
                root / f"server-{n}"
            )
            try:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        client_name,
                        url,
                        str(archive),
                        "--repeat",
                        str(args.repeat),
                        "--index",
                        str(args.index),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                results[f"{client_name} | {server_name}"] = json.loads(out.strip().splitlines()[-1])
            finally:
                proc.terminate()
                proc.wait()
            print(f"done: {client_name} | {server_name}", file=sys.stderr)
        # STOW's ours ÷ Orthanc figures: alternating rounds, both servers up at once (one pass per
        # pair above is a second or two of STOW, minutes apart: too noisy for a ratio).
        results["stow alternating"] = stow_rounds(
            root / "stow-rounds", rounds=3 if args.quick else 7, instances=20 if args.quick else 100
        )
        print("done: STOW alternating rounds", file=sys.stderr)
        # The whole-study WADO ratio the same way (the pair table's five reads per pair, minutes
        # apart, put either server ahead on different runs).
        results["wado alternating"] = wado_rounds(
            root / "wado-rounds",
            rounds=3 if args.quick else 11,
            series=args.series,
            instances=args.instances,
            size=args.size,
        )
        print("done: WADO alternating rounds", file=sys.stderr)
        # What 1.2x Orthanc leaves for one-instance STOW: floors on our HTTP stack beside both.
        results["stow floors"] = stow_floor(
            root / "stow-floor", rounds=2 if args.quick else 7, instances=20 if args.quick else 100
        )
        print("done: STOW floors", file=sys.stderr)
        # The raw limit: the same bytes as one static file over loopback.
        blob = root / "static" / "study.bin"
        blob.parent.mkdir()
        with open(blob, "wb") as fh:
            for p in sorted((root / "archive-0" / "batch").rglob("*.dcm"))[
                : args.series * args.instances
            ]:
                fh.write(p.read_bytes())
        url, proc = start_static(blob.parent)
        try:
            # Read as our client reads a WADO answer (requests, 1 MiB pieces, none kept): what is
            # left of the study time beyond this is multipart decoding and pydicom.
            session = requests.Session()

            def read_raw() -> int:
                got = session.get(f"{url}/study.bin", stream=True)
                return sum(len(piece) for piece in got.iter_content(1 << 20))

            size = read_raw()
            raw_ms = _median_ms(read_raw, 5)
            results["raw static file"] = {"wado_study_MB_per_s": round(size / 1e3 / raw_ms, 1)}
        finally:
            proc.terminate()
    report(results)
    out_file = Path(__file__).parent / "results" / f"run-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out_file.parent.mkdir(exist_ok=True)
    out_file.write_text(json.dumps(results, indent=2))
    print(f"\nwritten: {out_file}")


def report(results: dict[str, Any]) -> None:
    pairs = [f"{c} | {s}" for c, s in PAIRS]
    ops = list(results[pairs[0]])
    print(
        f"{'operation':32s}"
        + "".join(f"{p:>28s}" for p in pairs)
        + f"{'client ratio':>14s}{'server ratio':>14s}"
    )
    ratios: dict[str, dict[str, float]] = {}
    for op in ops:
        values = [results[p].get(op, float("nan")) for p in pairs]
        # ours ÷ theirs: client on our server, server with our client.
        client_ratio = round(values[0] / values[2], 2) if values[2] else float("nan")
        server_ratio = round(values[0] / values[1], 2) if values[1] else float("nan")
        ratios[op] = {
            "client_ours_over_theirs": client_ratio,
            "server_ours_over_theirs": server_ratio,
        }
        print(
            f"{op:32s}"
            + "".join(f"{v:>28}" for v in values)
            + f"{client_ratio:>14}{server_ratio:>14}"
        )
    results["ratios"] = ratios
    print(
        "raw static file over loopback:", results["raw static file"]["wado_study_MB_per_s"], "MB/s"
    )
    report_stow_rounds(results["stow alternating"])
    report_wado_rounds(results["wado alternating"])
    report_stow_floor(results["stow floors"])


if __name__ == "__main__":
    main()
