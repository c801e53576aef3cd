"""How many frames an instance has: one rule for the server, the client and the display."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydicom.dataset import Dataset

_NUMBER_OF_FRAMES = "00280008"


def number_of_frames(source: Dataset | Mapping[str, Any]) -> int:
    """Return NumberOfFrames, or 1 when it is absent, empty or not a positive number.

    PS3.3 C.7.6.6: an image without NumberOfFrames has one frame. Whether the instance has pixel
    data at all is a separate question for the caller.

    Parameters
    ----------
    source : Dataset or mapping
        A pydicom Dataset, or a DICOM JSON object (metadata or a QIDO result).

    Returns
    -------
    int
        At least 1.
    """
    if isinstance(source, Dataset):
        value: Any = source.get("NumberOfFrames")
    else:
        element = source.get(_NUMBER_OF_FRAMES)
        values = element.get("Value") if isinstance(element, Mapping) else None
        value = values[0] if values else None
    try:
        return max(int(str(value).strip() or 1) if value is not None else 1, 1)
    except ValueError:
        return 1
