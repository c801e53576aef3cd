"""Temporary data folders that go away with their process, even without ``stop()``.

A folder is named ``dicomweb-nb-<pid>-<random>`` in the system's temporary folder and removed
when its owner is garbage-collected or the interpreter exits (:func:`weakref.finalize`). A
kernel that is killed runs neither, so :func:`remove_stale` removes the folders of processes
that no longer exist; every new folder triggers it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import tempfile
import weakref
from pathlib import Path

PREFIX = "dicomweb-nb-"
_OWNED = re.compile(rf"^{re.escape(PREFIX)}(\d+)-")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    except OSError:
        return True  # unsure: keep the folder
    return True


def remove_stale(parent: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove the temporary data folders of processes that have ended.

    Parameters
    ----------
    parent : str or PathLike, optional
        Where to look (default: the system's temporary folder).

    Returns
    -------
    list of Path
        The folders removed.
    """
    removed = []
    root = Path(parent if parent is not None else tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for entry in root.iterdir():
            match = _OWNED.match(entry.name)
            if match and entry.is_dir() and not _alive(int(match.group(1))):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


def make(owner: object | None = None, parent: str | os.PathLike[str] | None = None) -> Path:
    """Make a temporary data folder removed with ``owner`` or at exit, whichever is first.

    Parameters
    ----------
    owner : object, optional
        When it is garbage-collected, the folder is removed.
    parent : str or PathLike, optional
        Where to make it (default: the system's temporary folder).

    Returns
    -------
    Path
        The new folder.
    """
    remove_stale(parent)
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent))
    if owner is None:
        atexit.register(shutil.rmtree, path, True)
    else:
        # finalize also runs at interpreter exit (atexit) for objects still alive then.
        weakref.finalize(owner, shutil.rmtree, path, True)
    return path
