"""WADO-RS for the client: instances as Datasets or files, metadata, frames, rendered images."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import requests
from pydicom.dataset import Dataset

from .errors import ProtocolError
from .multipart import MultipartError, Part, StreamingDecoder, iter_parts, parse_content_type
from .paths import resource_path
from .results import SearchResults
from .session import Session

CHUNK = 1 << 20


def _accept_dicom(transfer_syntax: str) -> str:
    return f'multipart/related; type="application/dicom"; transfer-syntax={transfer_syntax}'


def stream_parts(response: requests.Response) -> Iterator[Part]:
    """Yield the parts of a WADO response one at a time, multipart or single-part alike.

    Parameters
    ----------
    response : requests.Response
        A streamed response.

    Yields
    ------
    Part
        Each part; a single-part body (as some servers send for one instance) is one Part.

    Raises
    ------
    ProtocolError
        A multipart body without a boundary, or one that breaks off.
    """
    mime, params = parse_content_type(response.headers.get("Content-Type", ""))
    with response:
        if not mime.startswith("multipart/"):
            yield Part({"content-type": response.headers.get("Content-Type", "")}, response.content)
            return
        boundary = params.get("boundary")
        if not boundary:
            raise ProtocolError(f"{response.url}: multipart response without a boundary.")
        try:
            yield from iter_parts(response.iter_content(CHUNK), boundary)
        except MultipartError as exc:
            raise ProtocolError(f"{response.url}: {exc}") from exc


class RetrieveMixin:
    """The WADO-RS half of :class:`~dicomweb_nb.client.api.DicomWebClient`."""

    session: Session
    _etags: dict[str, tuple[str, list[dict[str, Any]]]]

    def _get_parts(self, path: str, accept: str) -> Iterator[Part]:
        response = self.session.request("GET", path, headers={"Accept": accept}, stream=True)
        yield from stream_parts(response)

    def _iter_datasets(self, path: str, transfer_syntax: str) -> Iterator[Dataset]:
        for part in self._get_parts(path, _accept_dicom(transfer_syntax)):
            yield pydicom.dcmread(io.BytesIO(part.content))

    def iter_study(
        self, study_instance_uid: str, *, transfer_syntax: str = "*"
    ) -> Iterator[Dataset]:
        """Retrieve a study's instances one at a time (only one is in memory at once).

        Parameters
        ----------
        study_instance_uid : str
            The study.
        transfer_syntax : str
            ``"*"`` (as stored, the default: servers answer 406 when they cannot transcode),
            or a transfer syntax UID.

        Yields
        ------
        pydicom.Dataset
            Each instance.
        """
        yield from self._iter_datasets(resource_path(study_instance_uid), transfer_syntax)

    def retrieve_study(
        self, study_instance_uid: str, *, transfer_syntax: str = "*"
    ) -> list[Dataset]:
        """Retrieve all instances of a study.

        Parameters
        ----------
        study_instance_uid : str
            The study.
        transfer_syntax : str
            ``"*"`` or a transfer syntax UID.

        Returns
        -------
        list of pydicom.Dataset
            The instances.
        """
        return list(self.iter_study(study_instance_uid, transfer_syntax=transfer_syntax))

    def iter_series(
        self, study_instance_uid: str, series_instance_uid: str, *, transfer_syntax: str = "*"
    ) -> Iterator[Dataset]:
        """Retrieve a series' instances one at a time.

        Parameters
        ----------
        study_instance_uid, series_instance_uid : str
            The series.
        transfer_syntax : str
            ``"*"`` or a transfer syntax UID.

        Yields
        ------
        pydicom.Dataset
            Each instance.
        """
        path = resource_path(study_instance_uid, series_instance_uid)
        yield from self._iter_datasets(path, transfer_syntax)

    def retrieve_series(
        self, study_instance_uid: str, series_instance_uid: str, *, transfer_syntax: str = "*"
    ) -> list[Dataset]:
        """Retrieve all instances of a series.

        Parameters
        ----------
        study_instance_uid, series_instance_uid : str
            The series.
        transfer_syntax : str
            ``"*"`` or a transfer syntax UID.

        Returns
        -------
        list of pydicom.Dataset
            The instances.
        """
        return list(
            self.iter_series(
                study_instance_uid, series_instance_uid, transfer_syntax=transfer_syntax
            )
        )

    def retrieve_instance(
        self,
        study_instance_uid: str,
        series_instance_uid: str,
        sop_instance_uid: str,
        *,
        transfer_syntax: str = "*",
    ) -> Dataset:
        """Retrieve one instance.

        Parameters
        ----------
        study_instance_uid, series_instance_uid, sop_instance_uid : str
            The instance.
        transfer_syntax : str
            ``"*"`` or a transfer syntax UID.

        Returns
        -------
        pydicom.Dataset
            The instance.
        """
        path = resource_path(study_instance_uid, series_instance_uid, sop_instance_uid)
        datasets = list(self._iter_datasets(path, transfer_syntax))
        if len(datasets) != 1:
            raise ProtocolError(f"{path}: expected one instance, the server sent {len(datasets)}.")
        return datasets[0]

    def save_study(
        self, study_instance_uid: str, folder: str | os.PathLike[str], *, transfer_syntax: str = "*"
    ) -> list[Path]:
        """Stream a study to disk as ``folder/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``.

        Parameters
        ----------
        study_instance_uid : str
            The study.
        folder : str or PathLike
            Where to write (created when missing).
        transfer_syntax : str
            ``"*"`` or a transfer syntax UID.

        Returns
        -------
        list of Path
            The files written. Memory stays flat: parts go to disk as their bytes arrive.
        """
        return self._save(resource_path(study_instance_uid), Path(folder), transfer_syntax)

    def save_series(
        self,
        study_instance_uid: str,
        series_instance_uid: str,
        folder: str | os.PathLike[str],
        *,
        transfer_syntax: str = "*",
    ) -> list[Path]:
        """Stream a series to disk, like :meth:`save_study`.

        Parameters
        ----------
        study_instance_uid, series_instance_uid : str
            The series.
        folder : str or PathLike
            Where to write.
        transfer_syntax : str
            ``"*"`` or a transfer syntax UID.

        Returns
        -------
        list of Path
            The files written.
        """
        path = resource_path(study_instance_uid, series_instance_uid)
        return self._save(path, Path(folder), transfer_syntax)

    def _save(self, path: str, folder: Path, transfer_syntax: str) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        response = self.session.request(
            "GET", path, headers={"Accept": _accept_dicom(transfer_syntax)}, stream=True
        )
        mime, params = parse_content_type(response.headers.get("Content-Type", ""))
        written: list[Path] = []
        with response:
            if not mime.startswith("multipart/"):
                fh = tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False)  # noqa: SIM115
                with fh:
                    for chunk in response.iter_content(CHUNK):
                        fh.write(chunk)
                written.append(_file_away(Path(fh.name), folder))
                return written
            decoder = StreamingDecoder(params.get("boundary", ""))
            out: Any = None
            try:
                for chunk in response.iter_content(CHUNK):
                    for kind, value in decoder.feed(chunk):
                        if kind == "headers":
                            # Closed when the part ends; renamed after its UIDs are read.
                            out = tempfile.NamedTemporaryFile(  # noqa: SIM115
                                dir=folder, suffix=".part", delete=False
                            )
                        elif kind == "data":
                            out.write(value)
                        else:
                            out.close()
                            written.append(_file_away(Path(out.name), folder))
                            out = None
                    if decoder.done:
                        break
                decoder.close()
            except MultipartError as exc:
                raise ProtocolError(f"{response.url}: {exc}") from exc
            finally:
                if out is not None:
                    out.close()
                    Path(out.name).unlink(missing_ok=True)
        return written

    def _metadata(self, path: str) -> SearchResults:
        headers = {"Accept": "application/dicom+json"}
        cached = self._etags.get(path)
        if cached:
            headers["If-None-Match"] = cached[0]
        response = self.session.request("GET", path + "/metadata", headers=headers)
        if response.status_code == 304 and cached:
            return SearchResults(cached[1], level="instance")
        data: list[dict[str, Any]] = response.json() if response.content else []
        etag = response.headers.get("ETag")
        if etag:
            self._etags[path] = (etag, data)
        return SearchResults(data, level="instance")

    def retrieve_study_metadata(self, study_instance_uid: str) -> SearchResults:
        """Retrieve the metadata of every instance of a study (DICOM JSON, ETag reused).

        Parameters
        ----------
        study_instance_uid : str
            The study.

        Returns
        -------
        SearchResults
            One DICOM JSON object per instance; ``.to_dataframe()`` gives one row each.
        """
        return self._metadata(resource_path(study_instance_uid))

    def retrieve_series_metadata(
        self, study_instance_uid: str, series_instance_uid: str
    ) -> SearchResults:
        """Retrieve the metadata of every instance of a series.

        Parameters
        ----------
        study_instance_uid, series_instance_uid : str
            The series.

        Returns
        -------
        SearchResults
            One DICOM JSON object per instance; ``.to_dataframe()`` gives one row each.
        """
        return self._metadata(resource_path(study_instance_uid, series_instance_uid))

    def retrieve_instance_metadata(
        self, study_instance_uid: str, series_instance_uid: str, sop_instance_uid: str
    ) -> dict[str, Any]:
        """Retrieve the metadata of one instance.

        Parameters
        ----------
        study_instance_uid, series_instance_uid, sop_instance_uid : str
            The instance.

        Returns
        -------
        dict
            Its DICOM JSON object.
        """
        items = self._metadata(
            resource_path(study_instance_uid, series_instance_uid, sop_instance_uid)
        )
        if len(items) != 1:
            raise ProtocolError(f"Expected the metadata of one instance, got {len(items)}.")
        return items[0]


def _file_away(temp: Path, folder: Path) -> Path:
    try:
        ds = pydicom.dcmread(
            temp, stop_before_pixels=True, specific_tags=["SeriesInstanceUID", "SOPInstanceUID"]
        )
        final = folder / str(ds.SeriesInstanceUID) / f"{ds.SOPInstanceUID}.dcm"
    except Exception:
        final = folder / f"{temp.stem}.dcm"
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temp, final)
    return final
