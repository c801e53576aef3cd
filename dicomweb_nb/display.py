"""Pixels to matplotlib Figures: windowed grayscale, colour, multi-frame, series thumbnails.

Pure functions that return :class:`matplotlib.figure.Figure` objects made without pyplot, so
nothing global changes and each call stands alone.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pydicom
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from pydicom.dataset import Dataset
from pydicom.pixels.utils import pixel_array

from ._fonts import text_families
from .pixels import (
    decode_frames,
    is_grayscale,
    modality_values,
    to_rgb8,
    window_gray,
    window_range,
)
from .protocol.dicomjson import to_dataset
from .protocol.frames import number_of_frames

WIDTH_INCHES = 6.0
MAX_MONTAGE = 36
Window = tuple[float, float]


def _dataset(source: Dataset | str | os.PathLike[str] | bytes) -> Dataset:
    if isinstance(source, Dataset):
        return source
    if isinstance(source, bytes):
        import io

        return pydicom.dcmread(io.BytesIO(source))
    return pydicom.dcmread(source)


def title_of(ds: Dataset | Mapping[str, Any]) -> str:
    """Build a short title from the metadata: patient, modality, series, instance number.

    Parameters
    ----------
    ds : Dataset or mapping
        The dataset (or a DICOM JSON object).

    Returns
    -------
    str
        E.g. ``"Anony Mous · OT · #1"``; a name with an ideographic group shows both,
        ``"Wang, Xiaoming 王小明 · CT · Axial 5mm · #1"``.
    """
    if not isinstance(ds, Dataset):
        ds = to_dataset(ds)
    groups = str(ds.get("PatientName", "") or "").split("=")
    family, _, rest = groups[0].partition("^")
    rest = " ".join(p for p in rest.split("^") if p)
    name = f"{family}, {rest}" if family and rest else family or rest
    # The ideographic group (PS3.5 6.2.1.2) is how a Chinese or Japanese reader knows the name.
    ideographic = "".join(groups[1].split("^")) if len(groups) > 1 else ""
    if ideographic:
        name = f"{name} {ideographic}".strip()
    parts = [
        name,
        str(ds.get("Modality", "") or ""),
        str(ds.get("SeriesDescription", "") or ""),
    ]
    number = ds.get("InstanceNumber")
    if number not in (None, ""):
        parts.append(f"#{number}")
    return " · ".join(p for p in parts if p)


def _draw(
    ax: Axes,
    arr: np.ndarray,
    ds: Dataset,
    window: Window | None,
    colorbar: bool,
    fig: Figure,
    invert: bool = False,
) -> None:
    ax.set_axis_off()
    if not is_grayscale(ds):
        ax.imshow(to_rgb8(arr, ds), interpolation="nearest")
        return
    center, width = window if window is not None else (None, None)
    bounds = window_range(ds, center=center, width=width)
    # MONOCHROME1 is shown inverted already; asking to invert it shows it the other way round.
    inverted = (str(ds.get("PhotometricInterpretation", "")) == "MONOCHROME1") != invert
    if bounds is None and "VOILUTSequence" in ds:
        # A non-linear VOI LUT: show its 0..1 output.
        image = ax.imshow(
            window_gray(arr, ds, invert=invert),
            cmap="gray",
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
    else:
        values = modality_values(arr, ds)
        lo, hi = bounds if bounds is not None else (float(values.min()), float(values.max()))
        image = ax.imshow(
            values,
            cmap="gray_r" if inverted else "gray",
            vmin=lo,
            vmax=hi if hi > lo else lo + 1,
            interpolation="nearest",
        )
    if colorbar:
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)


class DicomFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG in Jupyter.

    The figure carries its own ``_repr_png_``, so it displays without pyplot and without
    registering anything in IPython: importing this module changes no global state.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def _figure(rows: int, columns: int, aspect: float, width: float = WIDTH_INCHES) -> Figure:
    height = max(width * aspect * rows / columns, 1.5)
    return DicomFigure(figsize=(width, round(height, 2)), layout="constrained")


def show(
    source: Dataset | str | os.PathLike[str] | bytes,
    *,
    frame: int | None = None,
    montage: bool = False,
    window: Window | None = None,
    colorbar: bool = False,
    title: str | None = None,
    width: float = WIDTH_INCHES,
    invert: bool = False,
) -> Figure:
    """Show an instance: one frame, or a montage of a multi-frame instance.

    Parameters
    ----------
    source : Dataset, path or bytes
        The instance (compressed data is decoded with pylibjpeg).
    frame : int, optional
        The 1-based frame to show (default 1).
    montage : bool
        Show every frame (up to 36) in a grid instead.
    window : (center, width), optional
        A window in modality units (e.g. HU) instead of the data's; ignored for colour.
    colorbar : bool
        Add a colour bar in modality units (grayscale only).
    title : str, optional
        The title; default from the metadata.
    width : float
        Figure width in inches.
    invert : bool
        Show grayscale as its negative (a MONOCHROME1 image then shows its stored sense);
        ignored for colour. The dataset is not changed.

    Returns
    -------
    matplotlib.figure.Figure
        The figure: rescale, window (given, the data's, its VOI LUT, else min..max),
        MONOCHROME1 inverted, colour as RGB (YBR converted, palettes applied).
    """
    ds = _dataset(source)
    if "PixelData" not in ds:
        raise ValueError(f"Instance {ds.get('SOPInstanceUID', '?')} has no pixel data to show.")
    count = number_of_frames(ds)
    numbers = list(range(1, min(count, MAX_MONTAGE) + 1)) if montage else [frame or 1]
    for n in numbers:
        if not 1 <= n <= count:
            raise ValueError(f"Frame {n} does not exist: the instance has {count} frame(s).")
    aspect = int(ds.Rows) / int(ds.Columns)
    columns = math.ceil(math.sqrt(len(numbers)))
    rows = math.ceil(len(numbers) / columns)
    fig = _figure(rows, columns, aspect, width)
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax, n in zip(axes, numbers, strict=False):
        one = colorbar and len(numbers) == 1
        _draw(ax, pixel_array(ds, index=n - 1), ds, window, one, fig, invert)
        if len(numbers) > 1:
            ax.set_title(f"frame {n}", fontsize=8, fontfamily=text_families())
    for ax in axes[len(numbers) :]:
        ax.set_axis_off()
    text = title if title is not None else title_of(ds)
    if count > 1 and not montage:
        text = f"{text} · frame {numbers[0]}/{count}"
    fig.suptitle(text, fontsize=10, fontfamily=text_families())
    return fig


def _order_key(ds: Dataset) -> tuple[float, float]:
    number = ds.get("InstanceNumber")
    position = ds.get("ImagePositionPatient")
    z = float(position[2]) if position is not None and len(position) == 3 else 0.0
    return (float(number) if number not in (None, "") else math.inf, z)


def show_series(
    datasets: Iterable[Dataset],
    *,
    columns: int = 4,
    window: Window | None = None,
    width: float = WIDTH_INCHES * 1.5,
) -> Figure:
    """Show a series as thumbnails in InstanceNumber (then slice position) order.

    Parameters
    ----------
    datasets : iterable of Dataset
        The instances (their first frame is shown).
    columns : int
        Thumbnails per row.
    window : (center, width), optional
        One window for all grayscale thumbnails.
    width : float
        Figure width in inches.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, each thumbnail captioned with its instance number.
    """
    ordered = sorted((d for d in datasets if "PixelData" in d), key=_order_key)
    if not ordered:
        raise ValueError("No instance with pixel data to show.")
    columns = max(1, min(columns, len(ordered)))
    rows = math.ceil(len(ordered) / columns)
    aspect = int(ordered[0].Rows) / int(ordered[0].Columns)
    fig = _figure(rows, columns, aspect, width)
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax, ds in zip(axes, ordered, strict=False):
        _draw(ax, pixel_array(ds, index=0), ds, window, False, fig)
        ax.set_title(f"#{ds.get('InstanceNumber', '?')}", fontsize=8, fontfamily=text_families())
    for ax in axes[len(ordered) :]:
        ax.set_axis_off()
    first = ordered[0]
    fig.suptitle(
        f"{title_of(first).rsplit(' · #', 1)[0]} · {len(ordered)} images",
        fontsize=10,
        fontfamily=text_families(),
    )
    return fig


def show_frames(
    frames: Sequence[bytes],
    metadata: Dataset | Mapping[str, Any],
    *,
    transfer_syntax: str = "1.2.840.10008.1.2.1",
    window: Window | None = None,
    colorbar: bool = False,
    width: float = WIDTH_INCHES,
) -> Figure:
    """Show raw frames from WADO-RS, decoded with the instance metadata.

    Parameters
    ----------
    frames : sequence of bytes
        The frames.
    metadata : Dataset or mapping
        The instance's metadata (``retrieve_instance_metadata``).
    transfer_syntax : str
        The frames' transfer syntax.
    window : (center, width), optional
        A window instead of the data's.
    colorbar : bool
        Add a colour bar (one frame, grayscale).
    width : float
        Figure width in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per frame.
    """
    ds = metadata if isinstance(metadata, Dataset) else to_dataset(metadata)
    arrays = decode_frames(frames, ds, transfer_syntax)
    columns = math.ceil(math.sqrt(len(arrays)))
    rows = math.ceil(len(arrays) / columns)
    fig = _figure(rows, columns, int(ds.Rows) / int(ds.Columns), width)
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax, arr in zip(axes, arrays, strict=False):
        _draw(ax, arr, ds, window, colorbar and len(arrays) == 1, fig)
    for ax in axes[len(arrays) :]:
        ax.set_axis_off()
    fig.suptitle(title_of(ds), fontsize=10, fontfamily=text_families())
    return fig
