"""FrameViewer: one instance's frames, or a series' instances, with window sliders and presets."""

from __future__ import annotations

import io
from typing import Any

import ipywidgets as widgets
from pydicom.dataset import Dataset

from ..client import DicomWebClient
from ..display import show
from ..pixels import first_number, is_grayscale
from ..protocol.frames import number_of_frames
from .common import ClientPanel

PRESETS: dict[str, tuple[float, float] | None] = {
    "from the data": None,
    "soft tissue (40/400)": (40, 400),
    "lung (-600/1500)": (-600, 1500),
    "bone (400/1800)": (400, 1800),
    "brain (40/80)": (40, 80),
}


class FrameViewer(ClientPanel):
    """Show frames with a frame/instance slider, window centre/width sliders, presets, invert."""

    def __init__(self) -> None:
        self.frame = widgets.IntSlider(
            description="Frame", min=1, max=1, value=1, continuous_update=False
        )
        self.center = widgets.FloatSlider(
            description="Centre", min=-1024, max=3000, value=40, continuous_update=False
        )
        self.width = widgets.FloatSlider(
            description="Width", min=1, max=4000, value=400, continuous_update=False
        )
        self.preset = widgets.Dropdown(description="Preset", options=list(PRESETS))
        self.invert = widgets.Checkbox(description="invert")
        self.image = widgets.Image(format="png", layout={"max_width": "600px"})
        super().__init__()
        self._datasets: list[Dataset] = []
        self._updating = False
        self.preset.observe(lambda _: self._apply_preset(), names="value")
        for control in (self.frame, self.center, self.width, self.invert):
            control.observe(lambda _: self.draw(), names="value")
        self.children = [
            self.status,
            self.image,
            self.frame,
            widgets.HBox([self.preset, self.invert]),
            self.center,
            self.width,
        ]

    def load(
        self,
        study_instance_uid: str,
        series_instance_uid: str,
        sop_instance_uid: str | None = None,
        client: DicomWebClient | None = None,
    ) -> None:
        """Load one instance (the slider walks its frames) or a series (the slider walks instances).

        Parameters
        ----------
        study_instance_uid, series_instance_uid : str
            The series.
        sop_instance_uid : str, optional
            One instance of it.
        client : DicomWebClient, optional
            Use this client instead of the shared one.
        """
        if client is not None:
            self.client = client

        def action(c: DicomWebClient) -> str:
            if sop_instance_uid:
                self._datasets = [
                    c.retrieve_instance(study_instance_uid, series_instance_uid, sop_instance_uid)
                ]
            else:
                self._datasets = sorted(
                    c.retrieve_series(study_instance_uid, series_instance_uid),
                    key=lambda d: int(d.get("InstanceNumber", 0) or 0),
                )
            self._setup()
            return f"Loaded {self._count()} {'frame' if self._multiframe() else 'image'}(s)."

        self._run("Loading", action)

    def _multiframe(self) -> bool:
        return len(self._datasets) == 1

    def _count(self) -> int:
        if self._multiframe():
            return number_of_frames(self._datasets[0])
        return len(self._datasets)

    def _setup(self) -> None:
        self._updating = True
        self.frame.max = max(self._count(), 1)
        self.frame.value = 1
        self.frame.description = "Frame" if self._multiframe() else "Instance"
        first = self._datasets[0]
        if first.get("WindowCenter") is not None and first.get("WindowWidth") is not None:
            self.width.value = first_number(first.WindowWidth)
            self.center.value = first_number(first.WindowCenter)
        self.preset.value = "from the data"
        self._updating = False
        self.draw()

    def _apply_preset(self) -> None:
        window = PRESETS[self.preset.value]
        if window is not None:
            self._updating = True
            self.center.value, self.width.value = window
            self._updating = False
        self.draw()

    def current(self) -> tuple[Dataset, int]:
        """Return the dataset and the 1-based frame on screen.

        Returns
        -------
        (Dataset, int)
            The instance and frame number.
        """
        if self._multiframe():
            return self._datasets[0], self.frame.value
        return self._datasets[self.frame.value - 1], 1

    def draw(self) -> None:
        """Render the current frame into :attr:`image` (PNG bytes)."""
        if self._updating or not self._datasets:
            return
        ds, frame = self.current()
        options: dict[str, Any] = {"frame": frame, "width": 5.0}
        if is_grayscale(ds):
            options["window"] = (self.center.value, self.width.value)
            options["invert"] = self.invert.value
        fig = show(ds, **options)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        self.image.value = buffer.getvalue()
