"""LocalServer: the embedded DICOMweb server in a background thread, for notebooks and tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
import weakref
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import uvicorn

from .. import _tempdirs
from .app import create_app
from .cors import parse_origins
from .gate import DEFAULT_MAX_BODY
from .serving import listening_socket, uvicorn_config

# How long the interpreter's exit waits for a server that was never stopped.
HALT_SECONDS = 5.0


def _halt(server: uvicorn.Server, thread: threading.Thread, timeout: float) -> None:
    # Holds no reference to the LocalServer, so that it can be collected.
    server.should_exit = True
    if thread is not threading.current_thread():
        thread.join(timeout)


class LocalServer:
    """An embedded DICOMweb server on a free loopback port, running in a background thread.

    Parameters
    ----------
    data_dir : str or Path, optional
        Where instances and the index are kept. Default: a new temporary folder, removed by
        :meth:`stop`. Several servers may share one folder.
    port : int
        The TCP port; 0 picks a free one.
    host : str
        The address to bind; loopback unless told otherwise.
    token : str, optional
        Require ``Authorization: Bearer <token>`` on every request.
    max_body : int or None
        The largest request body in bytes, refused with 413 beyond; default 4 GiB (twice the
        reference's 2 GB request limit), None for no limit.
    version : str
        The API version in :attr:`url` (``"1"`` or ``"2"``; both are always served).
    partitions : bool
        Serve data partitions (``…/v1/partitions/{name}/studies``); see :meth:`partition_url`.
    cors : str or iterable of str, optional
        Origins whose pages may call the server (CORS), e.g. ``"http://localhost:3000"``, a list,
        or ``"*"`` for any; default none. Checked here: a bad origin raises ValueError.
    bulkdata_uris : bool
        Give metadata a ``BulkDataURI`` for each binary value (pixel data and the like) it
        leaves out, so ``retrieve_bulkdata`` can fetch them; off by default, as the reference
        gives none (:mod:`dicomweb_nb.server.bulkdata`).

    Examples
    --------
    >>> with LocalServer() as server:  # doctest: +SKIP
    ...     print(server.url)
    http://127.0.0.1:54321/v1
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        token: str | None = None,
        max_body: int | None = DEFAULT_MAX_BODY,
        version: str = "1",
        partitions: bool = False,
        cors: str | Iterable[str] | None = None,
        bulkdata_uris: bool = False,
    ) -> None:
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.host = host
        self.port = port
        self.version = version
        self._token = token
        self._max_body = max_body
        self.partitions = partitions
        self.cors = parse_origins(cors)
        self.bulkdata_uris = bulkdata_uris
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._halt: weakref.finalize[..., LocalServer] | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LocalServer {state} url={self.url!r} data_dir={str(self.data_dir)!r}>"

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def base_url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:54321`` (without the API version)."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The versioned DICOMweb base URL, e.g. ``http://127.0.0.1:54321/v1``."""
        return f"{self.base_url}/v{self.version}"

    def partition_url(self, name: str) -> str:
        """Return the DICOMweb base URL of a data partition (needs ``partitions=True``).

        Parameters
        ----------
        name : str
            The partition's name: 1 to 64 of ``A-Z a-z 0-9 . - _``.

        Returns
        -------
        str
            E.g. ``http://127.0.0.1:54321/v1/partitions/alice``.
        """
        return f"{self.url}/partitions/{name}"

    def start(self, timeout: float = 30.0) -> LocalServer:
        """Start serving in the background; calling it on a running server does nothing.

        Parameters
        ----------
        timeout : float
            Seconds to wait for the server to accept connections.

        Returns
        -------
        LocalServer
            This server, so that ``LocalServer().start()`` can be assigned.

        Raises
        ------
        RuntimeError
            When the server does not come up in time.
        """
        if self.running:
            return self
        if self.data_dir is None:
            # Removed by stop(), else when this object goes or the kernel exits; folders of
            # killed kernels are removed at the next start.
            self.data_dir = _tempdirs.make(self)
        app = create_app(
            self.data_dir,
            token=self._token,
            max_body=self._max_body,
            partitions=self.partitions,
            cors=self.cors,
            bulkdata_uris=self.bulkdata_uris,
        )
        sock = listening_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        config = uvicorn_config(app, log_level="warning", lifespan="off", access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="dicomweb-nb-server", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise RuntimeError(
                    f"The embedded DICOMweb server did not start on {self.base_url}."
                )
            time.sleep(0.01)
        self._server, self._thread = server, thread
        # A kernel that ends without stop(): the event loop must be stopped before the
        # interpreter tears itself down, or a callback it runs then can crash the process
        # (seen with uvloop: a segmentation fault at exit, now and then). Also when this object
        # is collected while running, before its temporary folder goes (created later, so
        # called first).
        self._halt = weakref.finalize(self, _halt, server, thread, HALT_SECONDS)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving; a temporary data folder is removed.

        Parameters
        ----------
        timeout : float
            Seconds to wait for the server thread to end.
        """
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout)
        if self._halt is not None:
            self._halt.detach()
        self._server = self._thread = self._halt = None
        if self._own_dir and self.data_dir is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.data_dir)
            self.data_dir = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
