"""The independent ``dicomweb-client`` package against the embedded server."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from dicomweb_client.api import DICOMwebClient
from PIL import Image

from dicomweb_nb import samples
from dicomweb_nb.server.local import LocalServer


@pytest.fixture()
def dwc(server: LocalServer) -> DICOMwebClient:
    client = DICOMwebClient(url=server.url)
    datasets = [samples.tutorial_dataset(name) for name in samples.TUTORIAL_FILES]
    result = client.store_instances(datasets)
    assert len(result.ReferencedSOPSequence) == 3
    return client


def test_store_reports_duplicates(dwc: DICOMwebClient) -> None:
    from requests import HTTPError

    with pytest.raises(HTTPError) as info:
        dwc.store_instances([samples.tutorial_dataset("blue-circle.dcm")])
    assert info.value.response.status_code == 409


def test_search(dwc: DICOMwebClient) -> None:
    studies = dwc.search_for_studies(search_filters={"PatientID": "ID1"})
    assert [s["0020000D"]["Value"][0] for s in studies] == [samples.STUDY_UID]
    series = dwc.search_for_series(samples.STUDY_UID)
    assert {s["0020000E"]["Value"][0] for s in series} == {
        samples.SERIES_UID_GREEN_RED,
        samples.SERIES_UID_BLUE,
    }
    instances = dwc.search_for_instances(samples.STUDY_UID, samples.SERIES_UID_GREEN_RED)
    assert len(instances) == 2
    fuzzy = dwc.search_for_studies(search_filters={"PatientName": "anon"}, fuzzymatching=True)
    assert len(fuzzy) == 1
    assert dwc.search_for_studies(search_filters={"PatientID": "nobody"}) == []
    paged = dwc.search_for_instances(limit=1, offset=1)
    assert len(paged) == 1


def test_retrieve(dwc: DICOMwebClient) -> None:
    study = dwc.retrieve_study(samples.STUDY_UID, media_types=(("application/dicom", "*"),))
    assert {ds.SOPInstanceUID for ds in study} == {
        samples.INSTANCE_UID_RED,
        samples.INSTANCE_UID_GREEN,
        samples.INSTANCE_UID_BLUE,
    }
    ds = dwc.retrieve_instance(
        samples.STUDY_UID, samples.SERIES_UID_BLUE, samples.INSTANCE_UID_BLUE
    )
    assert ds.ImageComments == "Fake DICOM - Blue Circle"
    assert tuple(ds.pixel_array[489, 492]) == samples.COLOURS["blue-circle.dcm"]
    meta = dwc.retrieve_study_metadata(samples.STUDY_UID)
    assert len(meta) == 3
    parsed = pydicom.Dataset.from_json(meta[0])
    assert parsed.StudyInstanceUID == samples.STUDY_UID
    series = dwc.retrieve_series(samples.STUDY_UID, samples.SERIES_UID_GREEN_RED)
    assert len(series) == 2


def test_frames_and_rendered(dwc: DICOMwebClient) -> None:
    [frame] = dwc.retrieve_instance_frames(
        samples.STUDY_UID,
        samples.SERIES_UID_GREEN_RED,
        samples.INSTANCE_UID_GREEN,
        frame_numbers=[1],
        media_types=(("application/octet-stream", "*"),),
    )
    pixels = np.frombuffer(frame, np.uint8).reshape(979, 985, 3)
    # The package's default Accept for frames (multipart/related; type="*/*") works too.
    default = dwc.retrieve_instance_frames(
        samples.STUDY_UID, samples.SERIES_UID_GREEN_RED, samples.INSTANCE_UID_GREEN, [1]
    )
    assert default == [frame]
    assert tuple(pixels[489, 492]) == samples.COLOURS["green-square.dcm"]
    assert tuple(pixels[5, 5]) == samples.BACKGROUND
    png = dwc.retrieve_instance_rendered(
        samples.STUDY_UID,
        samples.SERIES_UID_GREEN_RED,
        samples.INSTANCE_UID_RED,
        media_types=("image/png",),
    )
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert image.shape == (979, 985, 3)
    assert tuple(image[489, 492]) == samples.COLOURS["red-triangle.dcm"]
    jpeg = dwc.retrieve_instance_frames_rendered(
        samples.STUDY_UID,
        samples.SERIES_UID_BLUE,
        samples.INSTANCE_UID_BLUE,
        frame_numbers=[1],
        media_types=("image/jpeg",),
    )
    assert jpeg[:2] == b"\xff\xd8"


def test_delete(dwc: DICOMwebClient) -> None:
    dwc.delete_instance(samples.STUDY_UID, samples.SERIES_UID_GREEN_RED, samples.INSTANCE_UID_RED)
    assert len(dwc.search_for_instances(samples.STUDY_UID)) == 2
    dwc.delete_study(samples.STUDY_UID)
    assert dwc.search_for_studies() == []
