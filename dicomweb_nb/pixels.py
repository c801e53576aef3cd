"""Pixel values to displayable values: rescale, window, invert, colour. numpy and pydicom only.

Shared by the server's rendered images and the notebook display, so both show the same picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.pixels.decoders.base import get_decoder
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


def window_range(
    ds: Dataset, *, center: float | None = None, width: float | None = None
) -> tuple[float, float] | None:
    """Return the modality values shown as black and as white by a linear window.

    Parameters
    ----------
    ds : Dataset
        Supplies WindowCenter/WindowWidth when no window is given.
    center, width : float, optional
        A window to use instead of the data's (both needed).

    Returns
    -------
    (float, float) or None
        ``(low, high)``: values at or below ``low`` are black, at or above ``high`` white
        (PS3.3 C.11.2.1.2.1, the linear function); None when neither is given nor in the data.
    """
    if center is None or width is None:
        if ds.get("WindowCenter") is None or ds.get("WindowWidth") is None:
            return None
        center, width = first_number(ds.WindowCenter), first_number(ds.WindowWidth)
    span = max(float(width) - 1.0, 1.0)
    middle = float(center) - 0.5
    return middle - span / 2, middle + span / 2


def modality_values(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """Apply the modality LUT or rescale (e.g. stored values to Hounsfield units).

    Parameters
    ----------
    arr : numpy.ndarray
        Stored values.
    ds : Dataset
        Supplies RescaleSlope/RescaleIntercept or a Modality LUT.

    Returns
    -------
    numpy.ndarray
        Float values.
    """
    return np.asarray(apply_modality_lut(arr, ds), dtype=np.float64)


def window_gray(
    arr: np.ndarray,
    ds: Dataset,
    *,
    center: float | None = None,
    width: float | None = None,
    invert: bool = False,
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
    invert : bool
        Show the negative: ``1 -`` what would be shown otherwise (for either photometric
        interpretation; the data's own MONOCHROME1 inversion still applies first).

    Returns
    -------
    numpy.ndarray
        Float values in 0..1: modality LUT, then the given window, else the data's first window,
        else its VOI LUT, else min..max; MONOCHROME1 inverted so that 1 is always white.
    """
    values = modality_values(arr, ds)
    bounds = window_range(ds, center=center, width=width)
    if bounds is None and "VOILUTSequence" in ds:
        values = apply_voi_lut(values, ds, index=0).astype(np.float64)
    lo, hi = bounds if bounds is not None else (float(values.min()), float(values.max()))
    out = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    out = np.clip(out, 0.0, 1.0)
    if (str(ds.get("PhotometricInterpretation", "")) == "MONOCHROME1") != invert:
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


def decode_frames(
    frames: Sequence[bytes], ds: Dataset, transfer_syntax: str = "1.2.840.10008.1.2.1"
) -> list[np.ndarray]:
    """Decode frames as WADO-RS sends them (one frame's bytes each) with the instance's metadata.

    Parameters
    ----------
    frames : sequence of bytes
        The frames: native pixel bytes, or one compressed bitstream each.
    ds : Dataset
        The instance or its metadata (Rows, Columns, BitsAllocated, …).
    transfer_syntax : str
        The frames' transfer syntax.

    Returns
    -------
    list of numpy.ndarray
        One array per frame (colour as RGB).
    """
    decoder = get_decoder(transfer_syntax)
    options: dict[str, Any] = {
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "samples_per_pixel": int(ds.get("SamplesPerPixel", 1)),
        "bits_allocated": int(ds.BitsAllocated),
        "bits_stored": int(ds.get("BitsStored", ds.BitsAllocated)),
        "pixel_representation": int(ds.get("PixelRepresentation", 0)),
        "photometric_interpretation": str(ds.get("PhotometricInterpretation", "MONOCHROME2")),
        "planar_configuration": int(ds.get("PlanarConfiguration", 0)),
        "number_of_frames": 1,
        "pixel_keyword": "PixelData",
    }
    arrays = []
    for frame in frames:
        data = frame if decoder.is_native else encapsulate([frame])
        arr, _ = decoder.as_array(data, **options)
        arrays.append(arr)
    return arrays
