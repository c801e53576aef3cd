"""Owner-only modes for what the server creates: folders 0700, the index files 0600.

Stored instances are health data: other local users must not list or read them. Instance files
were 0600 already (they are temp files from ``mkstemp``, renamed into place), but folders were 0755
and ``index.sqlite`` (which holds every indexed attribute and the metadata) 0644. The mode is set
with chmod after creating, so a permissive umask cannot widen it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents, each created folder owner-only (0700).

    Folders that already exist keep their mode: a data folder the user chose may be shared on
    purpose.

    Parameters
    ----------
    path : Path
        The folder.
    """
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by another request or server: its creator set the mode
        os.chmod(folder, DIR_MODE)


def restrict_dir(path: Path) -> None:
    """Make a folder the server owns (``tmp``, ``instances``) owner-only, also when it exists.

    Parameters
    ----------
    path : Path
        The folder, created when missing.
    """
    make_private_dirs(path)
    with contextlib.suppress(PermissionError):  # another user's folder: leave it as it is
        os.chmod(path, DIR_MODE)


def private_database(path: Path) -> None:
    """Create the SQLite file owner-only (0600) before SQLite opens it, and fix older ones.

    SQLite creates ``-wal`` and ``-shm`` with the mode of the database file, so they follow.

    Parameters
    ----------
    path : Path
        The database file (e.g. ``index.sqlite``).
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    os.close(fd)
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(name, FILE_MODE)
