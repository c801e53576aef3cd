"""Making stored files durable: their data and their folders synced side by side.

A group commit syncs every new file's data and every folder on its path before the index commit
that acknowledges them. The syncs wait on the disk at the same time, from a small thread pool (the
file system commits them together), instead of one after another. The pool's threads only wait
in system calls, which release the GIL.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

# Syncs that may wait on the disk at once (files of a group commit plus their folders).
SYNC_THREADS = 8


def _opened(path: Path, sync: Callable[[int], None]) -> None:
    fd = os.open(path, os.O_RDONLY)  # a read-only descriptor syncs as well as a writable one
    try:
        sync(fd)
    finally:
        os.close(fd)


def fdatasync(path: Path) -> None:
    """Sync a file's data and size (the rest of its inode waits).

    Parameters
    ----------
    path : Path
        The file.
    """
    _opened(path, os.fdatasync)


def fsync_dir(path: Path) -> None:
    """Sync a folder, so the names of the files made or renamed in it survive power loss.

    Parameters
    ----------
    path : Path
        The folder.
    """
    _opened(path, os.fsync)


# One pool for the process, made at the first use: archives come and go (a notebook's panel starts
# and stops servers), and a pool each would leave its idle threads behind.
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _the_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="dicomweb-nb-sync")
        return _pool


class Syncs:
    """Syncs under way, started by :func:`start`; :meth:`wait` gives their outcomes.

    Parameters
    ----------
    dirs, datas : dict of Path to Future
        The folder syncs and the file-data syncs.
    """

    def __init__(self, dirs: dict[Path, Future[None]], datas: dict[Path, Future[None]]) -> None:
        self._dirs, self._datas = dirs, datas

    def wait(self) -> tuple[dict[Path, Exception | None], dict[Path, Exception | None]]:
        """Wait for every sync.

        Returns
        -------
        (dict, dict)
            For each folder, then each file: None when synced, else the exception.
        """
        return _outcomes(self._dirs), _outcomes(self._datas)


def start(folders: Iterable[Path], files: Iterable[Path]) -> Syncs:
    """Start syncing folders and files at once, without waiting for them.

    The caller works on meanwhile (the index transaction of a commit runs its statements while
    the disk syncs) and waits with :meth:`Syncs.wait` before it acknowledges anything.

    Parameters
    ----------
    folders : iterable of Path
        Folders to sync (:func:`fsync_dir`).
    files : iterable of Path
        Files whose data to sync (:func:`fdatasync`).

    Returns
    -------
    Syncs
        The syncs under way.
    """
    pool = _the_pool()
    # The functions are looked up at each call, so a test can put a failing sync in their place.
    # The files' data first: it takes longest (a folder with nothing new is done in tens of
    # microseconds), and each submit hands the GIL to a pool thread before the next can start.
    # Measured per one-instance commit: median 1.37 -> 1.28 ms.
    datas = {path: pool.submit(fdatasync, path) for path in files}
    dirs = {folder: pool.submit(fsync_dir, folder) for folder in folders}
    return Syncs(dirs, datas)


def _outcomes(futures: dict[Path, Future[None]]) -> dict[Path, Exception | None]:
    done: dict[Path, Exception | None] = {}
    for path, future in futures.items():
        try:
            future.result()
            done[path] = None
        except Exception as exc:
            done[path] = exc
    return done
