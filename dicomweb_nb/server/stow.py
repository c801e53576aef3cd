"""STOW-RS: receive a request body part by part, and build the reference's response.

Parts of a ``multipart/related`` (or one ``application/dicom``) body are written to temp files as
they arrive; the response is the status code and DICOM JSON body the reference server sends.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser

from .ingest import describe_reason
from .negotiation import parse_media_type
from .store import Outcome


class StowError(Exception):
    """A request the server refuses as a whole: ``status`` is 400 or 415, ``str(exc)`` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_content_type(header: str | None) -> tuple[bool, str | None]:
    """Check a STOW request's Content-Type.

    Parameters
    ----------
    header : str or None
        The Content-Type header.

    Returns
    -------
    (bool, str or None)
        ``(True, boundary)`` for multipart/related, ``(False, None)`` for a single
        application/dicom body.

    Raises
    ------
    StowError
        415 for any other media type, a missing boundary or a root ``type`` other than
        application/dicom; 400 for a ``start`` parameter (as the reference does).
    """
    media = parse_media_type(header or "")
    if media.mime == "application/dicom":
        return False, None
    if media.mime != "multipart/related":
        raise StowError(
            415,
            f"The Content-Type '{header}' is not supported; send multipart/related; "
            'type="application/dicom" or a single application/dicom body.',
        )
    boundary = media.param("boundary")
    if not boundary:
        raise StowError(415, "The multipart/related Content-Type has no boundary parameter.")
    root = media.param("type")
    if root and root.lower() != "application/dicom":
        raise StowError(
            415, f"The multipart type '{root}' is not supported; use application/dicom."
        )
    if media.param("start") is not None:
        raise StowError(400, "The start parameter of multipart/related is not supported.")
    return True, boundary


class PartReceiver:
    """Feeds a multipart body to python-multipart and writes each part to its own temp file.

    Parameters
    ----------
    boundary : str
        The multipart boundary.
    open_part : callable
        Returns ``(file, path)`` for a new part.
    """

    def __init__(self, boundary: str, open_part: Callable[[], tuple[IO[bytes], Path]]) -> None:
        self._open_part = open_part
        self._file: IO[bytes] | None = None
        self._path: Path | None = None
        self._header_name = b""
        self._header_value = b""
        self._content_type: str | None = None
        self._part_index = 0
        self.finished: list[Path] = []
        self.ended = False
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_cb,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": self._end,
                "on_end": self._on_end,
            },
            max_header_count=32,
        )

    def _begin(self) -> None:
        self._content_type = None
        self._part_index += 1
        self._file, self._path = self._open_part()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-type":
            self._content_type = self._header_value.decode("latin-1").strip()
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        # A part without its own Content-Type takes the root type (application/dicom).
        if self._content_type is None:
            return
        mime = parse_media_type(self._content_type).mime
        if mime != "application/dicom":
            raise StowError(
                415,
                f"Part {self._part_index} has Content-Type '{self._content_type}'; "
                "only application/dicom parts can be stored.",
            )

    def _data(self, data: bytes, start: int, end: int) -> None:
        assert self._file is not None
        self._file.write(data[start:end])

    def _end(self) -> None:
        assert self._file is not None and self._path is not None
        self._file.close()
        self.finished.append(self._path)
        self._file = None

    def _on_end(self) -> None:
        self.ended = True

    def write(self, chunk: bytes) -> list[Path]:
        """Feed a chunk; return the parts completed by it.

        Parameters
        ----------
        chunk : bytes
            The next bytes of the body.

        Returns
        -------
        list of Path
            Temp files of the parts that ended in this chunk (the caller takes them over).

        Raises
        ------
        StowError
            400 for a malformed body, 415 for a part that is not application/dicom.
        """
        try:
            self.parser.write(chunk)
        except MultipartParseError as exc:
            raise StowError(400, f"The multipart body is malformed: {exc}") from exc
        done, self.finished = self.finished, []
        return done

    def close(self) -> None:
        """Discard a part still being written (after an error or a truncated body)."""
        if self._file is not None:
            self._file.close()
            if self._path is not None:
                with contextlib.suppress(FileNotFoundError):
                    self._path.unlink()
            self._file = None
        for path in self.finished:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.finished = []


async def receive_single(
    stream: AsyncIterator[bytes], open_part: Callable[[], tuple[IO[bytes], Path]]
) -> Path:
    """Write a single application/dicom body to a temp file.

    Parameters
    ----------
    stream : async iterator of bytes
        The request body.
    open_part : callable
        Returns ``(file, path)`` for the part.

    Returns
    -------
    Path
        The temp file.
    """
    fh, path = open_part()
    try:
        async for chunk in stream:
            fh.write(chunk)
    except BaseException:
        fh.close()
        path.unlink()
        raise
    fh.close()
    return path


def _uid(value: str) -> dict[str, Any]:
    return {"vr": "UI", "Value": [value]}


def _comments(texts: list[str]) -> dict[str, Any]:
    return {"vr": "SQ", "Value": [{"00000902": {"vr": "LO", "Value": [t]}} for t in texts]}


def build_response(
    outcomes: list[Outcome], *, base_url: str, study_in_path: str | None, version: str
) -> tuple[int, dict[str, Any]]:
    """Build the status code and the DICOM JSON body of a STOW response.

    Parameters
    ----------
    outcomes : list of Outcome
        One per received part, in order.
    base_url : str
        The versioned base URL, e.g. ``http://127.0.0.1:8080/v1``, for RetrieveURLs.
    study_in_path : str or None
        The study of ``POST ../studies/{study}``.
    version : str
        The API version (v2 answers 202 for instances stored with warnings).

    Returns
    -------
    (int, dict)
        200 all stored; 202 some failed (or, in v2, stored with warnings); 409 none stored;
        204 no parts.
    """
    if not outcomes:
        return 204, {}
    stored = [o for o in outcomes if o.stored]
    failed = [o for o in outcomes if not o.stored]
    body: dict[str, Any] = {}
    if study_in_path is not None and stored:
        body["00081190"] = {"vr": "UR", "Value": [f"{base_url}/studies/{study_in_path}"]}
    if stored:
        items = []
        for o in stored:
            item = {
                "00081150": _uid(o.sop_class_uid or ""),
                "00081155": _uid(o.sop_instance_uid or ""),
                "00081190": {
                    "vr": "UR",
                    "Value": [
                        f"{base_url}/studies/{o.study_uid}/series/{o.series_uid}"
                        f"/instances/{o.sop_instance_uid}"
                    ],
                },
            }
            if o.warning_reason is not None:
                item["00081196"] = {"vr": "US", "Value": [o.warning_reason]}
            if o.warnings:
                item["00741048"] = _comments(o.warnings)
            items.append(item)
        body["00081199"] = {"vr": "SQ", "Value": items}
    if failed:
        items = []
        for o in failed:
            item = {}
            if o.sop_class_uid:
                item["00081150"] = _uid(o.sop_class_uid)
            if o.sop_instance_uid:
                item["00081155"] = _uid(o.sop_instance_uid)
            item["00081197"] = {"vr": "US", "Value": [o.reason]}
            # Beyond the reference: the reason in words, so a person can read what went wrong.
            reason_text = describe_reason(o.reason or 0)
            item["00741048"] = _comments(
                [f"{reason_text}: {o.message}" if o.message else reason_text]
            )
            items.append(item)
        body["00081198"] = {"vr": "SQ", "Value": items}
    warned = version == "2" and any(o.warnings for o in stored)
    if not stored:
        status = 409
    elif failed or warned:
        status = 202
    else:
        status = 200
    return status, body
