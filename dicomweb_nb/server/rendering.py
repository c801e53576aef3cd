"""Rendered images (PS3.18 8.3.5.1.2): one frame windowed into an 8-bit JPEG or PNG for a person."""

from __future__ import annotations

import io
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
        image.save(buf, format="PNG")
    else:
        image.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
