"""Frames and rendered images for the client: raw bytes, decoded arrays, PNG/JPEG."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..pixels import decode_frames
from .dicomjson import to_dataset
from .errors import InvalidInput, ProtocolError
from .multipart import Part
from .paths import resource_path
from .session import Session


class FramesMixin:
    """Frames and rendered retrieves of :class:`~dicomweb_nb.client.api.DicomWebClient`."""

    session: Session

    if TYPE_CHECKING:  # provided by RetrieveMixin

        def _get_parts(self, path: str, accept: str) -> Iterator[Part]: ...

        def retrieve_instance_metadata(
            self, study_instance_uid: str, series_instance_uid: str, sop_instance_uid: str
        ) -> dict[str, Any]:
            """Retrieve one instance's metadata."""

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
        numbers = _frames(frame_numbers)
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
        if media_type not in ("image/png", "image/jpeg"):
            raise InvalidInput(f"media_type must be image/png or image/jpeg, not {media_type!r}.")
        params = []
        if quality is not None:
            if not 1 <= quality <= 100:
                raise InvalidInput(f"quality must be 1..100, got {quality}.")
            params.append(("quality", str(quality)))
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
        [n] = _frames([frame_number])
        path = resource_path(study_instance_uid, series_instance_uid, sop_instance_uid)
        return self._rendered(f"{path}/frames/{n}/rendered", media_type, quality)


def _frames(frame_numbers: list[int] | None) -> list[int]:
    numbers = list(frame_numbers or [1])
    for n in numbers:
        if not isinstance(n, int) or n < 1:
            raise InvalidInput(f"Frame numbers start at 1; got {n!r}.")
    return numbers
