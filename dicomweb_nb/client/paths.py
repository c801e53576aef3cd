"""Resource paths below a DICOMweb base URL."""

from __future__ import annotations

from .errors import InvalidInput


def resource_path(study: str, series: str | None = None, instance: str | None = None) -> str:
    """Return ``/studies/{study}[/series/{series}[/instances/{instance}]]``.

    Parameters
    ----------
    study : str
        StudyInstanceUID.
    series, instance : str, optional
        SeriesInstanceUID and SOPInstanceUID.

    Returns
    -------
    str
        The path.

    Raises
    ------
    InvalidInput
        For an empty UID, or an instance without its series.
    """
    for uid in (study, series, instance):
        if uid is not None and (not isinstance(uid, str) or not uid.strip()):
            raise InvalidInput(f"{uid!r} is not a UID.")
    path = f"/studies/{study}"
    if series is not None:
        path += f"/series/{series}"
    if instance is not None:
        if series is None:
            raise InvalidInput("An instance needs its series UID too.")
        path += f"/instances/{instance}"
    return path
