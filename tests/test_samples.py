"""The generated sample data: the tutorial's facts, determinism, synthetic archives, variants."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pydicom
import pytest

from dicomweb_nb import samples

EXPECTED = {
    "green-square.dcm": (samples.SERIES_UID_GREEN_RED, 1, samples.INSTANCE_UID_GREEN, 2),
    "red-triangle.dcm": (samples.SERIES_UID_GREEN_RED, 1, samples.INSTANCE_UID_RED, 1),
    "blue-circle.dcm": (samples.SERIES_UID_BLUE, 2, samples.INSTANCE_UID_BLUE, 1),
}


def test_tutorial_files_match_the_reference(tmp_path: Path) -> None:
    paths = samples.write_tutorial_samples(tmp_path)
    assert [p.name for p in paths] == list(samples.TUTORIAL_FILES)
    for path in paths:
        ds = pydicom.dcmread(path)
        series, series_number, sop, instance_number = EXPECTED[path.name]
        assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
        assert (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID) == (
            samples.STUDY_UID,
            series,
            sop,
        )
        assert (ds.SeriesNumber, ds.InstanceNumber) == (series_number, instance_number)
        assert (ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.BitsAllocated) == (979, 985, 3, 8)
        assert ds.PhotometricInterpretation == "RGB" and ds.PlanarConfiguration == 0
        assert str(ds.PatientName) == "Anony Mous" and ds.PatientID == "ID1"
        assert (ds.PatientSex, ds.PatientAge, ds.Modality) == ("F", "024Y", "OT")
        assert "PatientBirthDate" in ds and ds.PatientBirthDate == ""
        assert "AccessionNumber" in ds and ds.AccessionNumber == ""
        assert ds.ReferringPhysicianName == "Doctor Doc"
        assert (ds.StudyDate, ds.StudyTime, ds.StudyID, ds.ConversionType) == (
            "20200922",
            "120000",
            "1",
            "SYN",
        )
        assert list(ds.ImageType) == ["DERIVED", "SECONDARY", "OTHER"]
        assert ds.SpecificCharacterSet == "ISO_IR 192"
        assert "StudyDescription" not in ds and "SeriesDescription" not in ds
        assert ds.ImageComments.startswith("Fake DICOM - ")
        pixels = ds.pixel_array
        assert tuple(pixels[489, 492]) == samples.COLOURS[path.name]
        assert tuple(pixels[5, 5]) == samples.BACKGROUND
    # The same bytes on every run.
    again = samples.write_tutorial_samples(tmp_path / "again")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_unknown_tutorial_name() -> None:
    with pytest.raises(ValueError, match=re.escape("green-square.dcm")):
        samples.tutorial_dataset("purple-hexagon.dcm")


def test_synthetic_archive() -> None:
    datasets = list(samples.synthetic_datasets(3, 2, 4, rows=32, columns=32, seed=7))
    assert len(datasets) == 24
    assert len({ds.SOPInstanceUID for ds in datasets}) == 24
    assert len({ds.SeriesInstanceUID for ds in datasets}) == 6
    assert len({ds.StudyInstanceUID for ds in datasets}) == 3
    studies = {ds.StudyInstanceUID: ds for ds in datasets}.values()
    assert len({str(ds.PatientName) for ds in studies}) == 3
    assert len({ds.StudyDate for ds in studies}) == 3
    again = list(samples.synthetic_datasets(3, 2, 4, rows=32, columns=32, seed=7))
    assert [ds.SOPInstanceUID for ds in again] == [ds.SOPInstanceUID for ds in datasets]
    other = next(samples.synthetic_datasets(1, 1, 1, seed=8))
    assert other.SOPInstanceUID not in {ds.SOPInstanceUID for ds in datasets}
    ct = next(ds for ds in datasets if ds.Modality == "CT")
    assert ct.pixel_array.dtype == np.int16
    hu = ct.pixel_array * float(ct.RescaleSlope) + float(ct.RescaleIntercept)
    assert -100 < hu[16, 16] < 150  # soft tissue in the middle
    assert hu[0, 0] < -900  # air in the corner


def test_multiframe_rule() -> None:
    ds = samples.multiframe_dataset(frames=6, rows=16, columns=16)
    assert ds.NumberOfFrames == 6
    pixels = ds.pixel_array
    assert pixels.shape == (6, 16, 16)
    assert [int(pixels[k, 0, 0]) for k in range(6)] == [100, 200, 300, 400, 500, 600]
    assert (pixels[2, :4, :4] == 300).all()


@pytest.mark.parametrize("syntax", samples.COMPRESSED_SYNTAXES)
def test_compressed_variants_are_lossless(syntax: str) -> None:
    for original in (samples.multiframe_dataset(4), next(samples.synthetic_datasets(1, 1, 1))):
        before = original.pixel_array.copy()
        copy = samples.compressed(original, syntax)
        assert copy.file_meta.TransferSyntaxUID == syntax
        assert copy.SOPInstanceUID != original.SOPInstanceUID
        assert copy.SOPInstanceUID == samples.compressed(original, syntax).SOPInstanceUID
        assert np.array_equal(copy.pixel_array, before)
        assert np.array_equal(original.pixel_array, before)  # the original is untouched


def test_compressed_refuses_unknown_syntax() -> None:
    with pytest.raises(ValueError, match=re.escape("1.2.840.10008.1.2.4.50")):
        samples.compressed(samples.multiframe_dataset(2), "1.2.840.10008.1.2.4.50")


def test_write_samples_tree(tmp_path: Path) -> None:
    paths = samples.write_samples(tmp_path)
    rel = sorted(p.relative_to(tmp_path).as_posix() for p in paths)
    assert "green-square.dcm" in rel and "multiframe.dcm" in rel
    assert sum(r.startswith("synthetic/") for r in rel) == 16
    assert sorted(r for r in rel if r.startswith("compressed/")) == [
        "compressed/ct-j2k.dcm",
        "compressed/ct-rle.dcm",
        "compressed/multiframe-j2k.dcm",
        "compressed/multiframe-rle.dcm",
    ]
    assert all(pydicom.dcmread(p).SOPInstanceUID for p in paths)
    assert len(samples.write_samples(tmp_path / "only", synthetic=False)) == 3


def _hu(ds: pydicom.Dataset) -> np.ndarray:
    return ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


def test_synthetic_ct_is_an_anatomy_phantom_in_hounsfield_units() -> None:
    # seed 0, study 0 is "CT CHEST": air outside, fat, muscle, lungs, bone (spine and ribs).
    chest = list(samples.synthetic_datasets(1, 1, 12, rows=128, columns=128, seed=0))
    assert {ds.Modality for ds in chest} == {"CT"} and chest[0].BodyPartExamined == "CHEST"
    assert chest[0].SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
    hu = _hu(chest[3])
    assert np.median(hu[:8, :8]) < -950  # air in the corner
    assert (hu < -700).mean() > 0.1  # lungs (and air) take a good part of the slice
    assert np.median(hu[64 - 2 : 64 + 2, 64 - 40 : 64 - 30]) < -700  # the right lung
    assert (hu > 500).sum() > 30  # bone: the spine and ribs
    assert ((hu > -150) & (hu < -50)).sum() > 100  # fat under the skin
    # Scrolling changes the anatomy: the lungs give way to the liver towards the feet.
    lung = [int((_hu(ds)[20:108, 20:108] < -700).sum()) for ds in chest]
    assert lung[3] > 2 * lung[-1] and lung[3] > lung[8] > lung[-1]
    # Its stored window is soft tissue; slices go from the head end to the feet end.
    assert (chest[0].WindowCenter, chest[0].WindowWidth) == (40, 400)
    locations = [float(ds.SliceLocation) for ds in chest]
    assert locations == sorted(locations, reverse=True) and locations[0] == 0


def test_synthetic_head_ct_has_a_brain_window_and_mr_is_labelled_mr() -> None:
    head = list(samples.synthetic_datasets(1, 1, 9, rows=96, columns=96, seed=1))
    assert head[0].StudyDescription == "CT HEAD"
    assert (head[4].WindowCenter, head[4].WindowWidth) == (40, 80)
    hu = _hu(head[4])
    assert (hu > 700).sum() > 50  # the skull
    assert 15 < np.median(hu[40:56, 30:40]) < 50  # brain
    knee = list(samples.synthetic_datasets(1, 3, 6, rows=64, columns=64, seed=3))
    assert knee[0].StudyDescription == "MR KNEE LEFT"
    assert {ds.Modality for ds in knee} == {"MR"}
    assert {ds.SOPClassUID for ds in knee} == {"1.2.840.10008.5.1.4.1.1.4"}
    assert [ds.SeriesDescription for ds in knee[::6]] == ["T1 AX", "T2 AX", "PD AX"]
    for ds in knee:
        values = ds.pixel_array
        low = float(ds.WindowCenter) - float(ds.WindowWidth) / 2
        high = float(ds.WindowCenter) + float(ds.WindowWidth) / 2
        # The stored window fits the image: most of the body lies inside it.
        body = values[values > 100]
        assert ((body >= low) & (body <= high)).mean() > 0.9
        assert "RescaleIntercept" not in ds and values.max() <= 4095
