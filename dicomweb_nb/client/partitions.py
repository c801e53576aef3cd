"""Data partitions on the client side: a partition in the URL, and the server's answers in words.

Microsoft's server (and the embedded one with ``--partitions``) serves DICOMweb under
``…/v1/partitions/{name}``; the change feed and the list of partitions stay at ``…/v1``.
"""

from __future__ import annotations

import re

from ..protocol.partitions import DISABLED, INVALID, MISSING, NOT_FOUND, is_valid_name
from .errors import InvalidInput

_IN_URL = re.compile(r"^(?P<root>.+?)/partitions/(?P<name>[^/]+)/?$")

# The reference's 400 texts (DicomCoreResource.resx), and what they mean for a client user.
_TEXTS = {
    NOT_FOUND: (
        "partition {name!r} does not exist on this server: it is created by the first store "
        "into it (check the spelling, or store something first)"
    ),
    DISABLED: (
        "this server does not use data partitions: leave out partition= (and /partitions/… in "
        "the URL)"
    ),
    MISSING: (
        "this server keeps its data in partitions: give DicomWebClient(url, partition='<name>'), "
        "e.g. your name in a workshop"
    ),
    INVALID.strip(): ("partition {name!r} is not a valid name: 1 to 64 of A-Z a-z 0-9 . - _"),
}


def split_url(url: str, partition: str | None) -> tuple[str, str, str | None]:
    """Work out the DICOMweb base URL, the service root and the partition.

    Parameters
    ----------
    url : str
        The base URL, possibly ending in ``/partitions/<name>``.
    partition : str, optional
        A partition name given separately.

    Returns
    -------
    (str, str, str or None)
        The base URL for DICOMweb requests, the root (for the change feed and the list of
        partitions), and the partition's name.

    Raises
    ------
    InvalidInput
        For an invalid name, or a URL naming another partition than ``partition``.
    """
    url = url.rstrip("/")
    match = _IN_URL.match(url)
    root, named = (match["root"], match["name"]) if match else (url, None)
    if partition is not None and named is not None and partition != named:
        raise InvalidInput(
            f"The URL names partition {named!r} but partition={partition!r} was given; give one."
        )
    name = partition if partition is not None else named
    if name is None:
        return url, url, None
    if not is_valid_name(name):
        raise InvalidInput(
            f"{name!r} is not a partition name: use 1 to 64 of A-Z a-z 0-9 . - _ (e.g. 'alice')."
        )
    return f"{root}/partitions/{name}", root, name


def in_words(detail: str, url: str) -> str | None:
    """Say what a partition error of the server means, or None when ``detail`` is not one.

    Parameters
    ----------
    detail : str
        The server's error text.
    url : str
        The request URL (the partition's name is read from it).

    Returns
    -------
    str or None
        A sentence for the user.
    """
    for text, meaning in _TEXTS.items():
        if detail.strip().startswith(text):
            match = re.search(r"/partitions/([^/?]+)", url)
            return meaning.format(name=match[1] if match else "")
    return None


def is_missing_partition(detail: str) -> bool:
    """Tell whether an error text says the partition does not exist (the reference's 400).

    Parameters
    ----------
    detail : str
        The server's error text.

    Returns
    -------
    bool
        True for a partition nobody has stored into yet.
    """
    return detail.strip().startswith(NOT_FOUND)
