"""STOW-RS failure and warning reason codes (PS3.18 Table I.2-1, and the reference server's).

One table, one wording: the server writes these words into a failed item's ErrorComment and the
client shows them in its results, so both ends say the same thing about the same code.
"""

from __future__ import annotations

PROCESSING_FAILURE = 272
SOP_CLASS_NOT_SUPPORTED = 290
VALIDATION_FAILED = 43264
STUDY_MISMATCH = 43265
ALREADY_EXISTS = 45070
BEING_CREATED = 45071
WARNING_VALIDATION = 1
WARNING_NOT_MATCHING_SOP_CLASS = 45063

REASONS = {
    PROCESSING_FAILURE: "processing failure",
    SOP_CLASS_NOT_SUPPORTED: "SOP class not supported",
    VALIDATION_FAILED: (
        "validation failed (a required attribute is missing or invalid, or the study differs)"
    ),
    STUDY_MISMATCH: "study instance UID does not match the study in the request",
    ALREADY_EXISTS: "already stored (same study, series and instance UIDs)",
    BEING_CREATED: "being stored by another request",
    WARNING_VALIDATION: "stored with validation warnings",
    WARNING_NOT_MATCHING_SOP_CLASS: "stored; data set does not match SOP class (e.g. implicit VR)",
    0xA700: "out of resources",
    0xC000: "cannot understand",
    0xB000: "coercion of data elements",
    0xB006: "elements discarded",
}


def describe(reason: int | None) -> str:
    """Return a failure or warning reason in words.

    Parameters
    ----------
    reason : int or None
        The FailureReason / WarningReason code.

    Returns
    -------
    str
        A short description ('' for None; the code itself for an unknown one).
    """
    if reason is None:
        return ""
    return REASONS.get(reason, f"reason code {reason} (0x{reason:04X})")
