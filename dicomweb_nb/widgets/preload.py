"""A series' instances fetched one by one in a background thread, in viewing order."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydicom.dataset import Dataset

from ..client import DicomWebClient
from ..client.dicomjson import first_value


def viewing_order(metadata: Sequence[Mapping[str, Any]]) -> list[str]:
    """Return the SOPInstanceUIDs of a series in viewing order.

    Parameters
    ----------
    metadata : sequence of mapping
        DICOM JSON objects of the series' instances (metadata or QIDO results).

    Returns
    -------
    list of str
        By InstanceNumber, then slice position from head to feet, then UID; instances without
        a number come last.
    """

    def key(item: Mapping[str, Any]) -> tuple[float, float, str]:
        number = first_value(item, "InstanceNumber")
        position = (item.get("00200032") or {}).get("Value") or []
        z = float(position[2]) if len(position) == 3 else 0.0
        return (
            float(number) if number not in (None, "") else math.inf,
            -z,
            str(first_value(item, "SOPInstanceUID")),
        )

    return [str(first_value(item, "SOPInstanceUID")) for item in sorted(metadata, key=key)]


class SeriesLoader:
    """Fetch the instances of one series in a background thread.

    Parameters
    ----------
    client : DicomWebClient
        Where to fetch from.
    study_instance_uid, series_instance_uid : str
        The series.
    uids : sequence of str
        Its instances, in viewing order.
    loaded : callable
        ``loaded(index, dataset)``, called in the loader's thread as each one arrives.
    failed : callable
        ``failed(exc)``, called in the loader's thread when a fetch fails (loading stops).
    indices : sequence of int, optional
        Which to fetch, in this order (default: all); the viewer fetches the picked one itself
        and has the others fetched nearest first.
    """

    def __init__(
        self,
        client: DicomWebClient,
        study_instance_uid: str,
        series_instance_uid: str,
        uids: Sequence[str],
        loaded: Callable[[int, Dataset], None],
        failed: Callable[[BaseException], None],
        indices: Sequence[int] | None = None,
    ) -> None:
        self.uids = list(uids)
        self._client = client
        self._study, self._series = study_instance_uid, series_instance_uid
        self._loaded, self._failed = loaded, failed
        self._order = list(range(len(self.uids)) if indices is None else indices)
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dicomweb-nb-preload", daemon=True)

    def start(self) -> SeriesLoader:
        """Start fetching; returns this loader."""
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Stop after the fetch under way (a new series was loaded)."""
        self._cancel.set()

    @property
    def running(self) -> bool:
        """Whether instances are still being fetched."""
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every instance is fetched (or loading stopped).

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait at most.

        Returns
        -------
        bool
            True when the loader is done.
        """
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        for index in self._order:
            if self._cancel.is_set():
                return
            try:
                ds = self._client.retrieve_instance(self._study, self._series, self.uids[index])
            except Exception as exc:  # reported in the viewer's status, never as a traceback
                if not self._cancel.is_set():
                    self._failed(exc)
                return
            if self._cancel.is_set():
                return
            self._loaded(index, ds)
