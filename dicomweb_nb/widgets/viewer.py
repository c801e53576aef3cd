"""FrameViewer: scroll through a series, step through frames, window by sliders or by dragging.

Each newly loaded series starts from its own window (the one stored in the image, else its
pixel range) and without inversion, unless *keep* is ticked. The picked image shows at once;
the rest of the series is fetched in the background (the progress bar counts it), so the
*Image* slider (or the mouse wheel over the picture) scrolls through it. With ipyevents
installed, dragging on the picture changes the window: left/right the width, up/down the centre.
"""

from __future__ import annotations

import html
import importlib
import io
import threading
from typing import Any

import ipywidgets as widgets
import numpy as np
from PIL import Image as PILImage
from pydicom.dataset import Dataset
from pydicom.pixels.utils import pixel_array

from ..client import DicomWebClient
from ..display import title_of
from ..pixels import first_number, is_grayscale, modality_values, to_rgb8, window_gray
from ..protocol.frames import number_of_frames
from .common import ClientPanel, error_text
from .preload import SeriesLoader, viewing_order

FROM_IMAGE, MANUAL = "from the image", "manual"
PRESETS: dict[str, tuple[float, float] | None] = {
    FROM_IMAGE: None,
    MANUAL: None,
    "CT soft tissue (40/400)": (40, 400),
    "CT lung (-600/1500)": (-600, 1500),
    "CT bone (400/1800)": (400, 1800),
    "CT brain (40/80)": (40, 80),
}
#: The picture is drawn at least this many pixels wide (small images are enlarged, unblurred).
MIN_SIZE = 384


def image_window(ds: Dataset, arr: np.ndarray) -> tuple[float, float]:
    """Return the window an image brings: the stored one, else its pixel range.

    Parameters
    ----------
    ds : Dataset
        The instance.
    arr : numpy.ndarray
        One frame's stored values.

    Returns
    -------
    (float, float)
        ``(centre, width)`` in modality units.
    """
    if ds.get("WindowCenter") is not None and ds.get("WindowWidth") is not None:
        return first_number(ds.WindowCenter), first_number(ds.WindowWidth)
    values = modality_values(arr, ds)
    low, high = float(values.min()), float(values.max())
    return (low + high) / 2, max(high - low, 1.0)


def _fit(slider: widgets.FloatSlider, low: float, high: float, value: float) -> None:
    # Widen to cover old and new ranges, set the value, then narrow: min <= value <= max holds
    # at every step, so the slider never clamps the value on the way.
    # One message to the browser (hold_sync): sent one by one, a new value could arrive before
    # its new range, be clamped there and come back as if the user had moved the slider.
    low, high = min(low, value), max(high, value)
    with slider.hold_sync():
        slider.min, slider.max = min(low, slider.min), max(high, slider.max)
        slider.value = value
        slider.min, slider.max = low, high


class FrameViewer(ClientPanel):
    """Show a series image by image (and each instance frame by frame) with a window."""

    def __init__(self) -> None:
        self.caption = widgets.HTML()
        self.image = widgets.Image(format="png", layout={"max_width": "600px"})
        self.position = widgets.IntSlider(description="Image", min=1, max=1, value=1)
        self.frame = widgets.IntSlider(description="Frame", min=1, max=1, value=1)
        self.progress = widgets.IntProgress(description="Loaded", min=0, max=1, value=0)
        self.preset = widgets.Dropdown(description="Window", options=list(PRESETS))
        self.center = widgets.FloatSlider(description="Centre", min=-1024, max=3071, value=40)
        self.width = widgets.FloatSlider(description="Width", min=1, max=4096, value=400)
        self.invert = widgets.Checkbox(description="invert")
        self.pin = widgets.Checkbox(
            description="keep window and invert for the next series",
            indent=False,
            layout={"width": "auto"},
        )
        super().__init__()
        self._datasets: list[Dataset | None] = []
        self._loader: SeriesLoader | None = None
        self._lock = threading.Lock()
        self._pixels: tuple[tuple[int, int], np.ndarray] | None = None
        self._updating = False
        self._drag: tuple[float, float, float, float] | None = None
        self.events = self._mouse_events()
        self.position.observe(lambda _: self._show_position(), names="value")
        self.frame.observe(lambda _: self.draw(), names="value")
        self.preset.observe(lambda _: self._apply_preset(), names="value")
        for control in (self.center, self.width):
            control.observe(lambda _: self._manual(), names="value")
        self.invert.observe(lambda _: self.draw(), names="value")
        hint = widgets.HTML(
            "<small>Drag on the picture: left/right changes the width, up/down the centre; "
            "the mouse wheel scrolls through the series.</small>"
            if self.events is not None
            else ""
        )
        self.children = [
            self.status,
            self.caption,
            self.image,
            hint,
            widgets.HBox([self.position, self.progress]),
            self.frame,
            widgets.HBox([self.preset, self.invert]),
            self.center,
            self.width,
            self.pin,
        ]
        self._show_sliders()

    def _mouse_events(self) -> Any:
        try:
            # Imported by name: an optional extra, which mypy may not find installed.
            ipyevents = importlib.import_module("ipyevents")
        except ImportError:  # dragging is an extra: the sliders do the same
            return None
        event = ipyevents.Event(
            source=self.image,
            watched_events=["mousedown", "mouseup", "mousemove", "mouseleave", "wheel"],
            prevent_default_action=True,
            wait=40,
            throttle_or_debounce="throttle",
        )
        event.on_dom_event(self.handle_event)
        return event

    # Loading ---------------------------------------------------------------------------------

    def load(
        self,
        study_instance_uid: str,
        series_instance_uid: str,
        sop_instance_uid: str | None = None,
        client: DicomWebClient | None = None,
    ) -> None:
        """Show a series, starting at one instance (default: the first).

        The instance is fetched and shown at once; the rest of the series follows in the
        background (see :attr:`progress` and :meth:`wait`).

        Parameters
        ----------
        study_instance_uid, series_instance_uid : str
            The series.
        sop_instance_uid : str, optional
            The instance to show first.
        client : DicomWebClient, optional
            Use this client instead of the shared one.
        """
        if client is not None:
            self.client = client
        if self._loader is not None:
            self._loader.cancel()
            self._loader = None

        def action(c: DicomWebClient) -> str:
            uids = viewing_order(
                c.retrieve_series_metadata(study_instance_uid, series_instance_uid)
            )
            if sop_instance_uid is not None and sop_instance_uid not in uids:
                uids.append(sop_instance_uid)  # stored since the metadata was read
            start = uids.index(sop_instance_uid) if sop_instance_uid else 0
            first = c.retrieve_instance(study_instance_uid, series_instance_uid, uids[start])
            with self._lock:
                self._datasets = [None] * len(uids)
                self._datasets[start] = first
            self._new_series(start, len(uids))
            others = sorted(
                (i for i in range(len(uids)) if i != start), key=lambda i: abs(i - start)
            )
            if others:
                self._loader = SeriesLoader(
                    c,
                    study_instance_uid,
                    series_instance_uid,
                    uids,
                    self._loaded,
                    self._failed,
                    others,
                ).start()
                return f"Image {start + 1} of {len(uids)}; loading the others in the background…"
            return self._summary()

        self._run("Loading", action)

    def wait(self, timeout: float | None = 60.0) -> bool:
        """Wait for the background loading of the series to finish.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait at most.

        Returns
        -------
        bool
            True when every image is loaded (or loading stopped).
        """
        return self._loader.wait(timeout) if self._loader is not None else True

    def _summary(self) -> str:
        ds = next(d for d in self._datasets if d is not None)
        if len(self._datasets) > 1:
            return f"All {len(self._datasets)} images of the series loaded."
        return f"Loaded 1 image with {number_of_frames(ds)} frame(s)."

    def _loaded(self, index: int, ds: Dataset) -> None:
        with self._lock:
            if index >= len(self._datasets):
                return
            self._datasets[index] = ds
            done = sum(d is not None for d in self._datasets)
        self.progress.value = done
        if done == len(self._datasets):
            self.set_status("ok", self._summary())
        else:
            self.set_status("busy", f"Loading the series: {done} of {len(self._datasets)}…")
        if index == self.position.value - 1:
            self._show_position()

    def _failed(self, exc: BaseException) -> None:
        self.set_status("error", f"Loading the series stopped: {error_text(exc)}")

    def _new_series(self, start: int, count: int) -> None:
        self._updating = True
        self._pixels = None
        self.position.max = count
        self.position.value = start + 1
        self.progress.max, self.progress.value = count, 1
        if not self.pin.value:
            # A new series starts from its own window: another image's window can show this one
            # all white or all black.
            self.invert.value = False
            self.preset.value = FROM_IMAGE
        self._updating = False
        self._show_position()

    # What is on screen -------------------------------------------------------------------------

    def current(self) -> tuple[Dataset, int]:
        """Return the dataset and the 1-based frame on screen.

        Returns
        -------
        (Dataset, int)
            The instance and frame number.

        Raises
        ------
        LookupError
            When nothing is loaded, or the image is still on its way.
        """
        ds = self._datasets[self.position.value - 1] if self._datasets else None
        if ds is None:
            raise LookupError("That image is not loaded yet.")
        return ds, self.frame.value

    def window(self) -> tuple[float, float]:
        """Return the window on screen, ``(centre, width)`` in modality units."""
        return self.center.value, self.width.value

    def _frame_pixels(self) -> np.ndarray:
        ds, frame = self.current()
        key = (id(ds), frame)
        if self._pixels is None or self._pixels[0] != key:
            self._pixels = (key, pixel_array(ds, index=frame - 1))
        return self._pixels[1]

    def _show_position(self) -> None:
        if self._updating or not self._datasets:
            return
        try:
            ds, _ = self.current()
        except LookupError:
            self.set_status("busy", f"Image {self.position.value} is still loading…")
            return
        self._updating = True
        frames = number_of_frames(ds)
        self.frame.max = frames
        self.frame.value = min(self.frame.value, frames)
        self._updating = False
        self._show_sliders()
        for control in (self.preset, self.center, self.width, self.invert):
            control.disabled = not is_grayscale(ds)  # colour is shown as stored
        if self.preset.value == FROM_IMAGE or not is_grayscale(ds):
            self._set_window(*image_window(ds, self._frame_pixels()))
        self.draw()

    def _show_sliders(self) -> None:
        many = len(self._datasets) > 1
        self.position.layout.display = None if many else "none"
        self.progress.layout.display = None if many else "none"
        self.frame.layout.display = None if self.frame.max > 1 else "none"

    def _set_window(self, center: float, width: float) -> None:
        # The sliders span the image's values, so every useful window is within reach.
        arr = self._frame_pixels() if self._datasets else np.zeros(1)
        ds = self.current()[0] if self._datasets else Dataset()
        values = modality_values(arr, ds) if is_grayscale(ds) else arr
        low, high = float(values.min()), float(values.max())
        span = max(high - low, 1.0)
        self._updating = True
        _fit(self.center, low - span / 2, high + span / 2, center)
        _fit(self.width, 1.0, 2 * span, max(width, 1.0))
        self._updating = False

    def _apply_preset(self) -> None:
        if self._updating or not self._datasets:
            return
        window = PRESETS[self.preset.value]
        if window is not None:
            self._set_window(*window)
        elif self.preset.value == FROM_IMAGE:
            self._set_window(*image_window(self.current()[0], self._frame_pixels()))
        self.draw()

    def _manual(self) -> None:
        if self._updating:
            return
        if self.preset.value != MANUAL:
            self._updating = True
            self.preset.value = MANUAL
            self._updating = False
        self.draw()

    def draw(self) -> None:
        """Render the current frame into :attr:`image` (PNG bytes) and its caption."""
        if self._updating or not self._datasets:
            return
        try:
            ds, frame = self.current()
        except LookupError:
            return
        arr = self._frame_pixels()
        text = [title_of(ds)]
        if len(self._datasets) > 1:
            text.append(f"image {self.position.value}/{len(self._datasets)}")
        if self.frame.max > 1:
            text.append(f"frame {frame}/{self.frame.max}")
        if is_grayscale(ds):
            center, width = self.window()
            gray = window_gray(arr, ds, center=center, width=width, invert=self.invert.value)
            pixels = np.rint(gray * 255).astype(np.uint8)
            text.append(f"window {center:g}/{width:g}")
        else:
            pixels = to_rgb8(arr, ds)
        picture = PILImage.fromarray(pixels)
        scale = max(1, -(-MIN_SIZE // max(picture.size)))
        if scale > 1:
            picture = picture.resize(
                (picture.width * scale, picture.height * scale), PILImage.Resampling.NEAREST
            )
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        self.image.value = buffer.getvalue()
        self.caption.value = f"<b>{html.escape(' · '.join(text))}</b>"

    # The mouse -----------------------------------------------------------------------------------

    def handle_event(self, event: dict[str, Any]) -> None:
        """React to a mouse event on the picture (from ipyevents).

        Dragging with the left button changes the window (left/right: width, up/down: centre,
        the picture's width covering the image's value range); the wheel moves through the
        series, or the frames of a one-instance series.

        Parameters
        ----------
        event : dict
            The ipyevents event: ``type``, ``relativeX``/``relativeY``, ``buttons``,
            ``boundingRectWidth``/``boundingRectHeight``, ``deltaY``.
        """
        if not self._datasets:
            return
        kind = event.get("type")
        if kind == "wheel":
            slider = self.position if len(self._datasets) > 1 else self.frame
            step = 1 if float(event.get("deltaY", 0)) > 0 else -1
            slider.value = min(max(slider.value + step, slider.min), slider.max)
            return
        if kind in ("mouseup", "mouseleave") or not int(event.get("buttons", 0)) & 1:
            self._drag = None
            return
        x, y = float(event.get("relativeX", 0)), float(event.get("relativeY", 0))
        if self._drag is None or kind == "mousedown":
            self._drag = (x, y, *self.window())
            return
        x0, y0, center0, width0 = self._drag
        span = self.width.max / 2
        size = float(event.get("boundingRectWidth") or MIN_SIZE)
        self._updating = True
        self.preset.value = MANUAL
        self._updating = False
        self._set_window(
            center0 + (y - y0) / size * span, max(1.0, width0 + (x - x0) / size * span)
        )
        self.draw()
