"""DicomWebClient: every DICOMweb transaction as one call."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

import requests

from .partitions import split_url
from .paths import resource_path
from .search import SearchMixin
from .session import Session, TokenSource
from .stow import StoreMixin
from .wado import WadoMixin


class DicomWebClient(StoreMixin, SearchMixin, WadoMixin):
    """A client for one DICOMweb service (STOW-RS, WADO-RS, QIDO-RS, delete, change feed).

    Parameters
    ----------
    url : str
        The base URL including the API version, e.g. ``http://127.0.0.1:8080/v1`` or
        ``https://<name>.azurewebsites.net/v1`` or Orthanc's ``http://host:8042/dicom-web``.
    token : str or callable, optional
        A bearer token, or a callable returning a fresh one for each request.
    auth : requests auth, optional
        Any other requests auth, e.g. ``("user", "password")``.
    headers : mapping, optional
        Extra headers for every request.
    verify : bool or str
        TLS verification (default on; turning it off warns).
    timeout : float or (float, float)
        Connect and read timeouts in seconds.
    retries : int
        Retries of idempotent requests on 429/503 and connection failures.
    partition : str, optional
        Work in this data partition (Microsoft's server, or ``dicomweb-nb serve --partitions``):
        requests go to ``<url>/partitions/<partition>``. A URL that already ends in
        ``/partitions/<name>`` does the same.

    Notes
    -----
    Proxy settings (``HTTPS_PROXY``, ``NO_PROXY`` …) and ``REQUESTS_CA_BUNDLE`` are taken from
    the environment when the client first talks to the server, not for every request.

    Examples
    --------
    >>> client = DicomWebClient("http://127.0.0.1:8080/v1")  # doctest: +SKIP
    >>> client.store_instances("samples/")  # doctest: +SKIP
    <StoreResult HTTP [200]: 3 stored>
    """

    def __init__(
        self,
        url: str,
        *,
        token: TokenSource | None = None,
        auth: requests.auth.AuthBase | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        verify: bool | str = True,
        timeout: float | tuple[float, float] = (10.0, 300.0),
        retries: int = 3,
        partition: str | None = None,
    ) -> None:
        base, root, self.partition = split_url(url, partition)
        super().__init__(
            Session(
                base,
                token=token,
                auth=auth,
                headers=headers,
                verify=verify,
                timeout=timeout,
                retries=retries,
            )
        )
        self.session.root = root

    @property
    def url(self) -> str:
        """The base URL."""
        return self.session.url

    def __repr__(self) -> str:
        return f"DicomWebClient({self.url!r})"

    def list_partitions(self) -> list[dict[str, Any]]:
        """List the server's data partitions (Microsoft's ``GET …/partitions``).

        Returns
        -------
        list of dict
            ``partitionKey``, ``partitionName`` and ``createdDate`` of each; empty when none.

        Raises
        ------
        HTTPStatusError
            400 when the server does not use partitions (the message says so in words).
        """
        response = self.session.request("GET", "/partitions", at_root=True)
        partitions: list[dict[str, Any]] = response.json() if response.content else []
        return partitions

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def __enter__(self) -> DicomWebClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # Delete and change feed (non-standard) ----------------------------------------------------

    def delete_study(self, study_instance_uid: str) -> None:
        """Delete a study (non-standard; 404 raises :class:`NotFound`).

        Parameters
        ----------
        study_instance_uid : str
            The study.
        """
        self.session.request("DELETE", resource_path(study_instance_uid))

    def delete_series(self, study_instance_uid: str, series_instance_uid: str) -> None:
        """Delete a series (non-standard).

        Parameters
        ----------
        study_instance_uid, series_instance_uid : str
            The series.
        """
        self.session.request("DELETE", resource_path(study_instance_uid, series_instance_uid))

    def delete_instance(
        self, study_instance_uid: str, series_instance_uid: str, sop_instance_uid: str
    ) -> None:
        """Delete an instance (non-standard).

        Parameters
        ----------
        study_instance_uid, series_instance_uid, sop_instance_uid : str
            The instance.
        """
        path = resource_path(study_instance_uid, series_instance_uid, sop_instance_uid)
        self.session.request("DELETE", path)

    def iter_changes(
        self, *, start: int = 0, page_size: int = 100, include_metadata: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Iterate over the change feed (non-standard, v1 paging by sequence number).

        Parameters
        ----------
        start : int
            Yield entries after this sequence number.
        page_size : int
            Entries per request (1..100).
        include_metadata : bool
            Include each current instance's DICOM JSON.

        Yields
        ------
        dict
            Entries with sequence, action, state, the three UIDs and timestamp; keys are
            camelCase whatever casing the server uses.
        """
        sequence = start
        while True:
            params = [
                ("offset", str(sequence)),
                ("limit", str(page_size)),
                ("includemetadata", "true" if include_metadata else "false"),
            ]
            # The change feed is served outside partitions; entries name their partition.
            response = self.session.request("GET", "/changefeed", params=params, at_root=True)
            entries = response.json() if response.content else []
            if not entries:
                return
            for entry in entries:
                normal = {k[:1].lower() + k[1:]: v for k, v in entry.items()}
                for key in ("action", "state"):
                    if isinstance(normal.get(key), str):
                        normal[key] = normal[key].lower()
                sequence = max(sequence, int(normal["sequence"]))
                yield normal
