"""The HTTP layer: one pooled requests session with auth, timeouts, retries and error mapping."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .errors import (
    HINTS,
    STATUS_ERRORS,
    ConnectionFailed,
    DicomWebWarning,
    HTTPStatusError,
    InvalidInput,
    PartitionNotFound,
    Timeout,
    broken_off,
)
from .partitions import in_words, is_missing_partition

if TYPE_CHECKING:
    from requests.sessions import _Settings

TokenSource = str | Callable[[], str]
# Kept literal in query strings: Orthanc does not percent-decode values, so "Mar*" must arrive as
# written (a "%2A" matches nothing there); these characters are legal in a URI query anyway.
_QUERY_SAFE = "*?,-._~:/"

# How much of a server's error body an exception message quotes.
MAX_DETAIL = 500


class TokenAuth(requests.auth.AuthBase):
    """Bearer-token auth; a callable is called for every request, so expiring tokens refresh.

    Parameters
    ----------
    token : str or callable
        The token, or a function returning a fresh one (e.g. from Azure AD or Google credentials).
    """

    def __init__(self, token: TokenSource) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the Authorization header to a request."""
        token = self._token() if callable(self._token) else self._token
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def __repr__(self) -> str:
        return "TokenAuth(<redacted>)"


def encode_query(params: Iterable[tuple[str, str]]) -> str:
    """Encode query parameters, keeping DICOM wildcards and UID-list commas literal.

    Parameters
    ----------
    params : iterable of (str, str)
        Names and values.

    Returns
    -------
    str
        The query string without the leading ``?``.
    """
    return "&".join(f"{quote(k, safe='')}={quote(v, safe=_QUERY_SAFE)}" for k, v in params)


class _LargeBlockAdapter(HTTPAdapter):
    """Sends request bodies in 1 MiB blocks (http.client's default is 8 KiB, urllib3's 16 KiB).

    A STOW body is a stream with a known length, read block by block: at 16 KiB a 0.5 MB CT
    instance took 34 system calls and Python round trips; at 1 MiB, one.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blocksize", SEND_BLOCK)
        super().init_poolmanager(*args, **kwargs)


SEND_BLOCK = 1 << 20


class _EnvironmentOnce(requests.Session):
    """A requests session that reads proxy and CA bundle settings from the environment once.

    requests reads them for every request: it walks ``os.environ`` twice for ``*_proxy``
    variables and matches the host against ``no_proxy``, about half of its own time for a
    one-instance STOW request. What it finds for an origin is kept, with the arguments it was
    merged with, and given back for later requests to that origin; a new session reads the
    environment anew. Redirects are followed by requests as before.
    """

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[object, _Settings] = {}

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: MutableMapping[str, str] | None,
        stream: bool | None,
        verify: bool | str | None,
        cert: str | tuple[str, str] | None,
    ) -> _Settings:
        """Return requests' merge of these settings with the environment's, read once per origin.

        Parameters
        ----------
        url : str
            The request's URL; only its scheme and host matter.
        proxies, stream, verify, cert
            As for :meth:`requests.Session.merge_environment_settings`.

        Returns
        -------
        dict
            The settings, a fresh ``proxies`` dict each time (requests may change it).
        """
        origin = urlsplit(url.decode() if isinstance(url, bytes) else url or "")[:2]
        try:
            key = (
                origin,
                _frozen(proxies),
                stream,
                verify,
                cert,
                _frozen(self.proxies),
                self.stream,
                self.verify,
                self.cert,
                self.trust_env,
            )
            settings = self._environment.get(key)
        except TypeError:  # an unhashable setting: merge as requests does, every time
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        if settings is None:
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            self._environment[key] = settings
        fresh = settings.copy()
        fresh["proxies"] = dict(settings["proxies"])
        return fresh


def _frozen(mapping: Mapping[str, str] | None) -> object:
    return None if mapping is None else tuple(sorted(mapping.items()))


class Session:
    """One connection pool to one DICOMweb service.

    Parameters
    ----------
    url : str
        The service root including the API version, e.g. ``http://127.0.0.1:8080/v1``.
    token : str or callable, optional
        A bearer token, or a callable returning one per request.
    auth : requests.auth.AuthBase or tuple, optional
        Any other requests auth (e.g. ``("user", "password")`` for basic auth).
    headers : mapping, optional
        Extra headers sent with every request.
    verify : bool or str
        TLS verification (a CA bundle path is allowed). Turning it off warns.
    timeout : float or (float, float)
        Connect and read timeouts in seconds.
    retries : int
        Retries for idempotent requests answered 429/503 (honouring Retry-After) or failing to
        connect.

    Notes
    -----
    Proxy variables (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY`` …) and ``REQUESTS_CA_BUNDLE``
    or ``CURL_CA_BUNDLE`` are honoured as requests honours them, but read once, when the
    session first talks to the server: a change to the environment after that needs a new
    client.
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
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput(
                f"'{url}' is not a DICOMweb base URL; give one like http://127.0.0.1:8080/v1."
            )
        if token is not None and auth is not None:
            raise InvalidInput("Give either token= or auth=, not both.")
        self.url = url.rstrip("/")
        self.root = self.url  # the same unless the client works in a partition
        self.timeout = timeout
        self._http = _EnvironmentOnce()
        retry = Retry(
            total=retries,
            connect=retries,
            read=0,
            status=retries,
            backoff_factor=0.5,
            status_forcelist=(429, 503),
            allowed_methods=frozenset({"GET", "HEAD", "DELETE", "OPTIONS"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = _LargeBlockAdapter(max_retries=retry, pool_maxsize=8)
        self._http.mount("http://", adapter)
        self._http.mount("https://", adapter)
        self._http.auth = TokenAuth(token) if token is not None else auth
        # Orthanc gzips frames and instances when asked (a CT frame: 1.4 ms -> 29 ms): don't ask.
        self._http.headers.update({"Accept-Encoding": "identity", "User-Agent": "dicomweb-nb"})
        self._http.headers.update(headers or {})
        self._http.verify = verify
        if verify is False:
            warnings.warn(
                f"TLS certificate verification is off for {self.url}: anyone on the network path "
                "can read and alter the data. Use it only for a test server.",
                DicomWebWarning,
                stacklevel=3,
            )

    def __repr__(self) -> str:
        return f"Session({self.url!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        at_root: bool = False,
        params: Iterable[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        stream: bool = False,
        allow: Iterable[int] = (),
    ) -> requests.Response:
        """Send one request and map failures to the package's errors.

        Parameters
        ----------
        method : str
            The HTTP method.
        path : str
            The path below the base URL, starting with ``/``.
        at_root : bool
            Below :attr:`root` instead: the change feed and the list of partitions are served
            outside any partition.
        params : iterable of (str, str), optional
            Query parameters (encoded by :func:`encode_query`).
        headers : mapping, optional
            Request headers.
        data : Any
            The body (bytes or a streaming iterator with a length).
        stream : bool
            Leave the body unread, to be streamed by the caller.
        allow : iterable of int
            Error statuses returned as responses instead of raised (e.g. 409 for STOW).

        Returns
        -------
        requests.Response
            The response.

        Raises
        ------
        ConnectionFailed, Timeout, HTTPStatusError
            As described in :mod:`dicomweb_nb.client.errors`.
        """
        url = (self.root if at_root else self.url) + path
        query = encode_query(params or [])
        target = f"{url}?{query}" if query else url
        try:
            response = self._http.request(
                method, target, headers=headers, data=data, stream=stream, timeout=self.timeout
            )
        except requests.exceptions.ChunkedEncodingError as exc:
            raise broken_off(f"{method} {url}") from exc  # a body read here (not streamed)
        except requests.Timeout as exc:
            raise Timeout(
                f"{method} {url}: no answer within {self.timeout} s; the server may be busy, "
                "or raise timeout=."
            ) from exc
        except requests.ConnectionError as exc:
            raise ConnectionFailed(
                f"{method} {url}: cannot connect ({_reason(exc)}). Is the server running and the "
                "URL right?"
            ) from exc
        if response.status_code >= HTTPStatus.BAD_REQUEST and response.status_code not in set(
            allow
        ):
            raise status_error(method, response)
        return response


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "CERTIFICATE_VERIFY_FAILED"):
        if marker in text:
            return marker
    return type(exc).__name__


def status_error(method: str, response: requests.Response) -> HTTPStatusError:
    """Build the error for an error response, with the server's message and a hint.

    Parameters
    ----------
    method : str
        The request method.
    response : requests.Response
        The error response.

    Returns
    -------
    HTTPStatusError
        The subclass matching the status.
    """
    status = response.status_code
    try:
        detail = response.text.strip()
    except Exception:
        detail = ""
    if len(detail) > MAX_DETAIL:
        detail = detail[:MAX_DETAIL] + "…"
    url = response.request.url or response.url if response.request else response.url
    message = f"{method} {url} -> {status} {response.reason}"
    if detail:
        message += f": {detail}"
    words = in_words(detail, str(url))
    hint = HINTS.get(status)
    if words:
        message = f"{words[:1].upper()}{words[1:]}. ({message})"
    elif hint:
        message += f" ({hint})"
    cls = STATUS_ERRORS.get(status, HTTPStatusError)
    if is_missing_partition(detail):
        cls = PartitionNotFound
    return cls(message, status_code=status, url=str(url), detail=detail)
