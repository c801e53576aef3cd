"""Workshop mode of ``dicomweb-nb serve``: one server for a class, a partition per participant.

``dicomweb-nb serve --workshop`` turns data partitions on (each participant stores, searches and
deletes in their own partition, so thirty people can upload the same tutorial files and each get
the tutorial's status codes), requires a bearer token when it listens beyond loopback (one is
generated when none is given) and prints how participants connect: the environment variables the
notebooks and the panel read.
"""

from __future__ import annotations

import secrets
import socket

URL_VARIABLE = "DICOMWEB_URL"
TOKEN_VARIABLE = "DICOMWEB_TOKEN"
PARTITION_VARIABLE = "DICOMWEB_PARTITION"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    """Tell whether a listen address is reachable from this machine only.

    Parameters
    ----------
    host : str
        The address given to ``--host``.

    Returns
    -------
    bool
        True for 127.0.0.0/8, ``localhost`` and ``::1``.
    """
    return host in LOOPBACK or host.startswith("127.")


def workshop_token(given: str | None, host: str) -> tuple[str | None, bool]:
    """Return the token a workshop server requires, and whether it was generated here.

    Parameters
    ----------
    given : str or None
        The token from ``--token-file``, ``DICOMWEB_NB_TOKEN`` or ``--token``.
    host : str
        The listen address.

    Returns
    -------
    (str or None, bool)
        A token is always required beyond loopback: the given one, else a new random one.
    """
    if given is not None or is_loopback(host):
        return given, False
    return secrets.token_urlsafe(18), True


def connect_block(host: str, port: int, token: str | None, *, generated: bool = False) -> str:
    """Return the "how to connect" text a teacher reads out or projects.

    Parameters
    ----------
    host : str
        The listen address (``0.0.0.0`` means every interface; the machine's name is shown).
    port : int
        The TCP port.
    token : str or None
        The token participants need, if any.
    generated : bool
        Whether the token was made up at start (it changes at the next start).

    Returns
    -------
    str
        Several lines of text.
    """
    every = host in ("0.0.0.0", "::")  # every interface: show the machine's name
    url = f"http://{socket.gethostname() if every else host}:{port}/v1"
    url_note = "   (or this machine's IP address instead of its name)" if every else ""
    if token is None:
        token_line = "  Token: none (loopback only)"
    else:
        note = "   (new at every start; pass --token-file to keep one)" if generated else ""
        token_line = f"  Token: {token}{note}"
    lines = [
        "",
        "=== Workshop server ready: each participant works in their own data partition ===",
        f"  URL:   {url}{url_note}",
        token_line,
        "",
        "Participants, before starting JupyterLab (PowerShell: $env:NAME = 'value'):",
        f"  export {URL_VARIABLE}={url}",
    ]
    if token:
        lines.append(f"  export {TOKEN_VARIABLE}={token}")
    lines += [
        f"  export {PARTITION_VARIABLE}=<your-name>     # 1-64 of A-Z a-z 0-9 . - _",
        "then run notebooks/01_dicomweb_standard_apis.ipynb; the panel's Server tab has the same",
        "fields. Teacher: notebooks/workshop/teacher.ipynb shows who stored what, and resets.",
        "",
    ]
    return "\n".join(lines)
