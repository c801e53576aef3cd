"""StudyBrowser: filter studies, then pick a study, a series and an instance; download or delete."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import traitlets

from ..client import DicomWebClient
from ..client.dicomjson import first_value
from .common import ClientPanel
from .labels import joined, study_table, text

STUDY_FIELDS = [
    "StudyDescription",
    "StudyTime",
    "ModalitiesInStudy",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
]


def _number(item: dict[str, Any], keyword: str) -> float:
    # Sorting key: numbers in order, missing ones last.
    try:
        return float(first_value(item, keyword))
    except (TypeError, ValueError):
        return float("inf")


def _series_label(item: dict[str, Any]) -> str:
    count = text(item, "NumberOfSeriesRelatedInstances")
    number = text(item, "SeriesNumber")
    parts = [
        f"#{number}" if number else "",
        joined(item, "Modality", "SeriesDescription", empty=""),
    ]
    if count:
        parts.append(f"{count} image{'s' if count != '1' else ''}")
    return " · ".join(p for p in parts if p) or "(no description)"


def _instance_label(item: dict[str, Any]) -> str:
    number = text(item, "InstanceNumber")
    frames = text(item, "NumberOfFrames")
    parts = [f"#{number}" if number else "", f"{frames} frames" if frames not in ("", "1") else ""]
    parts.append(text(item, "SOPInstanceUID"))
    return " · ".join(p for p in parts if p)


class StudyBrowser(ClientPanel):
    """Search studies, drill down to series and instances, download or delete them.

    What is picked is the :attr:`selected` trait: observe it (or use :meth:`on_select`) to act
    on a choice, e.g. to show the picked instance in a :class:`FrameViewer`.
    """

    selected = traitlets.Dict(
        help="The UIDs picked: study_instance_uid, then series_instance_uid and sop_instance_uid "
        "once those are picked too ({} for nothing)"
    )

    def __init__(self) -> None:
        super().__init__()
        self._select_handlers: dict[Callable[[dict[str, str]], None], Callable[..., None]] = {}
        self._found: dict[str, dict[str, Any]] = {}  # study UID -> its search result
        self.patient_name = widgets.Text(description="Name", placeholder="e.g. doe (fuzzy) or Do*")
        self.fuzzy = widgets.Checkbox(description="fuzzy", value=True)
        self.patient_id = widgets.Text(description="Patient ID")
        self.date_from = widgets.DatePicker(description="From")
        self.date_to = widgets.DatePicker(description="To")
        self.modality = widgets.Text(description="Modality", placeholder="CT")
        self.accession = widgets.Text(description="Accession")
        self.search_button = widgets.Button(
            description="Search", icon="search", button_style="primary"
        )
        self.studies = widgets.Select(description="Studies", rows=6, layout={"width": "95%"})
        self.series = widgets.Select(description="Series", rows=4, layout={"width": "95%"})
        self.instances = widgets.Select(description="Instances", rows=4, layout={"width": "95%"})
        self.table = widgets.HTML()
        self.folder = widgets.Text(description="Save to", value="downloads")
        self.download_button = widgets.Button(description="Download", icon="download")
        self.delete_button = widgets.Button(
            description="Delete…", icon="trash", button_style="danger"
        )
        self.confirm_button = widgets.Button(description="Yes, delete", button_style="danger")
        self.confirm_button.layout.display = "none"
        self.search_button.on_click(lambda _: self.search())
        self.download_button.on_click(lambda _: self.download())
        self.delete_button.on_click(lambda _: self.ask_delete())
        self.confirm_button.on_click(lambda _: self.delete())
        self.studies.observe(lambda _: self._load_series(), names="value")
        self.series.observe(lambda _: self._load_instances(), names="value")
        for select in (self.studies, self.series, self.instances):
            # Registered after the loaders, so it runs once the lists below are refilled.
            select.observe(lambda _: self._pick(), names="value")
        self.children = [
            widgets.HBox([self.patient_name, self.fuzzy]),
            widgets.HBox([self.patient_id, self.accession, self.modality]),
            widgets.HBox([self.date_from, self.date_to]),
            self.search_button,
            self.status,
            self.table,
            self.studies,
            self.series,
            self.instances,
            widgets.HBox([self.folder, self.download_button]),
            widgets.HBox([self.delete_button, self.confirm_button]),
        ]

    def _show_connection(self, change: dict[str, Any]) -> None:
        # Another server (or none): what was found on the last one no longer applies.
        self._found = {}
        self.table.value = ""
        self.studies.options = []
        self.confirm_button.layout.display = "none"
        super()._show_connection(change)

    def on_select(
        self, callback: Callable[[dict[str, str]], None], *, remove: bool = False
    ) -> None:
        """Call ``callback(uids)`` when an instance is picked (for the frame viewer).

        A shorthand for observing :attr:`selected` when it names an instance.

        Parameters
        ----------
        callback : callable
            Receives ``study_instance_uid``, ``series_instance_uid``, ``sop_instance_uid``.
        remove : bool
            Stop calling ``callback`` instead (as ipywidgets' ``on_click`` does).
        """
        if remove:
            registered = self._select_handlers.pop(callback, None)
            if registered is not None:
                self.unobserve(registered, names="selected")
            return

        def handler(change: dict[str, Any]) -> None:
            if "sop_instance_uid" in change["new"]:
                callback(dict(change["new"]))

        self._select_handlers[callback] = handler
        self.observe(handler, names="selected")

    def filters(self) -> dict[str | int, Any]:
        """Return the search filters the form describes.

        Returns
        -------
        dict
            QIDO filters by keyword.
        """
        out: dict[str | int, Any] = {}
        for key, widget in (
            ("PatientName", self.patient_name),
            ("PatientID", self.patient_id),
            ("AccessionNumber", self.accession),
            ("ModalitiesInStudy", self.modality),
        ):
            if widget.value.strip():
                out[key] = widget.value.strip()
        start: dt.date | None = self.date_from.value
        end: dt.date | None = self.date_to.value
        if start or end:
            out["StudyDate"] = (start, end)
        return out

    def search(self) -> int:
        """Run the study search and fill the study list and table.

        Returns
        -------
        int
            How many studies matched.
        """
        found: list[dict[str, Any]] = []

        def action(client: DicomWebClient) -> str:
            results = client.search_for_studies(
                self.filters(),
                fuzzymatching=self.fuzzy.value,
                fields=STUDY_FIELDS,
                get_remaining=True,
            )
            found.extend(results)
            self._found = {str(first_value(i, "StudyInstanceUID")): dict(i) for i in results}
            self.table.value = study_table(results)
            self.studies.options = [
                (
                    joined(i, "PatientName", "StudyDate", "StudyDescription", "ModalitiesInStudy"),
                    first_value(i, "StudyInstanceUID"),
                )
                for i in results
            ]
            return f"{len(results)} studies found."

        self._run("Searching", action)
        return len(found)

    def _load_series(self) -> None:
        study = self.studies.value
        self.series.options, self.instances.options = [], []
        if study:
            self._run(
                "Loading series",
                lambda c: self._fill(
                    self.series,
                    c.search_for_series(
                        study,
                        fields=[
                            "SeriesNumber",
                            "SeriesDescription",
                            "NumberOfSeriesRelatedInstances",
                        ],
                        get_remaining=True,
                    ),
                    _series_label,
                    order="SeriesNumber",
                    uid="SeriesInstanceUID",
                ),
            )

    def _load_instances(self) -> None:
        study, series = self.studies.value, self.series.value
        self.instances.options = []
        if study and series:
            self._run(
                "Loading instances",
                lambda c: self._fill(
                    self.instances,
                    c.search_for_instances(
                        study,
                        series,
                        fields=["InstanceNumber", "NumberOfFrames"],
                        get_remaining=True,
                    ),
                    _instance_label,
                    order="InstanceNumber",
                    uid="SOPInstanceUID",
                ),
            )

    @staticmethod
    def _fill(
        target: widgets.Select,
        items: list[dict[str, Any]],
        label: Callable[[dict[str, Any]], str],
        *,
        order: str,
        uid: str,
    ) -> str:
        ordered = sorted(items, key=lambda i: (_number(i, order), str(first_value(i, uid))))
        target.options = [(label(i), first_value(i, uid)) for i in ordered]
        return f"{len(items)} found."

    def selection(self) -> dict[str, str]:
        """Return the UIDs of what is picked (study, and series / instance when picked).

        Returns
        -------
        dict
            ``study_instance_uid`` and possibly ``series_instance_uid``, ``sop_instance_uid``:
            a copy of :attr:`selected`.
        """
        return dict(self.selected)

    def _pick(self) -> None:
        # The lists are filled top down, so a study, series or instance is picked only when the
        # lists above it are: stop at the first empty one.
        picked = {}
        for key, widget in (
            ("study_instance_uid", self.studies),
            ("series_instance_uid", self.series),
            ("sop_instance_uid", self.instances),
        ):
            if not widget.value:
                break
            picked[key] = str(widget.value)
        self.selected = picked

    def download(self) -> None:
        """Save the picked study (or series) into the folder, streaming to disk."""
        picked = self.selection()
        if not picked:
            self.set_status("error", "Pick a study first.")
            return

        def action(client: DicomWebClient) -> str:
            if "series_instance_uid" in picked:
                files = client.save_series(
                    picked["study_instance_uid"], picked["series_instance_uid"], self.folder.value
                )
            else:
                files = client.save_study(picked["study_instance_uid"], self.folder.value)
            return f"Saved {len(files)} files to {self.folder.value}."

        self._run("Downloading", action)

    def ask_delete(self) -> None:
        """Ask for confirmation before deleting the picked study, series or instance."""
        picked = self.selection()
        if not picked:
            self.set_status("error", "Pick what to delete first.")
            return
        self.confirm_button.layout.display = None
        self.set_status(
            "ask", f"Delete {self.describe(picked)} from the server? This cannot be undone."
        )

    def describe(self, picked: dict[str, str]) -> str:
        """Name what the UIDs pick, as the delete confirmation says it.

        Parameters
        ----------
        picked : dict
            ``study_instance_uid`` and possibly ``series_instance_uid``, ``sop_instance_uid``.

        Returns
        -------
        str
            E.g. ``"the study “CT HEAD” of Müller, Anna (2019-05-02, 2 series, 6 instances)"``.
        """
        study = self._found.get(picked["study_instance_uid"], {})
        description = text(study, "StudyDescription")
        facts = [text(study, "StudyDate")]
        for keyword, noun in (
            ("NumberOfStudyRelatedSeries", "series"),
            ("NumberOfStudyRelatedInstances", "instances"),
        ):
            if text(study, keyword):
                facts.append(f"{text(study, keyword)} {noun}")
        name = "the study" + (f" “{description}”" if description else "")
        if text(study, "PatientName"):
            name += f" of {text(study, 'PatientName')}"
        name += f" ({', '.join(f for f in facts if f)})" if any(facts) else ""
        if "sop_instance_uid" in picked:
            return f"instance {self.instances.label or picked['sop_instance_uid']} of {name}"
        if "series_instance_uid" in picked:
            return f"series {self.series.label or picked['series_instance_uid']} of {name}"
        return name

    def delete(self) -> None:
        """Delete what is picked (after :meth:`ask_delete`)."""
        self.confirm_button.layout.display = "none"
        picked = self.selection()

        def action(client: DicomWebClient) -> str:
            if "sop_instance_uid" in picked:
                client.delete_instance(**picked)
            elif "series_instance_uid" in picked:
                client.delete_series(**picked)
            else:
                client.delete_study(**picked)
            return "Deleted."

        if self._run("Deleting", action):
            self.search()
