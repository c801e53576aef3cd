"""UploadPanel: files from the browser or a folder on the kernel's machine, stored in batches."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ..client import InstanceOutcome
from .common import BAD, OK, ClientPanel, error_text, status

BATCH = 10


def _row_text(outcome: InstanceOutcome) -> tuple[str, str]:
    if outcome.status in ("stored", "warning"):
        text = (
            "stored"
            if outcome.status == "stored"
            else f"stored with a warning: {outcome.reason_text}"
        )
        return text, OK
    if outcome.reason == 45070:
        return "already there (45070)", "#8a6d00"
    reason = outcome.reason_text or outcome.detail
    return f"failed: {reason}", BAD


class UploadPanel(ClientPanel):
    """Upload DICOM files: browser uploads (small files) or a folder path in the kernel."""

    def __init__(self) -> None:
        self.files = widgets.FileUpload(
            accept=".dcm,application/dicom", multiple=True, description="Choose files"
        )
        self.folder = widgets.Text(
            description="Folder", placeholder="a folder on the kernel's machine"
        )
        self.upload_button = widgets.Button(
            description="Upload", icon="upload", button_style="primary"
        )
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Progress")
        self.table = widgets.HTML()
        note = widgets.HTML(
            "<small>Browser uploads travel in one message and Jupyter drops those over ~10 MB: "
            "for real studies give a folder on the kernel's machine.</small>"
        )
        super().__init__([])
        self.rows: list[dict[str, str]] = []
        self.upload_button.on_click(lambda _: self.upload())
        self.children = [
            widgets.HBox([self.files, self.folder]),
            note,
            self.upload_button,
            self.progress,
            self.status,
            self.table,
        ]

    def _items(self) -> list[tuple[str, Any]]:
        items: list[tuple[str, Any]] = [
            (str(f["name"]), bytes(f["content"])) for f in self.files.value
        ]
        folder = self.folder.value.strip()
        if folder:
            path = Path(folder).expanduser()
            if not path.is_dir():
                raise ValueError(f"{path} is not a folder on the kernel's machine.")
            items += [(str(p), p) for p in sorted(path.rglob("*")) if p.is_file()]
        return items

    def upload(self) -> list[dict[str, str]]:
        """Store the chosen files in batches; one result row per file.

        Returns
        -------
        list of dict
            Rows with ``file``, ``status`` ("stored", "already there", "failed") and ``detail``.
        """
        self.rows = []
        if self.client is None:
            self.status.value = status("Not connected: configure a server first.", BAD)
            return self.rows
        try:
            items = self._items()
        except Exception as exc:
            self.status.value = status(error_text(exc), BAD)
            return self.rows
        if not items:
            self.status.value = status("Choose files or give a folder first.", BAD)
            return self.rows
        self.progress.max, self.progress.value = len(items), 0
        for start in range(0, len(items), BATCH):
            batch = items[start : start + BATCH]
            self.status.value = status(
                f"Uploading {start + 1}–{start + len(batch)} of {len(items)}…"
            )
            try:
                result = self.client.store_instances([data for _, data in batch])
                outcomes = _by_input(batch, result.instances)
            except Exception as exc:
                outcomes = [
                    (name, InstanceOutcome("failed", detail=error_text(exc))) for name, _ in batch
                ]
            for name, outcome in outcomes:
                text, colour = _row_text(outcome)
                short = text.split(":")[0].split(" (")[0]
                self.rows.append(
                    {"file": Path(name).name, "status": short, "detail": text, "colour": colour}
                )
            self.progress.value = start + len(batch)
            self.table.value = self._table()
        stored = sum(r["status"] == "stored" for r in self.rows)
        self.status.value = status(f"Done: {stored} of {len(items)} stored.", OK)
        self.files.value = ()
        return self.rows

    def _table(self) -> str:
        cells = "".join(
            f"<tr><td>{html.escape(r['file'])}</td>"
            f'<td style="color:{r["colour"]}">{html.escape(r["detail"])}</td></tr>'
            for r in self.rows
        )
        return f"<table><tr><th>file</th><th>result</th></tr>{cells}</table>"


def _by_input(
    batch: list[tuple[str, Any]], outcomes: list[InstanceOutcome]
) -> list[tuple[str, InstanceOutcome]]:
    # Outcomes come back by SOP Instance UID, and "skipped" ones by position among the inputs:
    # pair each input with its own outcome so every file gets one row.
    remaining = list(outcomes)
    paired = []
    for index, (name, data) in enumerate(batch):
        label = str(data) if isinstance(data, Path) else f"item {index}"
        match = next((o for o in remaining if o.source == label), None)
        if match is None and remaining:
            match = remaining[0]
        if match is None:
            match = InstanceOutcome("failed", detail="no answer from the server for this file")
        else:
            remaining.remove(match)
        paired.append((name, match))
    return paired
