"""DicomWebClient against Orthanc's DICOMweb plugin: the same calls, and Orthanc's quirks pinned."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from dicomweb_nb import DicomWebClient, samples
from dicomweb_nb.client import HTTPStatusError, NotFound, UnsupportedMediaType
from dicomweb_nb.client.parts import stream_parts

S, SE_GR, SE_B = samples.STUDY_UID, samples.SERIES_UID_GREEN_RED, samples.SERIES_UID_BLUE
I_R, I_G, I_B = samples.INSTANCE_UID_RED, samples.INSTANCE_UID_GREEN, samples.INSTANCE_UID_BLUE


@pytest.fixture(scope="module")
def orthanc(orthanc_url: str, tmp_path_factory: pytest.TempPathFactory) -> DicomWebClient:
    folder = tmp_path_factory.mktemp("tutorial-orthanc")
    samples.write_tutorial_samples(folder)
    client = DicomWebClient(orthanc_url)
    result = client.store_instances(folder)
    assert result.status_code == 200 and len(result.stored) == 3
    mf = samples.multiframe_dataset(4)
    assert client.store_instances(mf).ok
    return client


def test_store_quirks(orthanc: DicomWebClient, orthanc_url: str) -> None:
    # Orthanc accepts a repeat (200) where the reference answers 409.
    again = orthanc.store_instances(samples.tutorial_dataset("blue-circle.dcm"))
    assert again.status_code == 200 and len(again.stored) == 1
    # It refuses the non-standard single application/dicom body...
    with pytest.raises(UnsupportedMediaType):
        orthanc.store_instance_single(samples.tutorial_dataset("blue-circle.dcm"))
    # ...and a multipart/related without type= (we always send it).
    body = (
        b"--b\r\nContent-Type: application/dicom\r\n\r\n"
        + samples.to_bytes(samples.tutorial_dataset("blue-circle.dcm"))
        + b"\r\n--b--\r\n"
    )
    r = requests.post(
        f"{orthanc_url}/studies", body, headers={"Content-Type": "multipart/related; boundary=b"}
    )
    assert r.status_code == 415


def test_search(orthanc: DicomWebClient) -> None:
    assert [
        s["0020000D"]["Value"][0] for s in orthanc.search_for_studies({"PatientID": "ID1"})
    ] == [S]
    # Orthanc does not percent-decode: our client keeps '*' literal so wildcards work there.
    assert len(orthanc.search_for_studies({"PatientName": "Anony*"})) == 1
    assert len(orthanc.search_for_series(S)) == 2
    assert len(orthanc.search_for_instances(S, SE_GR)) == 2
    assert orthanc.search_for_studies({"PatientID": "nobody"}) == []
    everything = orthanc.search_for_instances(limit=1, get_remaining=True)
    assert len(everything) == 4


def test_retrieve_and_metadata(orthanc: DicomWebClient, tmp_path: Path) -> None:
    assert {ds.SOPInstanceUID for ds in orthanc.retrieve_study(S)} == {I_R, I_G, I_B}
    ds = orthanc.retrieve_instance(S, SE_B, I_B)
    assert tuple(ds.pixel_array[489, 492]) == samples.COLOURS["blue-circle.dcm"]
    assert len(orthanc.save_study(S, tmp_path)) == 3
    meta = orthanc.retrieve_study_metadata(S)
    assert len(meta) == 3 and {m["00080018"]["Value"][0] for m in meta} == {I_R, I_G, I_B}
    assert orthanc.retrieve_instance_metadata(S, SE_GR, I_R)["00200013"]["Value"] == [1]


def test_orthanc_puts_transfer_syntax_inside_type(orthanc: DicomWebClient) -> None:
    path = f"/studies/{S}/series/{SE_B}/instances/{I_B}/frames/1"
    response = orthanc.session.request(
        "GET",
        path,
        headers={"Accept": 'multipart/related; type="application/octet-stream"'},
        stream=True,
    )
    assert 'type="application/octet-stream; transfer-syntax=' in response.headers["Content-Type"]
    [part] = list(stream_parts(response))
    assert len(part.content) == 979 * 985 * 3


def test_frames_and_rendered(orthanc: DicomWebClient) -> None:
    [frame] = orthanc.retrieve_instance_frames(S, SE_GR, I_G)
    assert len(frame) == 979 * 985 * 3
    arrays, _ = orthanc.retrieve_instance_frame_arrays(S, SE_GR, I_G)
    assert tuple(arrays[0][489, 492]) == samples.COLOURS["green-square.dcm"]
    mf = samples.multiframe_dataset(4)
    arrays, _ = orthanc.retrieve_instance_frame_arrays(
        mf.StudyInstanceUID, mf.SeriesInstanceUID, mf.SOPInstanceUID, [3, 4]
    )
    assert [int(a[0, 0]) for a in arrays] == [300, 400]
    assert orthanc.retrieve_instance_rendered(S, SE_B, I_B)[:4] == b"\x89PNG"
    assert (
        orthanc.retrieve_instance_frames_rendered(S, SE_B, I_B, media_type="image/jpeg")[:2]
        == b"\xff\xd8"
    )


def test_unsupported_and_missing(orthanc: DicomWebClient) -> None:
    with pytest.raises(HTTPStatusError) as info:
        orthanc.delete_study(S)  # Orthanc deletes through its own REST API only
    assert info.value.status_code == 405 and "Orthanc" in str(info.value)
    with pytest.raises(NotFound):
        orthanc.retrieve_study_metadata("1.2.3.4.5.6")
