"""STOW-RS for the client: batches streamed as multipart bodies, results per instance."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any

import requests

from ..protocol.multipart import encode
from .base import ClientBase
from .dicomjson import first_value
from .errors import InvalidInput
from .paths import resource_path
from .results import InstanceOutcome, StoreResult
from .session import status_error
from .sources import Prepared, StoreItem, flatten, prepare

BATCH_COUNT = 20
BATCH_BYTES = 256 * 1024 * 1024
# progress(done, total): inputs dealt with, and all inputs (None while unknown).
Progress = Callable[[int, int | None], None]


class StoreMixin(ClientBase):
    """The STOW-RS part of :class:`~dicomweb_nb.client.api.DicomWebClient`."""

    def store_instances(
        self,
        items: StoreItem | Iterable[StoreItem],
        study_instance_uid: str | None = None,
        *,
        batch_size: int = BATCH_COUNT,
        raise_on_conflict: bool = False,
        progress: Progress | None = None,
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
            Raise :class:`Conflict` when a request stores nothing (409) instead of reporting it
            in the result. Instances of earlier requests stay stored, and later requests are not
            sent. A partial success (202: some stored, some failed) never raises: its failures
            are in the result, as without this option.
        progress : callable, optional
            Called as ``progress(done, total)`` after each request, and once at the end.
            Both count inputs as :func:`~dicomweb_nb.client.sources.flatten` does (each file of
            a folder is one input): ``done`` is how many have been dealt with (sent in a request
            that has completed, or found not to be DICOM), ``total`` how many there are. For a
            one-shot iterator (e.g. a generator of Datasets), which is read lazily, ``total`` is
            None until the last call. The last call always has ``done == total``, even when
            nothing was sent. E.g. 5 instances with ``batch_size=2``: ``(2, 5)``, ``(4, 5)``,
            ``(5, 5)``.

        Returns
        -------
        StoreResult
            Per input: stored, stored with a warning, failed with the reason code in words, or
            skipped; each outcome's ``index`` is the position of its input.

        Raises
        ------
        InvalidInput
            For a path that does not exist (before anything is sent, unless ``items`` is a
            one-shot iterator), a Dataset without file meta, or an object that is not storable.
        Conflict
            With ``raise_on_conflict``, when a request stores nothing.
        """
        if batch_size < 1:
            raise InvalidInput(f"batch_size must be at least 1, got {batch_size}.")
        inputs = flatten(items)
        total = len(inputs) if isinstance(inputs, list) else None
        result = StoreResult()
        batch: list[Prepared] = []
        size = 0
        seen = 0
        for prepared in prepare(inputs):
            seen = prepared.index + 1
            if prepared.source is None:
                result.instances.append(
                    InstanceOutcome(
                        "skipped",
                        source=prepared.label,
                        detail=prepared.problem,
                        index=prepared.index,
                    )
                )
                continue
            part_size = prepared.source.size or 0  # every prepared input knows its size
            if batch and (len(batch) >= batch_size or size + part_size > BATCH_BYTES):
                self._store_batch(batch, study_instance_uid, result, raise_on_conflict)
                if progress:
                    # Every input before this one has been sent or skipped.
                    progress(prepared.index, total)
                batch, size = [], 0
            batch.append(prepared)
            size += part_size
        if batch:
            self._store_batch(batch, study_instance_uid, result, raise_on_conflict)
        if progress:
            progress(seen, seen)
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
        [prepared] = list(prepare(flatten(item)))
        if prepared.source is None:
            raise InvalidInput(f"{prepared.label}: {prepared.problem}")
        data = b"".join(prepared.source.chunks())
        result = StoreResult()
        response = self.session.request(
            "POST",
            _store_path(study_instance_uid),
            headers={"Content-Type": "application/dicom", "Accept": "application/dicom+json"},
            data=data,
            allow=(HTTPStatus.CONFLICT,),
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
        content_type, length, body = encode(sources, "application/dicom")
        assert length is not None  # every prepared input knows its size
        response = self.session.request(
            "POST",
            _store_path(study),
            headers={"Content-Type": content_type, "Accept": "application/dicom+json"},
            # A known length, so the body is streamed without chunked encoding (which made
            # Orthanc answer 200 while storing nothing: dicomweb-client issue #42).
            data=_StreamedBody(length, body),
            allow=(HTTPStatus.CONFLICT,),
        )
        if raise_on_conflict and response.status_code == HTTPStatus.CONFLICT:
            raise status_error("POST", response)
        _collect(response, batch, result)


class _StreamedBody:
    """A request body of known length, read from an iterator of chunks as it is sent.

    requests sends an object with ``read`` and a ``len`` block by block with a Content-Length;
    an iterator it would send chunked. requests_toolbelt's StreamingIterator did the same, but
    copied every chunk into and out of a buffer: 0.5 ms per 0.5 MB instance, a quarter of the
    client's time for a one-instance request. Here chunks are handed on as they are; one larger
    than the block asked for is handed on in memoryview slices, uncopied.
    """

    def __init__(self, length: int, chunks: Iterable[bytes]) -> None:
        self.len = length  # what requests reads the Content-Length from
        self._chunks: Iterator[bytes] = iter(chunks)
        self._rest: memoryview | None = None

    def read(self, size: int = -1) -> bytes | memoryview:
        """Return the next bytes of the body, at most ``size`` of them (b"" at its end)."""
        if size < 0:
            rest, self._rest = self._rest, None
            return b"".join([rest or b"", *self._chunks])
        if self._rest is not None:
            chunk: bytes | memoryview = self._rest
            self._rest = None
        else:
            chunk = next((c for c in self._chunks if c), b"")  # b"" would read as the end
        if size < len(chunk):
            view = memoryview(chunk)
            chunk, self._rest = view[:size], view[size:]
        return chunk


def _store_path(study: str | None) -> str:
    return resource_path(study) if study else "/studies"


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
    # The server answers by SOP Instance UID; the same instance given twice gets two answers,
    # matched to its inputs in order.
    waiting: dict[str | None, list[int]] = {}
    for p in batch:
        waiting.setdefault(p.sop_instance_uid, []).append(p.index)

    def index_of(uid: str | None) -> int | None:
        queue = waiting.get(uid)
        return queue.pop(0) if queue else None

    if "00081190" in body:
        result.study_retrieve_url = first_value(body, "00081190")
    for item in body.get("00081199", {}).get("Value", []):
        uid = first_value(item, "00081155")
        warning = first_value(item, "00081196")
        result.instances.append(
            InstanceOutcome(
                "warning" if warning is not None else "stored",
                uid,
                first_value(item, "00081150"),
                labels.get(uid),
                warning,
                _comments(item),
                first_value(item, "00081190"),
                index_of(uid),
            )
        )
    for item in body.get("00081198", {}).get("Value", []):
        uid = first_value(item, "00081155")
        result.instances.append(
            InstanceOutcome(
                "failed",
                uid,
                first_value(item, "00081150"),
                labels.get(uid),
                first_value(item, "00081197"),
                _comments(item),
                index=index_of(uid),
            )
        )
    if response.status_code == HTTPStatus.CONFLICT and not body:
        for p in batch:
            result.instances.append(
                InstanceOutcome(
                    "failed",
                    p.sop_instance_uid,
                    p.sop_class_uid,
                    p.label,
                    None,
                    "409",
                    index=p.index,
                )
            )


def _comments(item: Mapping[str, Any]) -> str:
    texts = []
    for entry in item.get("00741048", {}).get("Value", []):
        text = first_value(entry, "00000902")
        if text:
            texts.append(str(text))
    return "; ".join(texts)
