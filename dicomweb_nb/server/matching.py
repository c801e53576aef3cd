"""QIDO matching that never scans backwards: wildcards in linear time, person-name terms.

PS3.4 C.2.2.2.4 wildcards (``*`` any run, ``?`` one character) were a backtracking regular
expression; ``*a*a*a*a*a*a*a*a*b`` against a 64-character name took over 30 s. Here a pattern is
split at its stars into segments that are found left to right, leftmost first, which is exact for
such patterns and costs O(len(value) × len(segment)) at worst. Person names are indexed as terms
(:func:`pn_terms`) so exact and fuzzy name searches are index lookups, not scans.
"""

from __future__ import annotations

import functools
import re

# PS3.5 6.2.1: a PN has up to three component groups separated by '='; components by '^'.
_PN_SPLIT = re.compile(r"[\s^=,]+")
# The largest code point: "prefix" <= x < "prefix" + TOP bounds every x that starts with prefix.
TOP = "\U0010ffff"


@functools.lru_cache(maxsize=512)
def _segments(pattern: str) -> tuple[str, ...]:
    return tuple(pattern.split("*"))


def _match_at(segment: str, value: str, pos: int) -> bool:
    if pos + len(segment) > len(value):
        return False
    return all(c == "?" or c == value[pos + k] for k, c in enumerate(segment))


def _find(segment: str, value: str, start: int, end: int) -> int:
    """Leftmost position >= start where segment ('?' = any one character) fits before end."""
    if "?" not in segment:
        return value.find(segment, start, end)
    for pos in range(start, end - len(segment) + 1):
        if _match_at(segment, value, pos):
            return pos
    return -1


def wildcard_match(pattern: str | None, value: str | None) -> bool:
    """Match a value against a ``*``/``?`` pattern in linear time (no backtracking).

    Parameters
    ----------
    pattern : str or None
        The pattern, already folded like the stored values.
    value : str or None
        The stored (folded) value; None never matches.

    Returns
    -------
    bool
        True when the whole value matches.
    """
    if value is None or pattern is None:
        return False
    segments = _segments(pattern)
    if len(segments) == 1:
        return len(value) == len(pattern) and _match_at(pattern, value, 0)
    first, *middle, last = segments
    if len(first) + len(last) > len(value):
        return False
    if not _match_at(first, value, 0) or not _match_at(last, value, len(value) - len(last)):
        return False
    # Leftmost placement of each middle segment leaves the most room for the rest: a greedy
    # left-to-right scan is exact for star-separated segments.
    pos, end = len(first), len(value) - len(last)
    for segment in middle:
        found = _find(segment, value, pos, end)
        if found < 0:
            return False
        pos = found + len(segment)
    return True


def literal_prefix(pattern: str) -> str:
    """Return the characters a pattern's matches must start with (before any ``*`` or ``?``).

    Parameters
    ----------
    pattern : str
        A wildcard pattern.

    Returns
    -------
    str
        The prefix; '' when the pattern starts with a wildcard.
    """
    cut = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=len(pattern))
    return pattern[:cut]


def pn_groups(stored: str) -> list[str]:
    """Return the component groups of a folded PN value (alphabetic, ideographic, phonetic).

    Parameters
    ----------
    stored : str
        The stored, folded person name.

    Returns
    -------
    list of str
        The non-empty groups, trailing '^' removed.
    """
    groups = [g.rstrip("^").strip() for g in stored.split("=")]
    return [g for g in groups if g]


def pn_words(value: str) -> list[str]:
    """Split a folded PN value or query into words (at '^', '=', ',', and spaces).

    Parameters
    ----------
    value : str
        A folded person name or fuzzy query.

    Returns
    -------
    list of str
        The words, in order.
    """
    return [w for w in _PN_SPLIT.split(value) if w]


def pn_terms(stored: str) -> tuple[set[str], set[str]]:
    """Return what a person name is found by: whole terms (exact, wildcard) and words (fuzzy).

    Parameters
    ----------
    stored : str
        The stored, folded person name.

    Returns
    -------
    (set of str, set of str)
        Whole terms — the value itself and each component group — and its words. The reference's
        exact match is "the whole value or one group"; its fuzzy match is "every query word starts
        a word of the name".
    """
    whole = {stored.strip(), *pn_groups(stored)} - {""}
    return whole, set(pn_words(stored))


def exact_pn_target(query: str) -> str:
    """Return the term an exact PN query looks up ("doe^john^" finds "doe^john").

    Parameters
    ----------
    query : str
        The folded query value.

    Returns
    -------
    str
        The term.
    """
    return query.rstrip("^").strip()
