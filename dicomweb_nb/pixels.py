"""Pixel values to displayable values: rescale, window, invert, colour. numpy and pydicom only.

Shared by the server's rendered images and the notebook display, so both show the same picture.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_color_lut, apply_modality_lut, apply_voi_lut


def first_number(value: object) -> float:
    """Return the first of a possibly multi-valued number (e.g. several window presets).

    Parameters
    ----------
    value : object
        A number, a numeric string, or a sequence of them.

    Returns
    -------
    float
        The first value.
    """
    if isinstance(value, str) or not hasattr(value, "__getitem__"):
        return float(value)  # type: ignore[arg-type]
    return float(value[0])


def is_grayscale(ds: Dataset) -> bool:
    """Tell whether a dataset's pixels are grayscale (MONOCHROME1/2).

    Parameters
    ----------
    ds : Dataset
        The dataset (or its metadata).

    Returns
    -------
    bool
        True for MONOCHROME1 and MONOCHROME2.
    """
    return str(ds.get("PhotometricInterpretation", "MONOCHROME2")).startswith("MONOCHROME")


def window_gray(
    arr: np.ndarray,
    ds: Dataset,
    *,
    center: float | None = None,
    width: float | None = None,
) -> np.ndarray:
    """Map a grayscale frame to 0..1 for display.

    Parameters
    ----------
    arr : numpy.ndarray
        Stored pixel values of one frame.
    ds : Dataset
        Supplies RescaleSlope/Intercept (or a Modality LUT), the window or VOI LUT and the
        photometric interpretation.
    center, width : float, optional
        A window to use instead of the data's (both needed).

    Returns
    -------
    numpy.ndarray
        Float values in 0..1: modality LUT, then the given window, else the data's first window,
        else its VOI LUT, else min..max; MONOCHROME1 inverted so that 1 is always white.
    """
    values = apply_modality_lut(arr, ds).astype(np.float64)
    if center is None or width is None:
        if ds.get("WindowCenter") is not None and ds.get("WindowWidth") is not None:
            center, width = first_number(ds.WindowCenter), first_number(ds.WindowWidth)
        elif "VOILUTSequence" in ds:
            values = apply_voi_lut(values, ds, index=0).astype(np.float64)
    if center is not None and width is not None:
        width = max(float(width), 1.0)
        # PS3.3 C.11.2.1.2.1: the linear VOI function.
        out = (values - (float(center) - 0.5)) / (width - 1 if width > 1 else 1) + 0.5
    else:
        lo, hi = float(values.min()), float(values.max())
        out = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    out = np.clip(out, 0.0, 1.0)
    if str(ds.get("PhotometricInterpretation", "")) == "MONOCHROME1":
        out = 1.0 - out
    return out


def to_rgb8(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """Convert a colour frame (RGB, YBR already converted by pydicom, or palette) to 8-bit RGB.

    Parameters
    ----------
    arr : numpy.ndarray
        One decoded frame, (rows, columns, 3) or palette indices (rows, columns).
    ds : Dataset
        Supplies the photometric interpretation, BitsStored and the palette.

    Returns
    -------
    numpy.ndarray
        uint8 array of shape (rows, columns, 3).
    """
    bits = int(ds.get("BitsStored", 8))
    if str(ds.get("PhotometricInterpretation", "")) == "PALETTE COLOR":
        arr = apply_color_lut(arr, ds)
        bits = 16 if arr.dtype.itemsize > 1 else 8
    if bits > 8:
        arr = arr >> (bits - 8)
    return np.asarray(arr, dtype=np.uint8)
