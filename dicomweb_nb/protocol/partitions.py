"""Data partitions (Microsoft's ``EnableDataPartitions``): the name rule and the reference's texts.

The server answers with these texts; the client recognises them and says what they mean.
"""

from __future__ import annotations

import re

# PartitionNameValidator: 1 to 64 characters of A-Z a-z 0-9 _ . -
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")

# The reference's 400 texts (DicomCoreResource.resx at eeefbe4d7), word for word.
DISABLED = "Data partitions feature is disabled."
MISSING = "PartitionName value is missing in the route segment."
INVALID = "The specified PartitionName is invalid. "
NOT_FOUND = "Specified PartitionName does not exist."
CANNOT_DISABLE = (
    "Data partitions feature cannot be disabled while existing data has already been partitioned."
)


def is_valid_name(name: str) -> bool:
    """Tell whether ``name`` is a partition name the reference accepts.

    Parameters
    ----------
    name : str
        The candidate name.

    Returns
    -------
    bool
        True for 1 to 64 of ``A-Z a-z 0-9 _ . -``.
    """
    return NAME_PATTERN.fullmatch(name) is not None
