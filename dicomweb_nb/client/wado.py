"""WADO-RS for the client: instances, series and studies, metadata, frames, rendered images."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from ..pixels import decode_frames
from ..protocol.dicomjson import to_dataset
from ..protocol.multipart import Part
from .base import ClientBase
from .errors import ProtocolError
from .parts import accept_dicom, check_frames, rendered_params, save_parts, stream_parts
from .paths import resource_path
from .results import SearchResults


class WadoMixin(ClientBase):
    """The WADO-RS part of :class:`~dicomweb_nb.client.api.DicomWebClient`."""

    def _get_parts(self, path: str, accept: str) -> Iterator[Part]:
        response = self.session.request("GET", path, headers={"Accept": accept}, stream=True)
        yield from stream_parts(response)

    def _iter_datasets(self, path: str, transfer_syntax: str) -> Iterator[Dataset]:
        for part in self._get_parts(path, accept_dicom(transfer_syntax)):
            # Read whole, PixelData included. defer_size saves the PixelData copy (0.19 instead
            # of 0.24 ms for a 512x512 CT) only while it is unread; reading it then costs more
            # (0.26 ms), and get_item() would give the unread raw element.
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
            "GET", path, headers={"Accept": accept_dicom(transfer_syntax)}, stream=True
        )
        return save_parts(response, folder)

    def _metadata(self, path: str) -> SearchResults:
        headers = {"Accept": "application/dicom+json"}
        cached = self._etags.get(path)
        if cached:
            headers["If-None-Match"] = cached[0]
        response = self.session.request("GET", path + "/metadata", headers=headers)
        if response.status_code == HTTPStatus.NOT_MODIFIED and cached:
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

    # Frames and rendered images ------------------------------------------------------------

    def retrieve_instance_frames(
        self,
        study_instance_uid: str,
        series_instance_uid: str,
        sop_instance_uid: str,
        frame_numbers: list[int] | None = None,
        *,
        transfer_syntax: str = "*",
    ) -> list[bytes]:
        """Retrieve frames' pixel data as bytes (1-based frame numbers).

        Parameters
        ----------
        study_instance_uid, series_instance_uid, sop_instance_uid : str
            The instance.
        frame_numbers : list of int, optional
            Frames to fetch (default ``[1]``).
        transfer_syntax : str
            ``"*"`` (as stored) or a transfer syntax UID such as ``1.2.840.10008.1.2.1``.

        Returns
        -------
        list of bytes
            One entry per frame, in the order asked.
        """
        numbers = check_frames(frame_numbers)
        path = resource_path(study_instance_uid, series_instance_uid, sop_instance_uid)
        path += "/frames/" + ",".join(map(str, numbers))
        accept = 'multipart/related; type="application/octet-stream"'
        if transfer_syntax != "*":
            accept += f"; transfer-syntax={transfer_syntax}"
        else:
            accept += "; transfer-syntax=*"
        frames = [p.content for p in self._get_parts(path, accept)]
        if len(frames) != len(numbers):
            raise ProtocolError(f"{path}: asked for {len(numbers)} frame(s), got {len(frames)}.")
        return frames

    def retrieve_instance_frame_arrays(
        self,
        study_instance_uid: str,
        series_instance_uid: str,
        sop_instance_uid: str,
        frame_numbers: list[int] | None = None,
    ) -> tuple[list[np.ndarray], dict[str, Any]]:
        """Retrieve frames decoded to numpy arrays, using the instance's metadata.

        Parameters
        ----------
        study_instance_uid, series_instance_uid, sop_instance_uid : str
            The instance.
        frame_numbers : list of int, optional
            Frames to fetch (default ``[1]``).

        Returns
        -------
        (list of numpy.ndarray, dict)
            The decoded frames (as stored values; colour as RGB) and the instance metadata.
        """
        meta = self.retrieve_instance_metadata(
            study_instance_uid, series_instance_uid, sop_instance_uid
        )
        ds = to_dataset(meta)
        # Explicit VR little endian frames are plain bytes every server can produce.
        raw = self.retrieve_instance_frames(
            study_instance_uid,
            series_instance_uid,
            sop_instance_uid,
            frame_numbers,
            transfer_syntax="1.2.840.10008.1.2.1",
        )
        arrays = decode_frames(raw, ds)
        return arrays, meta

    def _rendered(self, path: str, media_type: str, quality: int | None) -> bytes:
        params = rendered_params(media_type, quality)
        response = self.session.request("GET", path, params=params, headers={"Accept": media_type})
        return response.content

    def retrieve_instance_rendered(
        self,
        study_instance_uid: str,
        series_instance_uid: str,
        sop_instance_uid: str,
        *,
        media_type: str = "image/png",
        quality: int | None = None,
    ) -> bytes:
        """Retrieve an instance rendered as an image (its first frame).

        Parameters
        ----------
        study_instance_uid, series_instance_uid, sop_instance_uid : str
            The instance.
        media_type : {"image/png", "image/jpeg"}
            The image format.
        quality : int, optional
            JPEG quality 1..100.

        Returns
        -------
        bytes
            The encoded image.
        """
        path = (
            resource_path(study_instance_uid, series_instance_uid, sop_instance_uid) + "/rendered"
        )
        return self._rendered(path, media_type, quality)

    def retrieve_instance_frames_rendered(
        self,
        study_instance_uid: str,
        series_instance_uid: str,
        sop_instance_uid: str,
        frame_number: int = 1,
        *,
        media_type: str = "image/png",
        quality: int | None = None,
    ) -> bytes:
        """Retrieve one frame rendered as an image.

        Parameters
        ----------
        study_instance_uid, series_instance_uid, sop_instance_uid : str
            The instance.
        frame_number : int
            The 1-based frame.
        media_type : {"image/png", "image/jpeg"}
            The image format.
        quality : int, optional
            JPEG quality 1..100.

        Returns
        -------
        bytes
            The encoded image.
        """
        [n] = check_frames([frame_number])
        path = resource_path(study_instance_uid, series_instance_uid, sop_instance_uid)
        return self._rendered(f"{path}/frames/{n}/rendered", media_type, quality)
