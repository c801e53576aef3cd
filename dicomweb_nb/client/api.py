"""DicomWebClient: every DICOMweb transaction as one call."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

import requests
from requests_toolbelt import StreamingIterator

from .dicomjson import FilterValue, first_value, search_params
from .errors import Conflict, InvalidInput, ProtocolError
from .multipart import encode
from .results import InstanceOutcome, SearchResults, StoreResult
from .retrieve import RetrieveMixin, _path
from .session import Session, TokenSource, status_error
from .sources import Prepared, StoreItem, prepare

BATCH_COUNT = 20
BATCH_BYTES = 256 * 1024 * 1024
DEFAULT_PAGE = 100


class DicomWebClient(RetrieveMixin):
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
    ) -> None:
        self.session = Session(
            url,
            token=token,
            auth=auth,
            headers=headers,
            verify=verify,
            timeout=timeout,
            retries=retries,
        )
        self._etags = {}

    @property
    def url(self) -> str:
        """The base URL."""
        return self.session.url

    def __repr__(self) -> str:
        return f"DicomWebClient({self.url!r})"

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

    # STOW-RS ---------------------------------------------------------------------------------

    def store_instances(
        self,
        items: StoreItem | Iterable[StoreItem],
        study_instance_uid: str | None = None,
        *,
        batch_size: int = BATCH_COUNT,
        raise_on_conflict: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> StoreResult:
        """Store instances (STOW-RS) in batches, each a streamed multipart body.

        Parameters
        ----------
        items : path, folder, bytes, binary file, Dataset, or an iterable of them
            What to store; folders are walked recursively. Inputs that are not DICOM are reported
            in the result (status ``"skipped"``) and never sent.
        study_instance_uid : str, optional
            Store into this study (``POST ../studies/{study}``); other studies' instances fail.
        batch_size : int
            Instances per request (requests are also kept under 256 MB).
        raise_on_conflict : bool
            Raise :class:`Conflict` when a request stores nothing (409), and
            :class:`HTTPStatusError` on 202, instead of reporting them in the result.
        progress : callable, optional
            Called as ``progress(done, sent_so_far)`` after each request.

        Returns
        -------
        StoreResult
            Per instance: stored, stored with a warning, or failed with the reason code in words.
        """
        if batch_size < 1:
            raise InvalidInput(f"batch_size must be at least 1, got {batch_size}.")
        result = StoreResult()
        batch: list[Prepared] = []
        size = 0
        done = 0
        for prepared in prepare(items):
            if prepared.source is None:
                result.instances.append(
                    InstanceOutcome("skipped", source=prepared.label, detail=prepared.problem)
                )
                continue
            if batch and (len(batch) >= batch_size or size + prepared.source.size > BATCH_BYTES):
                self._store_batch(batch, study_instance_uid, result, raise_on_conflict)
                done += len(batch)
                if progress:
                    progress(done, done)
                batch, size = [], 0
            batch.append(prepared)
            size += prepared.source.size
        if batch:
            self._store_batch(batch, study_instance_uid, result, raise_on_conflict)
            done += len(batch)
            if progress:
                progress(done, done)
        return result

    def store_instance_single(
        self, item: StoreItem, study_instance_uid: str | None = None
    ) -> StoreResult:
        """Store one instance as a bare ``application/dicom`` body (non-standard; Azure accepts it).

        Parameters
        ----------
        item : path, bytes, binary file or Dataset
            One instance.
        study_instance_uid : str, optional
            Store into this study.

        Returns
        -------
        StoreResult
            As for :meth:`store_instances` (a repeat gives status 409 and reason 45070).
        """
        [prepared] = list(prepare(item))
        if prepared.source is None:
            raise InvalidInput(f"{prepared.label}: {prepared.problem}")
        data = b"".join(prepared.source.chunks())
        result = StoreResult()
        response = self.session.request(
            "POST",
            _store_path(study_instance_uid),
            headers={"Content-Type": "application/dicom", "Accept": "application/dicom+json"},
            data=data,
            allow=(409,),
        )
        _collect(response, [prepared], result)
        return result

    def _store_batch(
        self,
        batch: list[Prepared],
        study: str | None,
        result: StoreResult,
        raise_on_conflict: bool,
    ) -> None:
        sources = [p.source for p in batch if p.source is not None]
        content_type, length, body = encode(sources)
        response = self.session.request(
            "POST",
            _store_path(study),
            headers={"Content-Type": content_type, "Accept": "application/dicom+json"},
            # A known length, so the body is streamed without chunked encoding (which made
            # Orthanc answer 200 while storing nothing: dicomweb-client issue #42).
            data=StreamingIterator(length, body),
            allow=(409,),
        )
        if raise_on_conflict and response.status_code in (202, 409):
            raise (
                status_error("POST", response)
                if response.status_code == 409
                else Conflict(
                    f"POST {response.url} -> 202: some instances were not stored.",
                    status_code=202,
                    url=str(response.url),
                    detail=response.text[:500],
                )
            )
        _collect(response, batch, result)

    # QIDO-RS ---------------------------------------------------------------------------------

    def _search(
        self,
        path: str,
        level: str,
        search_filters: Mapping[str | int, FilterValue] | None,
        fuzzymatching: bool,
        fields: Iterable[str | int] | None,
        limit: int | None,
        offset: int,
        get_remaining: bool,
    ) -> SearchResults:
        results = SearchResults()
        results.level = level
        page = limit if limit is not None else (DEFAULT_PAGE if get_remaining else None)
        seen: set[str] = set()
        while True:
            params = search_params(
                search_filters,
                fuzzymatching=fuzzymatching,
                fields=fields,
                limit=page,
                offset=offset,
            )
            response = self.session.request(
                "GET", path, params=params, headers={"Accept": "application/dicom+json"}
            )
            items = _json_list(response)
            fresh = [i for i in items if _identity(i) not in seen]
            seen.update(_identity(i) for i in items)
            results.extend(fresh)
            # Stop on a short page, and on a page that repeats (a server ignoring offset).
            if not get_remaining or not items or not fresh or page is None or len(items) < page:
                return results
            offset += len(items)

    def search_for_studies(
        self,
        search_filters: Mapping[str | int, FilterValue] | None = None,
        *,
        fuzzymatching: bool = False,
        fields: Iterable[str | int] | None = None,
        limit: int | None = None,
        offset: int = 0,
        get_remaining: bool = False,
    ) -> SearchResults:
        """Search for studies (QIDO-RS).

        Parameters
        ----------
        search_filters : mapping, optional
            Keyword or tag -> value: text (``*``/``?`` wildcards where the server supports
            them), a date or ``(start, end)`` range, a list of UIDs.
        fuzzymatching : bool
            Fuzzy person-name matching.
        fields : iterable, optional
            Extra attributes to return (``includefield``); ``["all"]`` for all.
        limit : int, optional
            At most this many results (a page size with ``get_remaining``).
        offset : int
            Skip this many.
        get_remaining : bool
            Page through every result.

        Returns
        -------
        SearchResults
            A list of DICOM JSON objects (empty for 204 or ``[]``).
        """
        return self._search(
            "/studies", "study", search_filters, fuzzymatching, fields, limit, offset, get_remaining
        )

    def search_for_series(
        self,
        study_instance_uid: str | None = None,
        search_filters: Mapping[str | int, FilterValue] | None = None,
        *,
        fuzzymatching: bool = False,
        fields: Iterable[str | int] | None = None,
        limit: int | None = None,
        offset: int = 0,
        get_remaining: bool = False,
    ) -> SearchResults:
        """Search for series, in all studies or in one (QIDO-RS).

        Parameters
        ----------
        study_instance_uid : str, optional
            Restrict to this study.
        search_filters, fuzzymatching, fields, limit, offset, get_remaining
            As for :meth:`search_for_studies`.

        Returns
        -------
        SearchResults
            A list of DICOM JSON objects.
        """
        path = (_path(study_instance_uid) if study_instance_uid else "") + "/series"
        return self._search(
            path, "series", search_filters, fuzzymatching, fields, limit, offset, get_remaining
        )

    def search_for_instances(
        self,
        study_instance_uid: str | None = None,
        series_instance_uid: str | None = None,
        search_filters: Mapping[str | int, FilterValue] | None = None,
        *,
        fuzzymatching: bool = False,
        fields: Iterable[str | int] | None = None,
        limit: int | None = None,
        offset: int = 0,
        get_remaining: bool = False,
    ) -> SearchResults:
        """Search for instances, in all studies, one study or one series (QIDO-RS).

        Parameters
        ----------
        study_instance_uid, series_instance_uid : str, optional
            Restrict to this study / series (a series needs its study).
        search_filters, fuzzymatching, fields, limit, offset, get_remaining
            As for :meth:`search_for_studies`.

        Returns
        -------
        SearchResults
            A list of DICOM JSON objects.
        """
        if series_instance_uid and not study_instance_uid:
            raise InvalidInput("A series_instance_uid needs its study_instance_uid.")
        path = ""
        if study_instance_uid:
            path = _path(study_instance_uid, series_instance_uid)
        return self._search(
            path + "/instances",
            "instance",
            search_filters,
            fuzzymatching,
            fields,
            limit,
            offset,
            get_remaining,
        )

    # Delete and change feed (non-standard) ----------------------------------------------------

    def delete_study(self, study_instance_uid: str) -> None:
        """Delete a study (non-standard; 404 raises :class:`NotFound`).

        Parameters
        ----------
        study_instance_uid : str
            The study.
        """
        self.session.request("DELETE", _path(study_instance_uid))

    def delete_series(self, study_instance_uid: str, series_instance_uid: str) -> None:
        """Delete a series (non-standard).

        Parameters
        ----------
        study_instance_uid, series_instance_uid : str
            The series.
        """
        self.session.request("DELETE", _path(study_instance_uid, series_instance_uid))

    def delete_instance(
        self, study_instance_uid: str, series_instance_uid: str, sop_instance_uid: str
    ) -> None:
        """Delete an instance (non-standard).

        Parameters
        ----------
        study_instance_uid, series_instance_uid, sop_instance_uid : str
            The instance.
        """
        path = _path(study_instance_uid, series_instance_uid, sop_instance_uid)
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
            response = self.session.request("GET", "/changefeed", params=params)
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


def _store_path(study: str | None) -> str:
    return _path(study) if study else "/studies"


def _json_list(response: requests.Response) -> list[dict[str, Any]]:
    # 204, an empty body and [] all mean "no match"; some proxies send an empty HTML page.
    if response.status_code == 204 or not response.content.strip():
        return []
    try:
        data = response.json()
    except ValueError as exc:
        kind = response.headers.get("Content-Type", "?")
        raise ProtocolError(f"{response.url}: expected a DICOM JSON array, got {kind}.") from exc
    if not isinstance(data, list):
        raise ProtocolError(f"{response.url}: expected a JSON array, got {type(data).__name__}.")
    return data


def _identity(item: Mapping[str, Any]) -> str:
    return "/".join(
        str(first_value(item, tag) or "") for tag in ("0020000D", "0020000E", "00080018")
    )


def _collect(response: requests.Response, batch: list[Prepared], result: StoreResult) -> None:
    result.status_codes.append(response.status_code)
    if response.headers.get("Warning"):
        result.warning_headers.append(response.headers["Warning"])
    body: dict[str, Any] = {}
    if response.content.strip():
        try:
            body = response.json()
        except ValueError:
            body = {}
    labels = {p.sop_instance_uid: p.label for p in batch}
    if "00081190" in body:
        result.study_retrieve_url = first_value(body, "00081190")
    reported: set[str | None] = set()
    for item in body.get("00081199", {}).get("Value", []):
        uid = first_value(item, "00081155")
        warning = first_value(item, "00081196")
        reported.add(uid)
        result.instances.append(
            InstanceOutcome(
                "warning" if warning is not None else "stored",
                uid,
                first_value(item, "00081150"),
                labels.get(uid),
                warning,
                _comments(item),
                first_value(item, "00081190"),
            )
        )
    for item in body.get("00081198", {}).get("Value", []):
        uid = first_value(item, "00081155")
        reported.add(uid)
        result.instances.append(
            InstanceOutcome(
                "failed",
                uid,
                first_value(item, "00081150"),
                labels.get(uid),
                first_value(item, "00081197"),
                _comments(item),
            )
        )
    if response.status_code == 409 and not body:
        for p in batch:
            result.instances.append(
                InstanceOutcome("failed", p.sop_instance_uid, p.sop_class_uid, p.label, None, "409")
            )


def _comments(item: Mapping[str, Any]) -> str:
    texts = []
    for entry in item.get("00741048", {}).get("Value", []):
        text = first_value(entry, "00000902")
        if text:
            texts.append(str(text))
    return "; ".join(texts)
