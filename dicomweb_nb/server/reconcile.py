"""Start-up reconciliation: what a crashed (``kill -9``) process leaves behind is put right.

A store writes its file, renames it into place, then commits its index row; a delete removes
rows, then files. A kill between those steps leaves a reservation of a dead process, a file that
no row refers to, a row whose file is gone, or a temp file. Each is resolved here, and logged:

- reservations of dead processes are removed (with any file they had renamed into place) — the
  client was never told "stored", so its retry must succeed;
- files under ``instances/`` that no stored row names are removed (an interrupted store or an
  interrupted delete) unless a live process still holds their reservation;
- rows whose file is gone are removed from the index (and logged as errors: data was lost);
- temp files of processes that are gone are removed.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .reservations import pid_alive, pid_of_temp

if TYPE_CHECKING:
    from .store import Archive

log = logging.getLogger("dicomweb_nb.server")
# A temp file this old belongs to nobody even if its process lives (an upload writes steadily).
_STALE_TEMP_SECONDS = 600


def _watermark_of(name: str) -> int | None:
    # "<sop>.<watermark>.dcm"
    stem = name.removesuffix(".dcm")
    text = stem.rsplit(".", 1)[-1] if "." in stem else ""
    return int(text) if name.endswith(".dcm") and text.isdigit() else None


def reconcile(archive: Archive) -> dict[str, int]:
    """Make the files and the index of a data folder agree again; log what was done.

    Parameters
    ----------
    archive : Archive
        The archive being opened.

    Returns
    -------
    dict
        Counts: ``reservations``, ``orphans``, ``missing``, ``temp`` removed.
    """
    index = archive.index
    stale = index.sweep_reservations()
    for reservation in stale:
        archive._remove_stale_file(reservation)
    stored = index.stored_paths()
    keep = {archive.root / p for p in stored.values()}
    orphans = 0
    present: set[Path] = set()
    for path in archive.instances_dir.rglob("*.dcm"):
        if path in keep:
            present.add(path)
            continue
        # Asked again per file: another server on this folder may have committed it since the
        # snapshot, or may be between its rename and its commit.
        if index.holds(_watermark_of(path.name), str(path.relative_to(archive.root).as_posix())):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            orphans += 1
    for folder in sorted(archive.instances_dir.rglob("*"), reverse=True):
        if folder.is_dir():
            with contextlib.suppress(OSError):
                folder.rmdir()  # only empty folders go
    missing = [
        w
        for w, p in stored.items()
        if archive.root / p not in present and not (archive.root / p).exists()
    ]
    for record in index.forget(missing):
        log.error(
            "instance %s/%s/%s is in the index but its file %s is gone; removed from the index",
            record.study_uid,
            record.series_uid,
            record.sop_uid,
            record.path,
        )
    temp = 0
    cutoff = time.time() - _STALE_TEMP_SECONDS
    for leftover in archive.tmp.iterdir():
        pid = pid_of_temp(leftover.name)
        with contextlib.suppress(OSError):
            if (pid is not None and not pid_alive(pid)) or leftover.stat().st_mtime < cutoff:
                leftover.unlink()
                temp += 1
    counts = {
        "reservations": len(stale),
        "orphans": orphans,
        "missing": len(missing),
        "temp": temp,
    }
    if any(counts.values()):
        log.warning(
            "reconciled %s: %d stale reservation(s), %d orphan file(s) and %d temp file(s) "
            "removed, %d index row(s) without a file dropped",
            archive.root,
            counts["reservations"],
            counts["orphans"],
            counts["temp"],
            counts["missing"],
        )
    return counts
