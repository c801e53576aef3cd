"""Synthetic CT/MR studies with varied, fictional patients, so searches have something to find.

The pixels come from :mod:`._phantom`: a CT series is an anatomy-like phantom in Hounsfield units
(chest, abdomen or head, by the study's body part), an MR series the same anatomy as T1, T2 or
PD signal, so windows and scrolling through a series show what they would on real images.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian, generate_uid

from . import _phantom

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
# Every series is axial (that is what the phantom draws), so the descriptions say so.
_SERIES = {"CT": ["Axial 5mm", "Axial 2.5mm", "Axial 1.25mm"], "MR": ["T1 AX", "T2 AX", "PD AX"]}
_THICKNESS = {"CT": [5.0, 2.5, 1.25], "MR": [4.0, 4.0, 4.0]}
# A window per region, as a scanner's protocol would store it (head CT: the brain window).
_CT_WINDOWS = {"head": (40, 80)}
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
        Axial CT slices (16-bit signed, rescale intercept -1024, so stored 0 is -1024 HU) of a
        chest, abdomen or head phantom by the study's body part, with the protocol's window
        (soft tissue 40/400, brain 40/80); or MR slices (12-bit unsigned, T1/T2/PD by the
        series) with a window fitted to each image. Explicit VR little endian, fictional
        patient and study attributes. The first slice is at the head end of the phantom and
        the last at the feet end, whatever ``instances`` is.
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
            region = _phantom.REGIONS.get(body_part, "abdomen")
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
                thickness = _THICKNESS[modality][s % 3]
                # z runs from -1 (the first slice, at the head end) to 1 (the last): the phantom
                # is the same body whatever the slice count, so every series scrolls through it.
                z = -1.0 + 2.0 * k / (instances - 1) if instances > 1 else 0.0
                location = round(-k * thickness, 2)  # patient +Z points to the head
                ds.SliceThickness = thickness
                ds.ImagePositionPatient = [-125.0, -125.0, location]
                ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
                ds.SliceLocation = location
                ds.PixelSpacing = [round(250 / rows, 4), round(250 / columns, 4)]
                ds.SamplesPerPixel = 1
                ds.PhotometricInterpretation = "MONOCHROME2"
                ds.Rows, ds.Columns = rows, columns
                ds.BitsAllocated = 16
                if modality == "CT":
                    hu = _phantom.ct_slice(
                        region, rows, columns, z, rng, contrast="W CONTRAST" in description
                    )
                    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 15, 1
                    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
                    ds.WindowCenter, ds.WindowWidth = _CT_WINDOWS.get(region, (40, 400))
                    ds.WindowCenterWidthExplanation = "BRAIN" if region == "head" else "SOFT TISSUE"
                    pixels = np.clip(np.rint(hu) + 1024, -32768, 32767).astype("<i2")
                else:
                    weighting = ds.SeriesDescription.split()[0]
                    signal = _phantom.mr_slice(region, weighting, rows, columns, z, rng)
                    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 0
                    ds.ScanningSequence, ds.SequenceVariant = "SE", "NONE"
                    # MR has no fixed scale: the scanner stores a window fitted to each image.
                    low, high = np.percentile(signal, [1, 99.5])
                    ds.WindowCenter = round(float(low + high) / 2)
                    ds.WindowWidth = max(round(float(high - low)), 1)
                    pixels = np.rint(signal).astype("<u2")
                ds.PixelData = pixels.tobytes()
                yield ds
