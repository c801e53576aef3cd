"""Anatomy-like 3-D phantoms for the synthetic studies: tissue labels, then values per modality.

Each body region is a set of ellipses whose size and position change along the series (``z``
from -1 at the first slice to 1 at the last), so scrolling through a series shows organs come
and go, and windows teach something: a lung window shows the lungs, a bone window the spine.
CT values are Hounsfield units; MR values are arbitrary signal units per weighting (T1: fat
bright, fluid dark; T2: fluid bright). Nothing here resembles any real person.
"""

from __future__ import annotations

import numpy as np

# Tissue labels, painted in order: later ellipses cover earlier ones.
AIR, FAT, MUSCLE, LUNG, BONE, MARROW, LIVER, SPLEEN, KIDNEY, BLOOD, WM, GM, CSF, GAS, EYE = range(
    15
)

#: Hounsfield units per tissue (contrast-enhanced blood and kidneys stay at unenhanced values).
CT_HU = np.array(
    [-1000, -100, 45, -850, 900, 250, 60, 50, 35, 45, 28, 40, 5, -950, 10], dtype=np.float64
)
#: Portal-venous contrast: blood, kidneys, liver and spleen brighter.
CT_HU_CONTRAST = CT_HU.copy()
CT_HU_CONTRAST[[BLOOD, KIDNEY, LIVER, SPLEEN]] = [180, 170, 105, 115]
#: CT noise (HU, one standard deviation): head protocols use a higher dose than body ones.
CT_NOISE = {"head": 3.0}
#: MR signal per tissue and weighting, on a 12-bit scale.
MR_SIGNAL = {
    "T1": np.array([0, 1800, 600, 40, 80, 1600, 800, 600, 700, 300, 1100, 800, 250, 0, 300.0]),
    "T2": np.array([0, 1400, 350, 40, 60, 1300, 400, 900, 1100, 150, 600, 800, 2000, 0, 1900.0]),
    "PD": np.array([0, 1600, 800, 60, 90, 1500, 900, 1000, 1000, 400, 1000, 1200, 1500, 0, 1400.0]),
}

#: Body part examined -> phantom region.
REGIONS = {"CHEST": "chest", "ABDOMEN": "abdomen", "HEAD": "head", "BRAIN": "head", "KNEE": "knee"}


def _grid(rows: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
    # Coordinates in -1..1, x to the image's right (the patient's left), y down (posterior).
    y = (np.arange(rows, dtype=np.float32) + 0.5) / rows * 2 - 1
    x = (np.arange(columns, dtype=np.float32) + 0.5) / columns * 2 - 1
    return y[:, None], x[None, :]


class _Painter:
    def __init__(self, rows: int, columns: int) -> None:
        self.y, self.x = _grid(rows, columns)
        self.labels = np.full((rows, columns), AIR, dtype=np.uint8)

    def ellipse(self, label: int, cx: float, cy: float, rx: float, ry: float) -> None:
        if rx <= 0 or ry <= 0:
            return
        inside = ((self.x - cx) / rx) ** 2 + ((self.y - cy) / ry) ** 2 <= 1.0
        self.labels[inside] = label

    def ring(self, label: int, cx: float, cy: float, rx: float, ry: float, t: float) -> None:
        # An elliptical shell of thickness t: the outer ellipse minus the inner one.
        outer = ((self.x - cx) / rx) ** 2 + ((self.y - cy) / ry) ** 2 <= 1.0
        inner = ((self.x - cx) / (rx - t)) ** 2 + ((self.y - cy) / (ry - t)) ** 2 <= 1.0
        self.labels[outer & ~inner] = label


def _bump(z: float, centre: float, half: float) -> float:
    # 1 at the centre, falling to 0 at centre ± half: how big an organ is on this slice.
    return float(max(0.0, 1.0 - ((z - centre) / half) ** 2) ** 0.5)


def _torso(p: _Painter, z: float, chest: bool) -> None:
    p.ellipse(FAT, 0, 0.05, 0.86, 0.62)
    p.ellipse(MUSCLE, 0, 0.05, 0.80, 0.56)
    if chest:
        # Lungs shrink towards the diaphragm (z = 1); the heart sits low between them.
        size = _bump(z, -0.4, 1.5)
        for side in (-1, 1):
            p.ellipse(LUNG, side * 0.36, -0.02, 0.30 * size, 0.42 * size)
        heart = _bump(z, 0.35, 0.6)
        p.ellipse(MUSCLE, 0.08, -0.12, 0.28 * heart, 0.24 * heart)
        p.ellipse(BLOOD, 0.10, -0.14, 0.12 * heart, 0.10 * heart)
        p.ellipse(LIVER, -0.30, 0.08, 0.40 * _bump(z, 1.1, 0.5), 0.35 * _bump(z, 1.1, 0.5))
        p.ellipse(BONE, 0, -0.50, 0.07, 0.05)  # sternum
        for k in range(6):  # ribs, round the chest wall
            angle = np.pi * (0.15 + 0.14 * k)
            for side in (-1, 1):
                p.ellipse(
                    BONE, side * 0.74 * np.cos(angle), 0.05 - 0.52 * np.sin(angle), 0.035, 0.035
                )
    else:
        # Fat inside the abdominal wall sets the organs apart, as on a real scan. The liver
        # fills the upper abdomen on the patient's right (the image's left); the kidneys,
        # psoas muscles and bowel loops with gas appear lower down.
        p.ellipse(FAT, 0, 0.05, 0.72, 0.48)
        for side in (-1, 1):
            p.ellipse(MUSCLE, side * 0.16, 0.32, 0.08 * _bump(z, 0.6, 1.0), 0.08)
        bowel = _bump(z, 0.5, 0.7)
        for cx, cy in ((0.15, -0.25), (0.38, -0.05), (-0.08, -0.32), (-0.35, -0.12)):
            p.ellipse(MUSCLE, cx, cy, 0.13 * bowel, 0.10 * bowel)
        liver = _bump(z, -0.6, 1.2)
        p.ellipse(LIVER, -0.32, -0.05, 0.42 * liver, 0.38 * liver)
        spleen = _bump(z, -0.6, 0.6)
        p.ellipse(SPLEEN, 0.50, 0.12, 0.16 * spleen, 0.22 * spleen)
        kidney = _bump(z, 0.1, 0.6)
        for side in (-1, 1):
            p.ellipse(KIDNEY, side * 0.36, 0.25, 0.11 * kidney, 0.16 * kidney)
        gas = _bump(z, 0.6, 0.5)
        for cx, cy in ((0.15, -0.25), (0.38, -0.05), (-0.08, -0.32)):
            p.ellipse(GAS, cx, cy, 0.06 * gas, 0.04 * gas)
    p.ellipse(BLOOD, 0.05, 0.20, 0.05, 0.05)  # aorta
    # The spine: a vertebral body (marrow in a cortical shell) and its spinous process.
    p.ellipse(BONE, 0, 0.40, 0.12, 0.10)
    p.ellipse(MARROW, 0, 0.40, 0.09, 0.075)
    p.ellipse(BONE, 0, 0.55, 0.03, 0.08)


def _head(p: _Painter, z: float) -> None:
    size = _bump(z, -0.1, 1.4)
    p.ellipse(MUSCLE, 0, 0, 0.78 * size, 0.92 * size)  # scalp
    p.ellipse(BONE, 0, 0, 0.72 * size, 0.86 * size)  # skull
    p.ellipse(GM, 0, 0, 0.66 * size, 0.80 * size)
    p.ellipse(WM, 0, 0, 0.52 * size, 0.66 * size)
    ventricles = _bump(z, 0.0, 0.45)
    for side in (-1, 1):
        p.ellipse(CSF, side * 0.10, -0.05, 0.06 * ventricles, 0.28 * ventricles)
    orbit = _bump(z, 0.85, 0.3)
    for side in (-1, 1):
        p.ellipse(FAT, side * 0.30, -0.70, 0.16 * orbit, 0.14 * orbit)
        p.ellipse(EYE, side * 0.30, -0.72, 0.11 * orbit, 0.10 * orbit)
    p.ellipse(GAS, 0, -0.55, 0.12 * _bump(z, 1.0, 0.3), 0.10 * _bump(z, 1.0, 0.3))  # sinus


def _knee(p: _Painter, z: float) -> None:
    p.ellipse(FAT, 0, 0, 0.70, 0.66)
    p.ellipse(MUSCLE, 0, 0.05, 0.62, 0.56)
    femur = _bump(z, -0.6, 1.0)  # the femoral condyles above the joint line, the tibia below
    for side in (-1, 1):
        p.ellipse(BONE, side * 0.20, 0.05, 0.22 * femur, 0.25 * femur)
        p.ellipse(MARROW, side * 0.20, 0.05, 0.18 * femur, 0.21 * femur)
    tibia = _bump(z, 0.7, 0.8)
    p.ellipse(BONE, 0, 0.05, 0.42 * tibia, 0.30 * tibia)
    p.ellipse(MARROW, 0, 0.05, 0.37 * tibia, 0.25 * tibia)
    p.ellipse(CSF, 0, -0.30, 0.30 * _bump(z, 0.0, 0.25), 0.04)  # joint fluid
    patella = _bump(z, -0.5, 0.4)
    p.ellipse(BONE, 0, -0.48, 0.20 * patella, 0.08 * patella)
    p.ellipse(MARROW, 0, -0.48, 0.16 * patella, 0.05 * patella)


def labels(region: str, rows: int, columns: int, z: float) -> np.ndarray:
    """Return the tissue label of every pixel of one axial slice.

    Parameters
    ----------
    region : {"chest", "abdomen", "head", "knee"}
        The body region.
    rows, columns : int
        The slice size.
    z : float
        Where the slice is, from -1 (first slice: head end) to 1 (last: feet end).

    Returns
    -------
    numpy.ndarray
        uint8 labels (``AIR``, ``FAT``, … from this module).
    """
    painter = _Painter(rows, columns)
    if region == "head":
        _head(painter, z)
    elif region == "knee":
        _knee(painter, z)
    else:
        _torso(painter, z, chest=region == "chest")
    return painter.labels


def ct_slice(
    region: str,
    rows: int,
    columns: int,
    z: float,
    rng: np.random.Generator,
    *,
    contrast: bool = False,
) -> np.ndarray:
    """Return one CT slice in Hounsfield units, with scanner-like noise.

    Parameters
    ----------
    region : str
        See :func:`labels`.
    rows, columns : int
        The slice size.
    z : float
        Position in the series, -1..1.
    rng : numpy.random.Generator
        The noise source.
    contrast : bool
        Intravenous contrast: vessels, kidneys, liver and spleen enhance.

    Returns
    -------
    numpy.ndarray
        float64 HU values.
    """
    table = CT_HU_CONTRAST if contrast else CT_HU
    hu = table[labels(region, rows, columns, z)]
    noisy: np.ndarray = hu + rng.normal(0.0, CT_NOISE.get(region, 10.0), hu.shape)
    return noisy


def mr_slice(
    region: str, weighting: str, rows: int, columns: int, z: float, rng: np.random.Generator
) -> np.ndarray:
    """Return one MR slice (signal units, 0..4095), with magnitude noise.

    Parameters
    ----------
    region : str
        See :func:`labels`.
    weighting : {"T1", "T2", "PD"}
        Which tissues are bright.
    rows, columns : int
        The slice size.
    z : float
        Position in the series, -1..1.
    rng : numpy.random.Generator
        The noise source.

    Returns
    -------
    numpy.ndarray
        float64 signal values.
    """
    signal = MR_SIGNAL[weighting][labels(region, rows, columns, z)]
    noisy: np.ndarray = np.clip(np.abs(signal + rng.normal(0.0, 25.0, signal.shape)), 0, 4095)
    return noisy
