"""Who holds a reservation: a named process, so that one of a dead process is seen as such.

A store first reserves its UIDs (a "being created" row) so that two concurrent stores of one
instance cannot both write. The row names its owner — host, process id and the process's start
time — so that after a ``kill -9`` any later store (in this process or another on the same
folder) sees the owner is gone and takes the reservation over, instead of answering 45071
forever. Process ids are reused; the start time tells a new process from the old one.
"""

from __future__ import annotations

import functools
import os
import socket

# A reservation whose owner cannot be checked (another host, or a folder from before owners were
# recorded) is taken over after this long: an ingest takes seconds, never ten minutes.
UNCHECKABLE_STALE_SECONDS = 600


def _start_time(pid: int) -> str | None:
    # Field 22 of /proc/<pid>/stat is the start time in clock ticks since boot (Linux).
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("latin-1")
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


@functools.cache
def current_owner() -> str:
    """Return this process's owner name, ``host:pid:start``.

    Returns
    -------
    str
        The name recorded on the reservations this process makes.
    """
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid) or '?'}"


def owner_alive(owner: str | None, age_seconds: float) -> bool:
    """Tell whether the owner of a reservation may still be working on it.

    Parameters
    ----------
    owner : str or None
        The recorded owner (None for reservations made before owners were recorded).
    age_seconds : float
        How long ago the reservation was made.

    Returns
    -------
    bool
        False when the owner is certainly gone (or the reservation is too old to be checked).
    """
    host, _, rest = (owner or "").partition(":")
    pid_text, _, start = rest.partition(":")
    if owner is None or host != socket.gethostname() or not pid_text.isdigit():
        return age_seconds < UNCHECKABLE_STALE_SECONDS
    pid = int(pid_text)
    if owner == current_owner():
        return True
    now_start = _start_time(pid)
    if now_start is not None:
        return start in ("?", now_start)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return start == "?"


def pid_of_temp(name: str) -> int | None:
    """Return the process id in a temp file's name (``part-<pid>-…``), or None.

    Parameters
    ----------
    name : str
        The file name.

    Returns
    -------
    int or None
        The pid of the process that made it.
    """
    parts = name.split("-")
    return int(parts[1]) if len(parts) > 2 and parts[0] == "part" and parts[1].isdigit() else None


def pid_alive(pid: int) -> bool:
    """Tell whether a process of this host may still be running.

    Parameters
    ----------
    pid : int
        The process id.

    Returns
    -------
    bool
        False only when the process is certainly gone.
    """
    if pid == os.getpid() or _start_time(pid) is not None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
