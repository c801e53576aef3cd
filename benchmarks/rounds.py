"""What the alternating-rounds benchmarks (stow_rounds.py, wado_rounds.py, stow_floor.py) share."""

from __future__ import annotations

import math
import os
import statistics
from typing import Any

SERVERS = ("ours", "orthanc")


def cpu_seconds(pid: int) -> float:
    """Return a process's CPU time so far (user + system, from /proc), NaN without /proc.

    Parameters
    ----------
    pid : int
        The process (a server started by :mod:`servers`).

    Returns
    -------
    float
        Seconds.
    """
    try:
        with open(f"/proc/{pid}/stat") as fh:
            # After the command name (in parentheses, which may hold spaces): utime is the
            # 12th field, stime the 13th, in clock ticks.
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summarize(by_server: dict[str, list[float]], digits: int | None) -> dict[str, Any]:
    """Each server's figures over the rounds, their medians and the ratio of the medians.

    Parameters
    ----------
    by_server : dict of str to list of float
        Per server (``ours``, ``orthanc`` and any others), one figure per counted round.
    digits : int or None
        Decimal places kept (None: whole numbers).

    Returns
    -------
    dict
        ``per_round`` and ``median`` per server, and ``ratio`` (ours ÷ Orthanc).
    """
    medians = {name: statistics.median(values) for name, values in by_server.items()}
    return {
        "per_round": {name: [round(v, digits) for v in vals] for name, vals in by_server.items()},
        "median": {name: round(v, digits) for name, v in medians.items()},
        "ratio": round(medians["ours"] / medians["orthanc"], 2),
    }


def spread(row: dict[str, Any], name: str) -> str:
    """Say one server's median and the range of its rounds, as ``ours 644 [502-717]``.

    Parameters
    ----------
    row : dict
        What :func:`summarize` returned (possibly with more keys).
    name : str
        The server.

    Returns
    -------
    str
        The cell.
    """
    rounds = row["per_round"][name]
    return f"{name} {row['median'][name]} [{min(rounds)}-{max(rounds)}]"


def median_cpu_ms(values: list[float]) -> float | None:
    """Return the median of per-round CPU milliseconds, None when /proc gave none.

    Parameters
    ----------
    values : list of float
        One figure per round, NaN where :func:`cpu_seconds` could not read.

    Returns
    -------
    float or None
        Rounded to hundredths.
    """
    value = statistics.median(values)
    return None if math.isnan(value) else round(value, 2)
