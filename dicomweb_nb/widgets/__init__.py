"""ipywidgets panels over the client, tables and display: server, upload, browse, view."""

from __future__ import annotations

import os
from typing import Any

import ipywidgets as widgets
import traitlets

from ..client import DicomWebClient
from .browser import StudyBrowser
from .server import ServerPanel
from .upload import UploadPanel
from .viewer import FrameViewer

__all__ = ["FrameViewer", "ServerPanel", "StudyBrowser", "UploadPanel", "panel"]


class DicomWebPanel(widgets.Tab):
    """The four panels as tabs, sharing one client (see :func:`panel`).

    The server panel's ``client`` trait is linked one way (:func:`traitlets.dlink`) to the
    ``client`` of the upload, browse and view panels: :attr:`links` holds the links, by panel
    name, so one can be cut with ``unlink()``. Picking an instance in the browser (its
    ``selected`` trait) opens its series in the View tab at that instance.
    """

    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.server = ServerPanel(data_dir)
        self.upload = UploadPanel()
        self.browser = StudyBrowser()
        self.viewer = FrameViewer()
        super().__init__(
            children=[self.server, self.upload, self.browser, self.viewer],
            titles=("Server", "Upload", "Browse", "View"),
        )
        self.links: dict[str, traitlets.directional_link] = {
            name: traitlets.dlink((self.server, "client"), (part, "client"))
            for name, part in (
                ("upload", self.upload),
                ("browser", self.browser),
                ("viewer", self.viewer),
            )
        }
        self.browser.observe(self._view, names="selected")

    def _view(self, change: dict[str, Any]) -> None:
        uids = change["new"]
        if "sop_instance_uid" in uids:
            self.selected_index = self.children.index(self.viewer)
            self.viewer.load(
                uids["study_instance_uid"], uids["series_instance_uid"], uids["sop_instance_uid"]
            )

    @property
    def client(self) -> DicomWebClient | None:
        """The shared client: the server panel's (None until a server is configured)."""
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
