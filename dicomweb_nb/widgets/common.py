"""Small pieces shared by the panels: status messages and error text."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..client import DicomWebClient, DicomWebError

OK, BAD, WAIT = "#1b7f3b", "#b00020", "#555555"


def status(message: str, colour: str = WAIT) -> str:
    """Return HTML for a one-line status message.

    Parameters
    ----------
    message : str
        Plain text (escaped here).
    colour : str
        A CSS colour.

    Returns
    -------
    str
        The HTML.
    """
    return f'<span style="color:{colour}">{html.escape(message)}</span>'


def error_text(exc: BaseException) -> str:
    """Return what a person should read about an error (no traceback).

    Parameters
    ----------
    exc : BaseException
        The error.

    Returns
    -------
    str
        The message; unexpected errors are prefixed with their type.
    """
    if isinstance(exc, DicomWebError | ValueError | OSError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class ClientPanel(widgets.VBox):
    """A panel that works with the shared client; :attr:`client` is set by the server panel."""

    def __init__(self, children: list[widgets.Widget], **kwargs: Any) -> None:
        super().__init__(children, **kwargs)
        self._client: DicomWebClient | None = None
        self.status = widgets.HTML(status("Not connected: configure a server first."))

    @property
    def client(self) -> DicomWebClient | None:
        """The client in use, or None."""
        return self._client

    @client.setter
    def client(self, value: DicomWebClient | None) -> None:
        self._client = value
        self.status.value = status("Ready." if value else "Not connected.")

    def _run(self, what: str, action: Callable[[DicomWebClient], str]) -> None:
        if self._client is None:
            self.status.value = status("Not connected: configure a server first.", BAD)
            return
        self.status.value = status(f"{what}…")
        try:
            self.status.value = status(action(self._client), OK)
        except Exception as exc:  # shown in the panel, never as a traceback
            self.status.value = status(f"{what} failed: {error_text(exc)}", BAD)
