"""What the client returns: STOW outcomes per instance, and search results as a list."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..hooks import table_formatter
from ..protocol.status import REASONS, describe

# One wording of the reason codes for client and server (re-exported: results.describe).
__all__ = ["REASONS", "InstanceOutcome", "SearchResults", "StoreResult", "describe"]


@dataclass
class InstanceOutcome:
    """The fate of one instance (or one input that was not DICOM) in a store call.

    Attributes
    ----------
    status : str
        ``"stored"``, ``"warning"`` (stored with a warning), ``"failed"``, or ``"skipped"``
        (not DICOM, never sent).
    sop_instance_uid, sop_class_uid : str or None
        The instance, as the server reported it.
    source : str or None
        The input's label: its path, its ``name`` attribute, or ``"item <n>"``.
    reason : int or None
        The FailureReason or WarningReason code.
    detail : str
        The server's comments, or why an input was skipped.
    retrieve_url : str or None
        Where a stored instance can be retrieved.
    index : int or None
        The position of the input this outcome belongs to among the inputs the caller gave,
        flattened: each file of a folder counts as one input, in the order the folder is walked
        (recursively, sorted by path), so ``store_instances([a, folder, b])`` numbers ``a`` 0,
        the folder's files 1..n and ``b`` n+1. Outcomes are listed as they become known (a
        skipped input's at once, a sent instance's when its request completes), not in input
        order: match them to inputs with this. None only when the server reports an instance
        that was not sent, or more outcomes for one instance than it was given.
    """

    status: str
    sop_instance_uid: str | None = None
    sop_class_uid: str | None = None
    source: str | None = None
    reason: int | None = None
    detail: str = ""
    retrieve_url: str | None = None
    index: int | None = None

    @property
    def reason_text(self) -> str:
        """The reason code in words."""
        return describe(self.reason)


@dataclass
class StoreResult:
    """The outcome of :meth:`DicomWebClient.store_instances` over all its requests."""

    status_codes: list[int] = field(default_factory=list)
    instances: list[InstanceOutcome] = field(default_factory=list)
    study_retrieve_url: str | None = None
    warning_headers: list[str] = field(default_factory=list)

    @property
    def status_code(self) -> int | None:
        """The status of the last request (the only one for a single batch)."""
        return self.status_codes[-1] if self.status_codes else None

    @property
    def stored(self) -> list[InstanceOutcome]:
        """Instances the server stored (with or without warnings)."""
        return [i for i in self.instances if i.status in ("stored", "warning")]

    @property
    def failed(self) -> list[InstanceOutcome]:
        """Instances the server refused, and inputs never sent because they were not DICOM."""
        return [i for i in self.instances if i.status in ("failed", "skipped")]

    @property
    def warnings(self) -> list[InstanceOutcome]:
        """Instances stored with warnings."""
        return [i for i in self.instances if i.status == "warning"]

    @property
    def ok(self) -> bool:
        """True when everything was stored."""
        return not self.failed

    def rows(self) -> list[dict[str, Any]]:
        """Return one plain dict per instance, for tables.

        Returns
        -------
        list of dict
            Keys: status, source, SOPInstanceUID, reason, reason_text, detail.
        """
        return [
            {
                "status": i.status,
                "source": i.source,
                "SOPInstanceUID": i.sop_instance_uid,
                "reason": i.reason,
                "reason_text": i.reason_text,
                "detail": i.detail,
            }
            for i in self.instances
        ]

    def __repr__(self) -> str:
        parts = [f"{len(self.stored)} stored"]
        if self.warnings:
            parts.append(f"{len(self.warnings)} with warnings")
        if self.failed:
            reasons = sorted({i.reason_text or i.detail for i in self.failed})
            parts.append(f"{len(self.failed)} failed ({'; '.join(reasons)})")
        return f"<StoreResult HTTP {self.status_codes}: {', '.join(parts)}>"


class SearchResults(list[dict[str, Any]]):
    """QIDO-RS results or metadata: a list of DICOM JSON objects that shows as a table.

    Parameters
    ----------
    items : iterable of dict, optional
        The DICOM JSON objects.
    level : str
        ``"study"``, ``"series"`` or ``"instance"`` (orders the table's columns).
    """

    def __init__(self, items: Iterable[dict[str, Any]] = (), level: str = "") -> None:
        super().__init__(items)
        self.level = level

    def to_dataframe(self) -> Any:
        """Return the results as a table: a pandas DataFrame unless another formatter is set.

        The table comes from the formatter of :mod:`dicomweb_nb.hooks`, by default
        :func:`dicomweb_nb.tables.to_dataframe` (the client never imports pandas itself).

        Returns
        -------
        pandas.DataFrame
            One row per result.
        """
        return table_formatter()(self, self.level or None)

    def _repr_html_(self) -> str:
        if not self:
            return f"<p>No {self.level or 'matching'} results.</p>"
        html: str = self.to_dataframe()._repr_html_()
        return html
