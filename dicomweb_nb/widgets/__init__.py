"""ipywidgets panels over the client, tables and display: server, upload, browse, view."""

from __future__ import annotations

import os

import ipywidgets as widgets

from .browser import StudyBrowser
from .server import ServerPanel
from .upload import UploadPanel
from .viewer import FrameViewer

__all__ = ["FrameViewer", "ServerPanel", "StudyBrowser", "UploadPanel", "panel"]


class DicomWebPanel(widgets.Tab):
    """The four panels as tabs, sharing one client (see :func:`panel`)."""

    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.server = ServerPanel(data_dir)
        self.upload = UploadPanel()
        self.browser = StudyBrowser()
        self.viewer = FrameViewer()
        super().__init__(
            children=[self.server, self.upload, self.browser, self.viewer],
            titles=("Server", "Upload", "Browse", "View"),
        )
        self.server.on_client(self._share)
        self.browser.on_select(self._view)

    def _share(self, client: object) -> None:
        for part in (self.upload, self.browser, self.viewer):
            part.client = client  # type: ignore[assignment]

    def _view(self, uids: dict[str, str]) -> None:
        self.viewer.load(
            uids["study_instance_uid"], uids["series_instance_uid"], uids.get("sop_instance_uid")
        )

    @property
    def client(self) -> object:
        """The shared client (None until a server is configured)."""
        return self.server.client


def panel(data_dir: str | os.PathLike[str] | None = None) -> DicomWebPanel:
    """Build the widget panel: server configuration, upload, study browser, frame viewer.

    Parameters
    ----------
    data_dir : str or PathLike, optional
        Data folder for the embedded server (default: a temporary folder).

    Returns
    -------
    DicomWebPanel
        A Tab widget; ``.server``, ``.upload``, ``.browser``, ``.viewer`` are its panels.
    """
    return DicomWebPanel(data_dir)
