"""Small pieces shared by the panels: an observable status, the client trait, error text."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import traitlets

from ..client import DicomWebClient, DicomWebError

OK, BAD, WAIT = "#1b7f3b", "#b00020", "#555555"
#: The states of a panel's :attr:`~StatusPanel.state`, and the colour each is shown in.
COLOURS = {"idle": WAIT, "busy": WAIT, "ok": OK, "error": BAD, "ask": BAD}
NOT_CONNECTED = "Not connected: configure a server first."


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


class StatusPanel(widgets.VBox):
    """A panel whose status is state to observe; :attr:`status` shows it as HTML.

    Code (and tests) read :attr:`state` and :attr:`message`, or ``observe`` them; the HTML is
    only ever derived from them, never read back.

    Parameters
    ----------
    children : sequence of Widget
        The panel's contents.
    message : str
        The first status message.
    **kwargs
        Passed to :class:`ipywidgets.VBox`.
    """

    state = traitlets.Enum(
        tuple(COLOURS),
        default_value="idle",
        help="idle, busy, ok (the last action worked), error, ask (waiting for a confirmation)",
    )
    message = traitlets.Unicode("", help="What the status line says")

    def __init__(
        self, children: Sequence[widgets.Widget] = (), *, message: str = "", **kwargs: Any
    ) -> None:
        super().__init__(list(children), **kwargs)
        self.status = widgets.HTML()
        self.observe(self._show_status, names=["state", "message"])
        self.set_status("idle", message)
        self._show_status()

    def set_status(self, state: str, message: str) -> None:
        """Set the state and the message together.

        Parameters
        ----------
        state : {"idle", "busy", "ok", "error", "ask"}
            The new state.
        message : str
            Plain text for the status line.
        """
        with self.hold_trait_notifications():
            self.state = state
            self.message = message

    def _show_status(self, _change: object = None) -> None:
        self.status.value = status(self.message, COLOURS[self.state])


class ClientPanel(StatusPanel):
    """A panel that works with a client, held in its :attr:`client` trait.

    In :func:`~dicomweb_nb.widgets.panel`, that trait follows the server panel's.

    Parameters
    ----------
    children : sequence of Widget
        The panel's contents.
    **kwargs
        Passed to :class:`ipywidgets.VBox`.
    """

    client = traitlets.Instance(
        DicomWebClient, allow_none=True, help="The client in use (None: not connected)"
    )

    def __init__(self, children: Sequence[widgets.Widget] = (), **kwargs: Any) -> None:
        super().__init__(children, message=NOT_CONNECTED, **kwargs)
        self.observe(self._show_connection, names="client")

    def _show_connection(self, change: dict[str, Any]) -> None:
        self.set_status("idle", "Ready." if change["new"] is not None else "Not connected.")

    def _run(self, what: str, action: Callable[[DicomWebClient], str]) -> bool:
        """Run ``action(client)``, showing progress and its message or error in the status.

        Returns
        -------
        bool
            Whether it worked (the state is then ``"ok"``).
        """
        client = self.client
        if client is None:
            self.set_status("error", NOT_CONNECTED)
            return False
        self.set_status("busy", f"{what}…")
        try:
            message = action(client)
        except Exception as exc:  # shown in the panel, never as a traceback
            self.set_status("error", f"{what} failed: {error_text(exc)}")
            return False
        self.set_status("ok", message)
        return True
