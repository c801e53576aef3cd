"""UploadPanel: files from the browser or a folder on the kernel's machine, stored in batches."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ..client import InstanceOutcome
from ..protocol.status import ALREADY_EXISTS
from .common import BAD, NOT_CONNECTED, OK, ClientPanel, error_text

UNKNOWN = "#8a6d00"


def _row_text(outcome: InstanceOutcome) -> tuple[str, str]:
    if outcome.status in ("stored", "warning"):
        text = (
            "stored"
            if outcome.status == "stored"
            else f"stored with a warning: {outcome.reason_text}"
        )
        return text, OK
    if outcome.reason == ALREADY_EXISTS:
        return f"already there ({ALREADY_EXISTS})", UNKNOWN
    reason = outcome.reason_text or outcome.detail
    return f"failed: {reason}", BAD


BROWSER, FOLDER = "Files from this browser", "A folder on the kernel's machine"


class UploadPanel(ClientPanel):
    """Upload DICOM files: browser uploads (small files) or a folder path in the kernel.

    :attr:`source` says which of the two is uploaded (choosing files or typing a folder
    switches it); :meth:`upload` stores them with one ``store_instances`` call (the client
    batches them) and fills :attr:`rows`, one per file, from the outcomes' input index.
    """

    def __init__(self) -> None:
        self.files = widgets.FileUpload(
            accept=".dcm,application/dicom", multiple=True, description="Choose files"
        )
        self.folder = widgets.Text(
            description="Folder", placeholder="a folder on the kernel's machine"
        )
        self.source = widgets.ToggleButtons(
            options=[BROWSER, FOLDER], value=BROWSER, style={"button_width": "auto"}
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
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.upload_button.on_click(lambda _: self.upload())
        self._note = note
        self.files.observe(lambda c: self._pick(BROWSER, bool(c["new"])), names="value")
        self.folder.observe(lambda c: self._pick(FOLDER, bool(c["new"].strip())), names="value")
        self.source.observe(lambda _: self._layout(), names="value")
        self._layout()

    def _pick(self, source: str, chosen: bool) -> None:
        if chosen:
            self.source.value = source

    def _layout(self) -> None:
        # Only the chosen source is shown, and only it is uploaded.
        picker = self.files if self.source.value == BROWSER else self.folder
        self.children = [
            self.source,
            picker,
            self._note if self.source.value == BROWSER else widgets.HTML(),
            self.upload_button,
            self.progress,
            self.status,
            self.table,
        ]

    def _show_connection(self, change: dict[str, Any]) -> None:
        # Rows say what is stored on the server they were sent to: not on the next one.
        self.rows = []
        self.table.value = ""
        self.progress.value = 0
        super()._show_connection(change)

    def _items(self) -> list[tuple[str, Any]]:
        if self.source.value == BROWSER:
            return [(str(f["name"]), bytes(f["content"])) for f in self.files.value]
        folder = self.folder.value.strip()
        if not folder:
            return []
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise ValueError(f"{path} is not a folder on the kernel's machine.")
        # Named by their path inside the folder: a series' files often share their names.
        return [(p.relative_to(path).as_posix(), p) for p in sorted(path.rglob("*")) if p.is_file()]

    def upload(self) -> list[dict[str, str]]:
        """Store the chosen files; one result row per file, in the order of the files.

        Returns
        -------
        list of dict
            Rows with ``file``, ``status`` ("stored", "already there", "failed", or "unknown"
            for a file sent before an error that stopped the upload) and ``detail``.
        """
        self.rows = []
        client = self.client
        if client is None:
            self.set_status("error", NOT_CONNECTED)
            return self.rows
        try:
            items = self._items()
        except Exception as exc:
            self.set_status("error", error_text(exc))
            return self.rows
        if not items:
            what = "Choose files" if self.source.value == BROWSER else "Give a folder with files"
            self.set_status("error", f"{what} first.")
            return self.rows
        self.progress.max, self.progress.value = len(items), 0
        self.set_status("busy", f"Uploading {len(items)} files…")

        done = 0

        def progress(count: int, _total: int | None) -> None:
            nonlocal done
            done = self.progress.value = count
            self.set_status("busy", f"Uploading: {count} of {len(items)} files done…")

        names = [name for name, _ in items]
        try:
            # Each item is one file, so an outcome's index is the position of its file.
            result = client.store_instances([data for _, data in items], progress=progress)
        except Exception as exc:
            # Requests completed before the error stored files, but their outcomes were lost
            # with it; the files after them were not stored.
            lost = ("unknown: sent before the error; upload again to see", UNKNOWN)
            failed = (f"failed: {error_text(exc)}", BAD)
            self._show([lost if n < done else failed for n in range(len(names))], names)
            self.set_status(
                "error", f"Upload stopped after {done} of {len(names)} files: {error_text(exc)}"
            )
            return self.rows
        by_index: dict[int, InstanceOutcome] = {}
        for outcome in result.instances:
            if outcome.index is not None:
                by_index.setdefault(outcome.index, outcome)
        no_answer = ("failed: no answer from the server for this file", BAD)
        texts = [_row_text(by_index[n]) if n in by_index else no_answer for n in range(len(names))]
        self._show(texts, names)
        stored = sum(r["status"] == "stored" for r in self.rows)
        self.set_status("ok", f"Done: {stored} of {len(items)} stored.")
        self.files.value = ()
        return self.rows

    def _show(self, texts: list[tuple[str, str]], names: list[str]) -> None:
        for (text, colour), name in zip(texts, names, strict=True):
            short = text.split(":")[0].split(" (")[0]
            self.rows.append({"file": name, "status": short, "detail": text, "colour": colour})
        self.table.value = self._table()

    def _table(self) -> str:
        cells = "".join(
            f"<tr><td>{html.escape(r['file'])}</td>"
            f'<td style="color:{r["colour"]}">{html.escape(r["detail"])}</td></tr>'
            for r in self.rows
        )
        return f"<table><tr><th>file</th><th>result</th></tr>{cells}</table>"
