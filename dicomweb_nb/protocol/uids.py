"""The UID rule both ends apply: what the reference accepts as a UID in a path, query or header."""

from __future__ import annotations

import re

# Digits and dots ending in a digit, as the reference checks (laxer than PS3.5 9.1, which it does
# not enforce). Also what makes a UID safe as a file or folder name: no "/", never "." or "..".
UID_PATTERN = re.compile(r"^[0-9.]*[0-9]$")
MAX_UID_LENGTH = 64


def is_valid_uid(value: str) -> bool:
    """Tell whether ``value`` is a UID the reference server accepts (digits and dots, <= 64).

    Parameters
    ----------
    value : str
        The candidate UID; trailing spaces and NULs are tolerated.

    Returns
    -------
    bool
        True when valid.
    """
    value = value.rstrip(" \x00")
    # fullmatch: with match, "$" also matches before a final newline, and "1.2\n" passed.
    return 0 < len(value) <= MAX_UID_LENGTH and bool(UID_PATTERN.fullmatch(value))
