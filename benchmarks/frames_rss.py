"""Peak RSS of the server for a worst-case frames request: one short URL, thousands of frames.

    python benchmarks/frames_rss.py [--frames 6000 --size 512]

Starts ``dicomweb-nb serve`` in its own process, stores one 16-bit ``size``×``size`` instance,
then asks for ``/frames/1,1,1,…`` (``--frames`` numbers, about 2 bytes of URL each) and reads the
answer to the end. The server's peak resident set size (``VmHWM`` in ``/proc/<pid>/status``) is
read before and after: the difference is what that one request cost. Prints a line and writes
benchmarks/results/frames-rss-<time>.json. Not a test (Linux only: it reads /proc).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))
from servers import start_ours

from dicomweb_nb import samples


def _peak_rss_mb(pid: int) -> float:
    # VmHWM: the high-water mark of the resident set, in kB; it only ever grows.
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def main() -> None:
    """Measure and print the peak RSS of one frames request."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=6000)
    ap.add_argument("--size", type=int, default=512)
    args = ap.parse_args()
    ds = next(samples.synthetic_datasets(1, 1, 1, rows=args.size, columns=args.size))
    data = samples.to_bytes(ds)
    with tempfile.TemporaryDirectory() as folder:
        url, proc = start_ours(Path(folder))
        try:
            boundary = "b" * 20
            body = (
                f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
                + data
                + f"\r\n--{boundary}--\r\n".encode()
            )
            ct = f'multipart/related; type="application/dicom"; boundary={boundary}'
            r = requests.post(
                f"{url}/studies",
                body,
                headers={"Accept": "application/dicom+json", "Content-Type": ct},
                timeout=60,
            )
            assert r.status_code == 200, r.text
            target = (
                f"{url}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"
                f"/instances/{ds.SOPInstanceUID}/frames/" + ",".join(["1"] * args.frames)
            )
            before = _peak_rss_mb(proc.pid)
            t0 = time.perf_counter()
            received = 0
            accept = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
            with requests.get(target, headers={"Accept": accept}, stream=True, timeout=600) as r:
                status = r.status_code
                for chunk in r.iter_content(1 << 20):
                    received += len(chunk)
            elapsed = time.perf_counter() - t0
            after = _peak_rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)
    result = {
        "frames": args.frames,
        "size": args.size,
        "url_bytes": len(target),
        "status": status,
        "response_MB": received / 1e6,
        "seconds": elapsed,
        "peak_rss_before_MB": before,
        "peak_rss_after_MB": after,
    }
    print(
        f"{args.frames} frames of {args.size}x{args.size} ({len(target)}-byte URL): status {status}, "
        f"{received / 1e6:.0f} MB in {elapsed:.1f} s; server peak RSS {before:.0f} MB -> "
        f"{after:.0f} MB"
    )
    out = Path(__file__).parent / "results" / f"frames-rss-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
