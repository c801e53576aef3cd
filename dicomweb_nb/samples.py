"""Generated sample data, made here with pydicom and numpy: no downloads, no real patients.

The reference tutorial's three files, synthetic studies, a multi-frame instance and compressed
variants.
"""

from __future__ import annotations

import copy as copy_module
import io
import os
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileDataset
from pydicom.uid import (
    JPEG2000Lossless,
    RLELossless,
    generate_uid,
)

from . import _tempdirs
from ._synthetic import file_dataset, synthetic_datasets

__all__ = [
    "BACKGROUND",
    "COLOURS",
    "COMPRESSED_SYNTAXES",
    "INSTANCE_UID_BLUE",
    "INSTANCE_UID_GREEN",
    "INSTANCE_UID_RED",
    "SERIES_UID_BLUE",
    "SERIES_UID_GREEN_RED",
    "STUDY_UID",
    "TUTORIAL_FILES",
    "compressed",
    "multiframe_dataset",
    "synthetic_datasets",
    "to_bytes",
    "tutorial_dataset",
    "tutorial_folder",
    "write_samples",
    "write_synthetic_archive",
    "write_tutorial_samples",
]

STUDY_UID = "1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420"
SERIES_UID_GREEN_RED = "1.2.826.0.1.3680043.8.498.45787841905473114233124723359129632652"
SERIES_UID_BLUE = "1.2.826.0.1.3680043.8.498.77033797676425927098669402985243398207"
INSTANCE_UID_GREEN = "1.2.826.0.1.3680043.8.498.12714725698140337137334606354172323212"
INSTANCE_UID_RED = "1.2.826.0.1.3680043.8.498.47359123102728459884412887463296905395"
INSTANCE_UID_BLUE = "1.2.826.0.1.3680043.8.498.13273713909719068980354078852867170114"
TUTORIAL_FILES: tuple[str, ...] = ("green-square.dcm", "red-triangle.dcm", "blue-circle.dcm")
COLOURS: dict[str, tuple[int, int, int]] = {
    "green-square.dcm": (34, 177, 76),
    "red-triangle.dcm": (237, 28, 36),
    "blue-circle.dcm": (63, 72, 204),
}
BACKGROUND = (195, 195, 195)
COMPRESSED_SYNTAXES: tuple[str, ...] = (RLELossless, JPEG2000Lossless)

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
MULTIFRAME_WORD_SC = "1.2.840.10008.5.1.4.1.1.7.3"
_ROWS, _COLUMNS = 979, 985
# name -> (series UID, series number, instance UID, instance number, comment)
_FACTS = {
    "green-square.dcm": (
        SERIES_UID_GREEN_RED,
        1,
        INSTANCE_UID_GREEN,
        2,
        "Fake DICOM - Green Square",
    ),
    "red-triangle.dcm": (SERIES_UID_GREEN_RED, 1, INSTANCE_UID_RED, 1, "Fake DICOM - Red Triangle"),
    "blue-circle.dcm": (SERIES_UID_BLUE, 2, INSTANCE_UID_BLUE, 1, "Fake DICOM - Blue Circle"),
}


def _picture(name: str) -> np.ndarray:
    image = np.empty((_ROWS, _COLUMNS, 3), np.uint8)
    image[:] = BACKGROUND
    rows, cols = np.mgrid[0:_ROWS, 0:_COLUMNS]
    cy, cx = _ROWS // 2, _COLUMNS // 2
    if name == "green-square.dcm":
        mask = (abs(rows - cy) <= 250) & (abs(cols - cx) <= 250)
    elif name == "red-triangle.dcm":
        # Apex at the top, base at the bottom: the half-width grows with the row.
        top, bottom = cy - 280, cy + 220
        half = (rows - top) * 300 / (bottom - top)
        mask = (rows >= top) & (rows <= bottom) & (abs(cols - cx) <= half)
    else:
        mask = (rows - cy) ** 2 + (cols - cx) ** 2 <= 260**2
    image[mask] = COLOURS[name]
    return image


def tutorial_dataset(name: str) -> FileDataset:
    """Build one of the reference tutorial's three sample files.

    Parameters
    ----------
    name : str
        ``"green-square.dcm"``, ``"red-triangle.dcm"`` or ``"blue-circle.dcm"``.

    Returns
    -------
    FileDataset
        A Secondary Capture image, 979×985 8-bit RGB, explicit VR little endian, with the tutorial's
        UIDs and attributes; the shape is centred on a grey (195,195,195) background.

    Raises
    ------
    ValueError
        For any other name.
    """
    if name not in _FACTS:
        raise ValueError(
            f"Unknown tutorial file {name!r}; choose one of {', '.join(TUTORIAL_FILES)}."
        )
    series_uid, series_number, sop_uid, instance_number, comment = _FACTS[name]
    ds = file_dataset(SECONDARY_CAPTURE, sop_uid)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ImageType = ["DERIVED", "SECONDARY", "OTHER"]
    ds.StudyDate = "20200922"
    ds.StudyTime = "120000"
    ds.AccessionNumber = ""
    ds.Modality = "OT"
    ds.ConversionType = "SYN"
    ds.ReferringPhysicianName = "Doctor Doc"
    ds.PatientName = "Anony Mous"
    ds.PatientID = "ID1"
    ds.PatientBirthDate = ""
    ds.PatientSex = "F"
    ds.PatientAge = "024Y"
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = "1"
    ds.SeriesNumber = series_number
    ds.InstanceNumber = instance_number
    ds.ImageComments = comment
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.Rows = _ROWS
    ds.Columns = _COLUMNS
    ds.PixelSpacing = [1, 1]
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = _picture(name).tobytes()
    return ds


def to_bytes(ds: Dataset) -> bytes:
    """Return the Part-10 bytes of a dataset (preamble, DICM prefix, file meta, data set).

    Parameters
    ----------
    ds : Dataset
        A dataset with ``file_meta``.

    Returns
    -------
    bytes
        The encoded file.
    """
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def write_tutorial_samples(folder: str | os.PathLike[str]) -> list[Path]:
    """Write the tutorial's three files into a folder (created when missing).

    Parameters
    ----------
    folder : str or PathLike
        The destination.

    Returns
    -------
    list of Path
        The files, in :data:`TUTORIAL_FILES` order; the bytes are the same on every run.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in TUTORIAL_FILES:
        path = out / name
        path.write_bytes(to_bytes(tutorial_dataset(name)))
        paths.append(path)
    return paths


def tutorial_folder() -> Path:
    """Write the tutorial's three files into a new temporary folder that goes with the process.

    The folder is removed when the interpreter exits (a notebook's kernel shuts down), or, after
    a kernel that was killed, by the next process that makes such a folder; re-running a
    tutorial therefore leaves nothing behind in the system's temporary folder.

    Returns
    -------
    Path
        The folder, holding :data:`TUTORIAL_FILES`.
    """
    folder = _tempdirs.make()
    write_tutorial_samples(folder)
    return folder


def multiframe_dataset(
    frames: int = 10, *, rows: int = 64, columns: int = 64, seed: int = 0
) -> FileDataset:
    """Build a multi-frame 16-bit grayscale instance whose frames can be told apart.

    Parameters
    ----------
    frames : int
        NumberOfFrames.
    rows, columns : int
        Frame size.
    seed : int
        Seeds the UIDs and the noise.

    Returns
    -------
    FileDataset
        A Multi-frame Grayscale Word Secondary Capture image, explicit VR little endian. In
        frame ``k`` (1-based) the top-left 4×4 block equals ``k * 100``; the rest is a gradient
        plus noise.
    """
    entropy = [f"dicomweb-nb multiframe {seed}"]
    ds = file_dataset(MULTIFRAME_WORD_SC, generate_uid(entropy_srcs=[*entropy, "sop"]))
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Frames^Multi"
    ds.PatientID = f"MF-{seed:04d}"
    ds.PatientBirthDate = "19750412"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[*entropy, "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[*entropy, "series"])
    ds.StudyDate = "20240105"
    ds.StudyTime = "093000"
    ds.StudyID = "MF1"
    ds.AccessionNumber = f"MF{seed:06d}"
    ds.StudyDescription = "Multi-frame sample"
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.NumberOfFrames = frames
    ds.FrameIncrementPointer = 0x00181063  # FrameTime
    ds.FrameTime = 100.0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    rng = np.random.default_rng(seed)
    gradient = np.add.outer(np.arange(rows), np.arange(columns)).astype(np.uint16) * 8
    stack = np.empty((frames, rows, columns), np.uint16)
    for k in range(frames):
        stack[k] = gradient + rng.integers(0, 50, (rows, columns), dtype=np.uint16)
        stack[k, :4, :4] = (k + 1) * 100
    ds.PixelData = stack.astype("<u2").tobytes()
    return ds


def compressed(ds: Dataset, transfer_syntax: str) -> FileDataset:
    """Return a compressed copy of a dataset, with a new SOPInstanceUID so both can be stored.

    Parameters
    ----------
    ds : Dataset
        An uncompressed dataset with ``file_meta``.
    transfer_syntax : str
        RLE Lossless (1.2.840.10008.1.2.5) or JPEG 2000 Lossless (1.2.840.10008.1.2.4.90).

    Returns
    -------
    FileDataset
        The copy; the new UID is derived from the original's and the syntax (deterministic).

    Raises
    ------
    ValueError
        When the syntax is not one of :data:`COMPRESSED_SYNTAXES` or the encoder fails.
    """
    if transfer_syntax not in COMPRESSED_SYNTAXES:
        raise ValueError(
            f"Cannot encode {transfer_syntax}: choose one of {', '.join(COMPRESSED_SYNTAXES)}."
        )
    sop_uid = generate_uid(entropy_srcs=[str(ds.SOPInstanceUID), transfer_syntax])
    copy = file_dataset(str(ds.SOPClassUID), sop_uid)
    # Deep-copied: compress() replaces PixelData in place, and the original must keep its pixels.
    copy.update(copy_module.deepcopy(ds))
    copy.SOPInstanceUID = sop_uid
    try:
        copy.compress(transfer_syntax, generate_instance_uid=False)
    except Exception as exc:  # the encoders raise several types; one message says which
        raise ValueError(f"Cannot encode {transfer_syntax}: {exc}") from exc
    copy.file_meta.MediaStorageSOPInstanceUID = sop_uid
    return copy


def write_synthetic_archive(
    folder: str | os.PathLike[str],
    studies: int = 2,
    series: int = 2,
    instances: int = 4,
    *,
    rows: int = 64,
    columns: int = 64,
    seed: int = 0,
) -> list[Path]:
    """Write a synthetic archive as ``folder/study-NN/series-NN/instance-NNNN.dcm``.

    Parameters
    ----------
    folder : str or PathLike
        The destination (created when missing).
    studies, series, instances : int
        How many studies, series per study and instances per series.
    rows, columns : int
        Image size.
    seed : int
        The same seed gives the same archive.

    Returns
    -------
    list of Path
        The files written, one dataset in memory at a time.
    """
    out = Path(folder)
    paths = []
    for ds in synthetic_datasets(studies, series, instances, rows=rows, columns=columns, seed=seed):
        path = (
            out
            / f"study-{int(ds.StudyID):02d}"
            / f"series-{int(ds.SeriesNumber):02d}"
            / f"instance-{int(ds.InstanceNumber):04d}.dcm"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_samples(folder: str | os.PathLike[str], *, synthetic: bool = True) -> list[Path]:
    """Write every kind of sample: what ``dicomweb-nb samples DIR`` does.

    Parameters
    ----------
    folder : str or PathLike
        The destination.
    synthetic : bool
        Also write ``synthetic/`` (2 studies × 2 series × 4 instances of 64×64 CT),
        ``multiframe.dcm`` (10 frames) and ``compressed/`` (RLE and JPEG 2000 copies).

    Returns
    -------
    list of Path
        The files written.
    """
    out = Path(folder)
    paths = write_tutorial_samples(out)
    if not synthetic:
        return paths
    paths += write_synthetic_archive(out / "synthetic")
    multi = multiframe_dataset()
    multi.save_as(out / "multiframe.dcm", enforce_file_format=True)
    paths.append(out / "multiframe.dcm")
    slice_ = next(synthetic_datasets(1, 1, 1, seed=1))
    (out / "compressed").mkdir(parents=True, exist_ok=True)
    for label, ds in (("multiframe", multi), ("ct", slice_)):
        for syntax, suffix in ((RLELossless, "rle"), (JPEG2000Lossless, "j2k")):
            path = out / "compressed" / f"{label}-{suffix}.dcm"
            compressed(ds, syntax).save_as(path, enforce_file_format=True)
            paths.append(path)
    return paths
