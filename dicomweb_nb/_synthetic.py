"""Synthetic CT/MR studies with varied, fictional patients, so searches have something to find."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian, generate_uid

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"

# Fictional names: accents and one Chinese name with ideographic groups exercise PN matching.
_PATIENTS = [
    ("Doe^John", "M"),
    ("Müller^Anna", "F"),
    ("Hall^Xavier^Tá", "M"),
    ("Wang^Xiaoming=王^小明", "M"),
    ("García^Lucía", "F"),
    ("Okafor^Chidi", "M"),
    ("Marsh^Mary", "F"),
    ("Nguyen^Thi^Lan", "F"),
    ("Li^Na=李^娜", "F"),
    ("Smith^Robert^J", "M"),
    ("Kowalski^Piotr", "M"),
    ("Dubois^Élodie", "F"),
]
_STUDIES = [
    ("CT CHEST W/O CONTRAST", "CHEST", ["CT", "CT", "CT"]),
    ("CT HEAD", "HEAD", ["CT", "CT", "CT"]),
    ("CT ABDOMEN PELVIS W CONTRAST", "ABDOMEN", ["CT", "CT", "CT"]),
    ("MR KNEE LEFT", "KNEE", ["MR", "MR", "MR"]),
    ("CT/MR BRAIN", "BRAIN", ["CT", "MR", "MR"]),
]
_SERIES = {"CT": ["Axial 5mm", "Axial 1mm", "Coronal MPR"], "MR": ["T1 SAG", "T2 AX", "PD COR"]}
_MODELS = {"CT": ("ACME Medical", "Volumetric 64"), "MR": ("ACME Medical", "FieldView 3T")}
_DOCTORS = ["House^Gregory", "Quinn^Michaela", "Yang^Cristina", "Watson^John"]
_EPOCH = dt.date(2015, 1, 1)


def file_dataset(sop_class: str, sop_uid: str, syntax: str = ExplicitVRLittleEndian) -> FileDataset:
    """Return an empty Part-10 dataset with its file meta and SOP UIDs set.

    Parameters
    ----------
    sop_class, sop_uid : str
        SOPClassUID and SOPInstanceUID.
    syntax : str
        The transfer syntax (default explicit VR little endian).

    Returns
    -------
    FileDataset
        The dataset, with a zero preamble.
    """
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = UID(syntax)
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = FileDataset("", Dataset(), file_meta=meta, preamble=b"\x00" * 128)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    return ds


def _phantom(rows: int, columns: int, z: float, rng: np.random.Generator) -> np.ndarray:
    # A body-like ellipse in Hounsfield units: air -1000, soft tissue ~40, a bone ring ~700.
    y, x = np.mgrid[0:rows, 0:columns]
    ny, nx = (y - rows / 2) / (rows / 2), (x - columns / 2) / (columns / 2)
    scale = 0.85 - 0.15 * abs(z)  # the body narrows towards the ends of the series
    r = (nx / scale) ** 2 + (ny / (scale * 0.75)) ** 2
    hu = np.full((rows, columns), -1000.0)
    hu[r <= 1.0] = 40.0
    hu[(r > 0.80) & (r <= 0.92)] = 700.0
    hu += rng.normal(0, 8, (rows, columns))
    return hu


def synthetic_datasets(
    studies: int = 2,
    series: int = 2,
    instances: int = 4,
    *,
    rows: int = 64,
    columns: int = 64,
    seed: int = 0,
) -> Iterator[FileDataset]:
    """Generate a synthetic archive one instance at a time.

    Parameters
    ----------
    studies, series, instances : int
        How many studies, series per study and instances per series.
    rows, columns : int
        Image size.
    seed : int
        The same seed gives the same UIDs, attributes and pixels; study ``i`` depends only on
        ``seed`` and ``i``.

    Yields
    ------
    FileDataset
        CT slices (16-bit signed, rescale intercept -1024, so stored 0 is -1024 HU) or MR slices
        (16-bit unsigned), explicit VR little endian, with fictional patient and study attributes.
    """
    for i in range(studies):
        rng = np.random.default_rng([seed, i])
        name, sex = _PATIENTS[(i + seed) % len(_PATIENTS)]
        description, body_part, modalities = _STUDIES[(i * 7 + seed) % len(_STUDIES)]
        study_date = _EPOCH + dt.timedelta(days=int(rng.integers(0, 3650)))
        birth = dt.date(
            1940 + int(rng.integers(0, 60)),
            1 + int(rng.integers(0, 12)),
            1 + int(rng.integers(0, 28)),
        )
        entropy = [f"dicomweb-nb synthetic {seed} {i}"]
        study_uid = generate_uid(entropy_srcs=[*entropy, "study"])
        common = {
            "SpecificCharacterSet": "ISO_IR 192",
            "PatientName": name,
            "PatientID": f"PAT-{seed:02d}{i:04d}",
            "PatientBirthDate": birth.strftime("%Y%m%d"),
            "PatientSex": sex,
            "StudyInstanceUID": study_uid,
            "StudyDate": study_date.strftime("%Y%m%d"),
            "StudyTime": f"{8 + int(rng.integers(0, 10)):02d}{int(rng.integers(0, 60)):02d}00",
            "AccessionNumber": f"ACC{seed:02d}{i:06d}",
            "StudyDescription": description,
            "StudyID": str(i + 1),
            "ReferringPhysicianName": _DOCTORS[i % len(_DOCTORS)],
            "InstitutionName": "Example General Hospital",
            "BodyPartExamined": body_part,
        }
        for s in range(series):
            modality = modalities[s % len(modalities)]
            series_uid = generate_uid(entropy_srcs=[*entropy, f"series {s}"])
            manufacturer, model = _MODELS[modality]
            for k in range(instances):
                sop_uid = generate_uid(entropy_srcs=[*entropy, f"instance {s} {k}"])
                ds = file_dataset(CT_IMAGE if modality == "CT" else MR_IMAGE, sop_uid)
                for key, value in common.items():
                    setattr(ds, key, value)
                ds.Modality = modality
                ds.SeriesInstanceUID = series_uid
                ds.SeriesNumber = s + 1
                ds.SeriesDescription = _SERIES[modality][s % 3]
                ds.Manufacturer = manufacturer
                ds.ManufacturerModelName = model
                ds.PerformedProcedureStepStartDate = ds.StudyDate
                ds.InstanceNumber = k + 1
                ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
                thickness = 5.0
                z = (k - (instances - 1) / 2) / max(instances, 2)
                ds.SliceThickness = thickness
                ds.ImagePositionPatient = [-125.0, -125.0, round(k * thickness, 2)]
                ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
                ds.SliceLocation = round(k * thickness, 2)
                ds.PixelSpacing = [round(250 / rows, 4), round(250 / columns, 4)]
                ds.SamplesPerPixel = 1
                ds.PhotometricInterpretation = "MONOCHROME2"
                ds.Rows, ds.Columns = rows, columns
                ds.BitsAllocated = 16
                hu = _phantom(rows, columns, z, rng)
                if modality == "CT":
                    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 15, 1
                    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
                    ds.WindowCenter, ds.WindowWidth = 40, 400
                    pixels = np.clip(hu + 1024, -32768, 32767).astype("<i2")
                else:
                    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 0
                    ds.WindowCenter, ds.WindowWidth = 1200, 2000
                    pixels = np.clip(hu + 1000, 0, 4095).astype("<u2")
                ds.PixelData = pixels.tobytes()
                yield ds
