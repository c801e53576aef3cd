"""QIDO-RS for the client: searches, paging through everything, lenient empty answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

import requests

from .base import ClientBase
from .dicomjson import FilterValue, first_value, search_params
from .errors import InvalidInput, ProtocolError
from .paths import resource_path
from .results import SearchResults

DEFAULT_PAGE = 100


class SearchMixin(ClientBase):
    """The QIDO-RS part of :class:`~dicomweb_nb.client.api.DicomWebClient`."""

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
        results = SearchResults(level=level)
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
            items = [_with_context(i, path) for i in _json_list(response)]
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
        path = (resource_path(study_instance_uid) if study_instance_uid else "") + "/series"
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
            path = resource_path(study_instance_uid, series_instance_uid)
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


def _json_list(response: requests.Response) -> list[dict[str, Any]]:
    # 204, an empty body and [] all mean "no match"; some proxies send an empty HTML page.
    if response.status_code == HTTPStatus.NO_CONTENT or not response.content.strip():
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


def _with_context(item: dict[str, Any], path: str) -> dict[str, Any]:
    # Searches inside a study or series don't return its UIDs (PS3.18 leaves them out); add
    # them from the path so every result leads back to what it describes.
    parts = path.strip("/").split("/")
    for key, tag in (("studies", "0020000D"), ("series", "0020000E")):
        if key in parts[:-1] and tag not in item:
            uid = parts[parts.index(key) + 1]
            item = {tag: {"vr": "UI", "Value": [uid]}, **item}
    return item
