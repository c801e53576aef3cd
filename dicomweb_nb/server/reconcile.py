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

The walk over every stored file costs time in proportion to the archive, so it is done only when
it can find something: when a process that had the folder open did not close it (its marker in
``run/`` names a process that is gone: a kill, a crash, a power cut), and the first time a folder
is opened by a version that keeps markers. Reservations and temp files are checked at every start;
they are cheap.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .reservations import current_owner, owner_alive, pid_alive, pid_of_temp

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


RUN_DIR = "run"


def _marker_name(owner: str) -> str:
    return owner.replace(":", "_").replace("/", "_")


def _unclean(run: Path) -> tuple[bool, list[Path]]:
    """Whether the files must be walked, and the markers of processes that are gone."""
    if not run.is_dir():
        return True, []  # first opened by a version that keeps markers: walk once
    dead = []
    for marker in run.iterdir():
        owner = marker.read_text(encoding="utf-8").strip() if marker.is_file() else ""
        # A marker is as old as its server: only the process check counts, not the age.
        if owner and not owner_alive(owner, 0.0):
            dead.append(marker)
    return bool(dead), dead


def mark_open(archive: Archive) -> None:
    """Record that this process has the folder open; the record goes when the process exits.

    Parameters
    ----------
    archive : Archive
        The archive.
    """
    run = archive.root / RUN_DIR
    run.mkdir(mode=0o700, exist_ok=True)
    marker = run / _marker_name(current_owner())
    marker.write_text(current_owner(), encoding="utf-8")
    atexit.register(_remove, marker)


def _remove(marker: Path) -> None:
    with contextlib.suppress(OSError):
        marker.unlink()


def reconcile(archive: Archive, *, full: bool | None = None) -> dict[str, int]:
    """Make the files and the index of a data folder agree again; log what was done.

    Parameters
    ----------
    archive : Archive
        The archive being opened.
    full : bool, optional
        Walk every stored file; by default only when a process that had the folder open is gone
        without closing it (see the module description).

    Returns
    -------
    dict
        Counts: ``reservations``, ``orphans``, ``missing``, ``temp`` removed.
    """
    index = archive.index
    stale = index.sweep_reservations()
    for reservation in stale:
        archive._remove_stale_file(reservation)
    walk, dead_markers = _unclean(archive.root / RUN_DIR)
    walk = walk if full is None else full
    stored = index.stored_paths() if walk else {}
    keep = {archive.root / p for p in stored.values()}
    orphans = 0
    present: set[Path] = set()
    for path in archive.instances_dir.rglob("*.dcm") if walk else ():
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
    for folder in sorted(archive.instances_dir.rglob("*"), reverse=True) if walk else ():
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
    for marker in dead_markers:
        _remove(marker)
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
