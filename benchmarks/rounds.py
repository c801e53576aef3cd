"""What the alternating-rounds benchmarks (stow_rounds.py, wado_rounds.py) share."""

from __future__ import annotations

import statistics
from typing import Any

SERVERS = ("ours", "orthanc")


def summarize(by_server: dict[str, list[float]], digits: int | None) -> dict[str, Any]:
    """Each server's figures over the rounds, their medians and the ratio of the medians.

    Parameters
    ----------
    by_server : dict of str to list of float
        Per server (``ours``, ``orthanc``), one figure per counted round.
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
