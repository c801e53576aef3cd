"""Data partitions as the reference defines them: which partition a request works in.

Off by default (the reference's ``DicomServer:Features:EnableDataPartitions``). When on, STOW,
WADO, QIDO and DELETE live under ``/{version}/partitions/{partitionName}/…``; a STOW creates its
partition implicitly; the change feed and ``/partitions`` stay at the base URL. Data stored before
partitions were turned on is in ``Microsoft.Default``. The texts are the reference's
(DicomCoreResource.resx; PopulateDataPartitionFilterAttribute, PartitionNameValidator).
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.requests import Request

from ..protocol.partitions import (
    CANNOT_DISABLE,
    DISABLED,
    INVALID,
    MISSING,
    NOT_FOUND,
    is_valid_name,
)
from .errors import RequestError
from .index import Index
from .schema import DEFAULT_PARTITION, DEFAULT_PARTITION_KEY


class PartitionsCannotBeDisabled(RuntimeError):
    """The folder holds partitions other than the default, and partitions are off."""


def check_folder(index: Index, enabled: bool) -> None:
    """Refuse to serve a partitioned folder with partitions off, as the reference does.

    Parameters
    ----------
    index : Index
        The folder's index.
    enabled : bool
        Whether partitions are on.

    Raises
    ------
    PartitionsCannotBeDisabled
        When partitions are off and the folder has more than the default partition.
    """
    if not enabled and any(key != DEFAULT_PARTITION_KEY for key, _, _ in index.partitions()):
        raise PartitionsCannotBeDisabled(CANNOT_DISABLE)


def partition_of(request: Request, *, create: bool = False) -> int:
    """Return the key of the partition a request works in, checking its name.

    Parameters
    ----------
    request : Request
        A STOW, WADO, QIDO or DELETE request.
    create : bool
        Create the partition when it does not exist (STOW only).

    Returns
    -------
    int
        The partition's key (the default partition's when partitions are off).

    Raises
    ------
    RequestError
        400 with the reference's text: the feature is off but the route names a partition, it is
        on but the route names none, the name is invalid, or (for reads) it does not exist.
    """
    enabled: bool = request.app.state.partitions
    name = request.path_params.get("partition")
    if name is None:
        if enabled:
            raise RequestError(HTTPStatus.BAD_REQUEST, MISSING)
        return DEFAULT_PARTITION_KEY
    if not enabled:
        raise RequestError(HTTPStatus.BAD_REQUEST, DISABLED)
    if not is_valid_name(name):
        raise RequestError(HTTPStatus.BAD_REQUEST, INVALID)
    # Partitions are never removed, so a key once found can be remembered.
    known: dict[str, int] = request.app.state.partition_keys
    key = known.get(name)
    if key is None:
        index: Index = request.app.state.archive.index
        key = index.partition_key(name, create=create)
        if key is None:
            raise RequestError(HTTPStatus.BAD_REQUEST, NOT_FOUND)
        known[name] = key
    return key


__all__ = [
    "CANNOT_DISABLE",
    "DEFAULT_PARTITION",
    "DISABLED",
    "INVALID",
    "MISSING",
    "NOT_FOUND",
    "PartitionsCannotBeDisabled",
    "check_folder",
    "partition_of",
]
