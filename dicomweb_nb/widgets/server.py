"""ServerPanel: the embedded server or a remote URL, auth, TLS, and a connection test."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import traitlets

from .. import _tempdirs
from ..client import (
    ConnectionFailed,
    DicomWebClient,
    HTTPStatusError,
    ProtocolError,
    Unauthorized,
)
from .common import BAD, StatusPanel, error_text, status

LOCAL, REMOTE = "Local embedded server", "Remote URL"


class ServerPanel(StatusPanel):
    """Configure the DICOMweb server the other panels use.

    Its :attr:`client` trait is the client for the configured server (None until one is
    started or connected); link other panels to it with :func:`traitlets.dlink`, or
    ``observe`` it.

    Parameters
    ----------
    data_dir : str or PathLike, optional
        Data folder of the embedded server (default: a temporary folder).
    """

    client = traitlets.Instance(
        DicomWebClient, allow_none=True, help="The client for the configured server, or None"
    )

    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        super().__init__(message="Start the embedded server, or enter a URL.")
        self._data_dir = data_dir
        self._server: Any = None
        self.mode = widgets.ToggleButtons(
            options=[LOCAL, REMOTE], value=LOCAL, style={"button_width": "auto"}
        )
        self.start_button = widgets.Button(description="Start", icon="play", button_style="success")
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True)
        self.url = widgets.Text(
            description="URL",
            placeholder="the base URL, e.g. http://<host>:8042/dicom-web",
            value=os.environ.get("DICOMWEB_URL", ""),
            layout={"width": "min(100%, 44em)"},
        )
        self.url_help = widgets.HTML(
            "<small>The service's base URL, used as given: Azure "
            "<code>https://&lt;name&gt;.azurewebsites.net/v1</code>, Orthanc "
            "<code>http://&lt;host&gt;:8042/dicom-web</code>, dcm4chee "
            "<code>http://&lt;host&gt;:8080/dcm4chee-arc/aets/DCM4CHEE/rs</code>.</small>"
        )
        # The embedded server's API version; a remote URL carries its own.
        self.version = widgets.Dropdown(description="API", options=["v1", "v2"], value="v1")
        # A workshop server keeps each participant's data in their own partition; the notebooks
        # read the same name from DICOMWEB_PARTITION, and so does this field.
        self.partition = widgets.Text(
            description="Partition",
            value=os.environ.get("DICOMWEB_PARTITION", ""),
            placeholder="your name, in a workshop (else leave empty)",
        )
        self.auth = widgets.Dropdown(description="Auth", options=["none", "bearer token", "basic"])
        self.token = widgets.Password(
            description="Token", value=os.environ.get("DICOMWEB_TOKEN", "")
        )
        self.username = widgets.Text(description="User")
        self.password = widgets.Password(description="Password")
        self.verify = widgets.Checkbox(description="Verify TLS certificates", value=True)
        self.tls_warning = widgets.HTML()
        self.test_button = widgets.Button(description="Test connection", icon="plug")
        # The notebooks' environment variables (a workshop's class server) fill the form.
        if self.url.value:
            self.mode.value = REMOTE
        if self.token.value:
            self.auth.value = "bearer token"
        self.start_button.on_click(lambda _: self.start_local())
        self.stop_button.on_click(lambda _: self.stop_local())
        self.test_button.on_click(lambda _: self.test_connection())
        for control in (self.mode, self.auth, self.verify):
            control.observe(lambda _: self._layout(), names="value")
        self._layout()

    def _layout(self) -> None:
        rows: list[widgets.Widget] = [self.mode]
        if self.mode.value == LOCAL:
            rows += [widgets.HBox([self.start_button, self.stop_button]), self.version]
        else:
            rows += [self.url, self.url_help, self.partition, self.auth]
            if self.auth.value == "bearer token":
                rows.append(self.token)
            elif self.auth.value == "basic":
                rows += [self.username, self.password]
            rows.append(self.verify)
        self.tls_warning.value = (
            ""
            if self.verify.value or self.mode.value == LOCAL
            else status("TLS verification is off: use this only with a test server.", BAD)
        )
        rows += [self.tls_warning, self.test_button, self.status]
        self.children = rows

    def start_local(self) -> None:
        """Start the embedded server (a second click does nothing) and connect to it."""
        from ..server.local import LocalServer

        if self._server is None:
            if self._data_dir is None:
                # The panel's own folder, kept from Stop to Start so a restarted server still
                # has what was uploaded; removed with the panel or when the kernel ends.
                self._data_dir = _tempdirs.make(self)
            self._server = LocalServer(self._data_dir)
        try:
            self._server.start()
        except Exception as exc:
            self.set_status("error", f"The server did not start: {error_text(exc)}")
            return
        self._server.version = self.version.value.lstrip("v")
        self.start_button.disabled, self.stop_button.disabled = True, False
        self.client = DicomWebClient(self._server.url)
        self.test_connection()

    def stop_local(self) -> None:
        """Stop the embedded server."""
        if self._server is not None:
            self._server.stop()
        self.start_button.disabled, self.stop_button.disabled = False, True
        self.client = None
        self.set_status("idle", "The embedded server is stopped.")

    def connect(self) -> DicomWebClient | None:
        """Build the client from the form (remote mode) and share it.

        Returns
        -------
        DicomWebClient or None
            The client, or None when the form is incomplete (the status says why).
        """
        if self.mode.value == LOCAL:
            return self.client
        url = self.url.value.strip().rstrip("/")
        if not url:
            self.set_status("error", "Enter the server's URL.")
            return None
        kwargs: dict[str, Any] = {"verify": self.verify.value}
        if self.partition.value.strip():
            kwargs["partition"] = self.partition.value.strip()
        if self.auth.value == "bearer token":
            kwargs["token"] = self.token.value
        elif self.auth.value == "basic":
            kwargs["auth"] = (self.username.value, self.password.value)
        try:
            client = DicomWebClient(url, **kwargs)
        except Exception as exc:
            self.set_status("error", error_text(exc))
            return None
        self.client = client
        return client

    def test_connection(self) -> str:
        """Check the server: reachable, authorised, speaking DICOMweb, how many studies.

        Returns
        -------
        str
            The report, also shown in :attr:`status`.
        """
        client = self.connect() if self.mode.value == REMOTE else self.client
        if client is None:
            message = "Not connected: start the embedded server or enter a URL."
            self.set_status("error", message)
            return message
        self.set_status("busy", f"Testing {client.url}…")
        try:
            studies = client.search_for_studies(limit=200, get_remaining=True)
        except ConnectionFailed as exc:
            report, state = f"✘ not reachable: {error_text(exc)}", "error"
        except Unauthorized as exc:
            report, state = f"✔ reachable · ✘ not authorised ({exc.status_code})", "error"
        except (HTTPStatusError, ProtocolError) as exc:
            where = (
                "check the base URL: it must include the service's path "
                "(e.g. /v1 on Azure, /dicom-web on Orthanc)"
                if getattr(exc, "status_code", None) in (404, 405)
                else error_text(exc)
            )
            report = f"✔ reachable · ✘ no DICOMweb service at {client.url}: {where}"
            state = "error"
        else:
            report = (
                f"✔ reachable · ✔ authorised · ✔ DICOMweb · {len(studies)} studies at {client.url}"
            )
            state = "ok"
        self.set_status(state, report)
        return report

    def save_config(self, path: str | os.PathLike[str]) -> None:
        """Save the form to a JSON file, without token or password.

        Parameters
        ----------
        path : str or PathLike
            The file.
        """
        config = {
            "mode": self.mode.value,
            "url": self.url.value,
            "partition": self.partition.value,
            "version": self.version.value,
            "auth": self.auth.value,
            "username": self.username.value,
            "verify": self.verify.value,
        }
        Path(path).write_text(json.dumps(config, indent=2))

    def load_config(self, path: str | os.PathLike[str]) -> None:
        """Fill the form from a file written by :meth:`save_config`.

        Parameters
        ----------
        path : str or PathLike
            The file.
        """
        config = json.loads(Path(path).read_text())
        for key in ("mode", "url", "partition", "version", "auth", "username", "verify"):
            if key in config and not (key == "version" and config[key] not in self.version.options):
                getattr(self, key).value = config[key]
