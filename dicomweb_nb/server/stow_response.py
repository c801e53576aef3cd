"""The STOW-RS answer: the reference's status code and DICOM JSON body for a list of outcomes."""

from __future__ import annotations

from typing import Any

from ..protocol.status import describe
from .store import Outcome


def _uid(value: str) -> dict[str, Any]:
    return {"vr": "UI", "Value": [value]}


def _comments(texts: list[str]) -> dict[str, Any]:
    return {"vr": "SQ", "Value": [{"00000902": {"vr": "LO", "Value": [t]}} for t in texts]}


def build_response(
    outcomes: list[Outcome], *, base_url: str, study_in_path: str | None, version: str
) -> tuple[int, dict[str, Any]]:
    """Build the status code and the DICOM JSON body of a STOW response.

    Parameters
    ----------
    outcomes : list of Outcome
        One per received part, in order.
    base_url : str
        The versioned base URL, e.g. ``http://127.0.0.1:8080/v1``, for RetrieveURLs.
    study_in_path : str or None
        The study of ``POST ../studies/{study}``.
    version : str
        The API version (v2 answers 202 for instances stored with warnings).

    Returns
    -------
    (int, dict)
        200 all stored; 202 some failed (or, in v2, stored with warnings); 409 none stored;
        204 no parts.
    """
    if not outcomes:
        return 204, {}
    stored = [o for o in outcomes if o.stored]
    failed = [o for o in outcomes if not o.stored]
    body: dict[str, Any] = {}
    if study_in_path is not None and stored:
        body["00081190"] = {"vr": "UR", "Value": [f"{base_url}/studies/{study_in_path}"]}
    if stored:
        items = []
        for o in stored:
            item = {
                "00081150": _uid(o.sop_class_uid or ""),
                "00081155": _uid(o.sop_instance_uid or ""),
                "00081190": {
                    "vr": "UR",
                    "Value": [
                        f"{base_url}/studies/{o.study_uid}/series/{o.series_uid}"
                        f"/instances/{o.sop_instance_uid}"
                    ],
                },
            }
            if o.warning_reason is not None:
                item["00081196"] = {"vr": "US", "Value": [o.warning_reason]}
            if o.warnings:
                item["00741048"] = _comments(o.warnings)
            items.append(item)
        body["00081199"] = {"vr": "SQ", "Value": items}
    if failed:
        items = []
        for o in failed:
            item = {}
            if o.sop_class_uid:
                item["00081150"] = _uid(o.sop_class_uid)
            if o.sop_instance_uid:
                item["00081155"] = _uid(o.sop_instance_uid)
            item["00081197"] = {"vr": "US", "Value": [o.reason]}
            # Beyond the reference: the reason in words, so a person can read what went wrong.
            reason_text = describe(o.reason or 0)
            item["00741048"] = _comments(
                [f"{reason_text}: {o.message}" if o.message else reason_text]
            )
            items.append(item)
        body["00081198"] = {"vr": "SQ", "Value": items}
    warned = version == "2" and any(o.warnings for o in stored)
    if not stored:
        status = 409
    elif failed or warned:
        status = 202
    else:
        status = 200
    return status, body
