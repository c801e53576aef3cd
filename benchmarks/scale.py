"""QIDO and STOW as the archive grows: fill a data folder to N instances, time the searches.

    python benchmarks/scale.py                      # 100,000 instances (5,000 studies × 2 × 10)
    python benchmarks/scale.py --instances 1000000  # a million
    python benchmarks/scale.py --instances 10000 --repeat 20

The folder is filled by the **bulk ingest path**: the same `Archive.ingest` a STOW runs
(parse, validate, reserve, write, commit, study/series rows), called in-process without HTTP, with
the file fsyncs skipped (`Archive(..., durable=False)`) because a benchmark fill does not need to
survive power loss; SQLite still commits every instance. At checkpoints the fill stops and a
`dicomweb-nb serve` process on the folder is timed: STOW over HTTP (one instance per request, and
batches of 10) and the QIDO table of issue 16, p50 and p95 over `--repeat` runs. Results go to
stdout and `benchmarks/results/scale-<N>.json`. Without `--data` the folder is temporary and
removed at the end; a `--data` folder stays, and an interrupted fill goes on from where it stopped.
"""

from __future__ import annotations

import argparse
import io
import json
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import requests
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import start_ours

from dicomweb_nb.server.store import Archive

JSON = {"Accept": "application/dicom+json"}
FAMILIES = ["Müller", "Wang", "Walker", "Doe", "Smith", "García", "Nguyen", "Kowalski", "Tanaka"]
GIVEN = ["Anna", "Wei", "John", "Maria", "Li", "Jan", "Yuki", "Ahmed", "Olga", "Pedro"]
MODALITIES = ["CT", "MR"]


def _template() -> pydicom.Dataset:
    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.StudyTime = "101500"
    ds.ReferringPhysicianName = "House^Gregory"
    ds.StudyDescription = "Synthetic study"
    ds.ManufacturerModelName = "Scale"
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = np.arange(64, dtype=np.uint16).tobytes()
    return ds


def instances(studies: int, series: int, per_series: int, start: int = 0) -> Iterator[bytes]:
    """Part-10 bytes of a synthetic archive; study k has PatientID P<k> and AccessionNumber A<k>."""
    ds = _template()
    for k in range(start, start + studies):
        ds.StudyInstanceUID = generate_uid()
        ds.PatientID = f"P{k:07d}"
        ds.AccessionNumber = f"A{k:07d}"
        ds.PatientName = f"{FAMILIES[k % len(FAMILIES)]}^{GIVEN[k // 7 % len(GIVEN)]}"
        ds.PatientBirthDate = f"{1940 + k % 60}0{1 + k % 9}1{k % 9}"
        ds.StudyDate = f"{2000 + k % 24}{1 + k % 12:02d}{1 + k % 28:02d}"
        for s in range(series):
            ds.SeriesInstanceUID = generate_uid()
            ds.Modality = MODALITIES[(k + s) % len(MODALITIES)]
            ds.SeriesNumber = s + 1
            for i in range(per_series):
                ds.SOPInstanceUID = generate_uid()
                ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
                ds.InstanceNumber = i + 1
                buffer = io.BytesIO()
                ds.save_as(buffer, enforce_file_format=True)
                yield buffer.getvalue()


def fill(archive: Archive, studies: int, start: int) -> int:
    """Store `studies` more studies (2 series × 10) through Archive.ingest; return the count."""
    count = 0
    for data in instances(studies, 2, 10, start):
        fh, temp = archive.temp_file()
        with fh:
            fh.write(data)
        outcome = archive.ingest(temp, study_in_path=None, version="2")
        if not outcome.stored:
            raise RuntimeError(outcome.message)
        count += 1
    return count


def _timed(
    http: requests.Session, url: str, params: dict[str, str], repeat: int
) -> dict[str, float]:
    times = []
    status = 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = http.get(url, params=params, headers=JSON, timeout=120)
        response.content  # noqa: B018 - read the whole answer
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 2),
        "status": status,
    }


def qido_table(base: str, total_studies: int, repeat: int) -> dict[str, dict[str, float]]:
    """Time the searches a notebook user types first."""
    with requests.Session() as http:
        one = http.get(base + "/studies", params={"PatientID": "P0000001"}, headers=JSON).json()[0]
        study = one["0020000D"]["Value"][0]
        k = total_studies // 2
        queries = {
            "all studies (default limit)": ("/studies", {}),
            "PatientID exact (1 hit)": ("/studies", {"PatientID": f"P{k:07d}"}),
            "AccessionNumber exact (1 hit)": ("/studies", {"AccessionNumber": f"A{k:07d}"}),
            "PatientName fuzzy 'mül'": (
                "/studies",
                {"PatientName": "mül", "fuzzymatching": "true"},
            ),
            "PatientName wildcard 'Wa*'": ("/studies", {"PatientName": "Wa*"}),
            "StudyDate one year": ("/studies", {"StudyDate": "20100101-20101231"}),
            "series with Modality=CT": ("/series", {"Modality": "CT"}),
            "all studies, offset 4000": ("/studies", {"offset": "4000"}),
            "series of one study": (f"/studies/{study}/series", {}),
            "instances of one study": (f"/studies/{study}/instances", {}),
        }
        return {
            name: _timed(http, base + path, params, repeat)
            for name, (path, params) in queries.items()
        }


def stow_rate(base: str, studies: int, start: int) -> dict[str, float]:
    """Instances per second over HTTP: one per request, then batches of 10."""
    data = list(instances(studies, 2, 10, start))
    half = len(data) // 2
    out = {}
    with requests.Session() as http:
        started = time.perf_counter()
        for item in data[:half]:
            http.post(
                base + "/studies", data=item, headers={**JSON, "Content-Type": "application/dicom"}
            ).raise_for_status()
        out["stow_single_per_s"] = round(half / (time.perf_counter() - started), 1)
        started = time.perf_counter()
        rest = data[half:]
        for i in range(0, len(rest), 10):
            boundary = secrets.token_hex(8)
            body = (
                b"".join(
                    f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
                    + d
                    + b"\r\n"
                    for d in rest[i : i + 10]
                )
                + f"--{boundary}--\r\n".encode()
            )
            ctype = f'multipart/related; type="application/dicom"; boundary={boundary}'
            http.post(
                base + "/studies", data=body, headers={**JSON, "Content-Type": ctype}
            ).raise_for_status()
        out["stow_batch10_per_s"] = round(len(rest) / (time.perf_counter() - started), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument(
        "--checkpoints", type=int, default=4, help="measure this many times while filling"
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--data", help="data folder to fill (default: a temporary folder)")
    parser.add_argument(
        "--measure-only", action="store_true", help="time the searches on --data as it is, no fill"
    )
    args = parser.parse_args()
    if args.data:
        measure(args, Path(args.data))
        return
    # A temporary folder (several GB at a million instances) goes when the run ends.
    folder = Path(tempfile.mkdtemp(prefix="dicomweb-nb-scale-"))
    try:
        measure(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(args: argparse.Namespace, folder: Path) -> None:
    """Fill ``folder`` as the arguments say and print the tables (or only time the searches).

    Parameters
    ----------
    args : argparse.Namespace
        The command line.
    folder : Path
        The data folder.
    """
    if args.measure_only:
        archive = Archive(folder)
        total = archive.index.counts()["studies"]
        archive.index.close()
        base, proc = start_ours(folder, start_seconds=900)
        try:
            table = qido_table(base, total, args.repeat)
        finally:
            proc.terminate()
            proc.wait()
        print(f"\n== {total * 20:,} instances (searches only)")
        for name, t in table.items():
            print(
                f"  {name:32s} p50 {t['p50_ms']:8.2f} ms   p95 {t['p95_ms']:8.2f} ms   ({t['status']})"
            )
        return
    target_studies = args.instances // 20
    step = max(target_studies // args.checkpoints, 1)
    # An existing folder (an interrupted run) is filled on from where it stopped.
    archive = Archive(folder, durable=False)
    done_studies = archive.index.counts()["studies"]
    archive.index.close()
    report = []
    while done_studies < target_studies:
        archive = Archive(folder, durable=False)
        started = time.perf_counter()
        batch = min(step, target_studies - done_studies)
        fill(archive, batch, done_studies)
        archive.index.close()
        fill_rate = batch * 20 / (time.perf_counter() - started)
        done_studies += batch
        base, proc = start_ours(folder, start_seconds=900)  # a first start may build indexes
        try:
            probe = stow_rate(base, 5, 10_000_000 + done_studies)  # 100 instances, then deleted
            for k in range(5):
                uid = requests.get(
                    base + "/studies",
                    params={"PatientID": f"P{10_000_000 + done_studies + k:07d}"},
                    headers=JSON,
                ).json()[0]["0020000D"]["Value"][0]
                requests.delete(f"{base}/studies/{uid}").raise_for_status()
            table = qido_table(base, done_studies, args.repeat)
        finally:
            proc.terminate()
            proc.wait()
        row = {
            "instances": done_studies * 20,
            "bulk_fill_per_s": round(fill_rate, 1),
            **probe,
            "qido": table,
        }
        report.append(row)
        print(
            f"\n== {row['instances']:,} instances (bulk fill {row['bulk_fill_per_s']}/s; "
            f"STOW one/request {probe['stow_single_per_s']}/s, batches of 10 {probe['stow_batch10_per_s']}/s)"
        )
        for name, t in table.items():
            print(
                f"  {name:32s} p50 {t['p50_ms']:8.2f} ms   p95 {t['p95_ms']:8.2f} ms   ({t['status']})"
            )
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / f"scale-{args.instances}.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
