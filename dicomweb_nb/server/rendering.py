"""Rendered images (PS3.18 8.3.5.1.2): one frame windowed into an 8-bit JPEG or PNG for a person."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from typing import BinaryIO

import numpy as np
from PIL import Image

from ..pixels import is_grayscale, to_rgb8, window_gray
from .codec import codec_boundary, decode_frame
from .transcode import FrameError, number_of_frames, read_header


def render(fh: BinaryIO, frame_number: int, media_type: str, quality: int = 100) -> bytes:
    """Render one frame as an 8-bit image for a person to look at.

    Parameters
    ----------
    fh : BinaryIO
        The stored file, open (it stays readable if a delete unlinks it meanwhile).
    frame_number : int
        1-based frame number.
    media_type : str
        ``image/jpeg`` or ``image/png``.
    quality : int
        JPEG quality, 1..100 (ignored for PNG).

    Returns
    -------
    bytes
        The encoded image: grayscale rescaled and windowed (the file's first window, else its VOI
        LUT, else min..max), MONOCHROME1 inverted; colour as RGB; palette colour through its LUT.

    Raises
    ------
    FrameError
        A frame beyond NumberOfFrames, or no pixel data.
    TranscodeError
        Pixel data that cannot be decoded, or attributes the windowing cannot use (406).
    """
    ds = read_header(fh)
    count = number_of_frames(ds)
    if count == 0:
        raise FrameError("The instance has no pixel data to render.")
    if frame_number > count:
        raise FrameError(f"Frame {frame_number} does not exist: the instance has {count} frame(s).")
    arr = decode_frame(fh, frame_number, "Cannot decode the pixel data to render it")
    # Windowing and colour conversion read LUTs and palettes from the file: as untrusted as the
    # pixel data, so inside the same boundary.
    with codec_boundary("Cannot render the decoded pixel data"):
        if is_grayscale(ds):
            gray = np.round(window_gray(arr, ds) * 255).astype(np.uint8)
            image = Image.fromarray(gray, mode="L")
        else:
            image = Image.fromarray(to_rgb8(arr, ds), mode="RGB")
    buf = io.BytesIO()
    if media_type == "image/png":
        # Level 1 instead of 6: the same pixels (PNG is lossless) in about two thirds of the
        # time, for files ~15 % larger; a loopback or LAN viewer gains more than it loses.
        image.save(buf, format="PNG", compress_level=1)
    else:
        image.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


class RenderCache:
    """The most recently rendered images, up to a byte budget (viewers ask for the same again).

    Keys name the stored copy by its watermark, so a copy stored again under the same UIDs is
    never answered with the old picture; entries of deleted copies are simply never asked for
    again and age out.

    Parameters
    ----------
    budget : int
        The most bytes of images kept.
    """

    def __init__(self, budget: int = 64 * 1024 * 1024) -> None:
        self.budget = budget
        self._size = 0
        self._items: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> bytes | None:
        """Return a cached image, or None.

        Parameters
        ----------
        key : tuple
            ``(watermark, frame, media type, quality)``.

        Returns
        -------
        bytes or None
            The encoded image.
        """
        with self._lock:
            image = self._items.get(key)
            if image is not None:
                self._items.move_to_end(key)
            return image

    def put(self, key: tuple[object, ...], image: bytes) -> None:
        """Keep an image, dropping the least recently used beyond the budget.

        Parameters
        ----------
        key : tuple
            ``(watermark, frame, media type, quality)``.
        image : bytes
            The encoded image.
        """
        if len(image) > self.budget:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._size += len(image) - (len(old) if old is not None else 0)
            self._items[key] = image
            while self._size > self.budget:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)
