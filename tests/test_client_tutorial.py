"""The reference tutorial, each step one DicomWebClient call, on the embedded server and Orthanc."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dicomweb_nb import DicomWebClient, LocalServer, samples
from dicomweb_nb.client import HTTPStatusError, UnsupportedMediaType

study_uid, series_uid, instance_uid = (
    samples.STUDY_UID,
    samples.SERIES_UID_GREEN_RED,
    samples.INSTANCE_UID_RED,
)


@pytest.fixture(params=["embedded", "orthanc"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, DicomWebClient]]:
    if request.param == "orthanc":
        # A fresh study UID space is not possible on a shared Orthanc: delete through its REST API.
        url = request.getfixturevalue("orthanc_url")
        import requests

        root = url.rsplit("/dicom-web", 1)[0]
        for orthanc_id in requests.get(f"{root}/studies").json():
            requests.delete(f"{root}/studies/{orthanc_id}")
        yield "orthanc", DicomWebClient(url)
        return
    with LocalServer(tmp_path / "data") as server:
        yield "embedded", DicomWebClient(server.url)


def test_tutorial_in_one_call_per_step(
    target: tuple[str, DicomWebClient], tutorial_dir: Path
) -> None:
    kind, client = target
    # Store one file, then two more.
    assert client.store_instances(tutorial_dir / "blue-circle.dcm").status_code == 200
    two = client.store_instances(
        [tutorial_dir / "red-triangle.dcm", tutorial_dir / "green-square.dcm"]
    )
    assert (two.status_code, len(two.stored)) == (200, 2)
    # The non-standard single-part store of a repeat: 409 with 45070 (Orthanc refuses the form).
    if kind == "embedded":
        repeat = client.store_instance_single(tutorial_dir / "blue-circle.dcm")
        assert (repeat.status_code, repeat.failed[0].reason) == (409, 45070)
    else:
        with pytest.raises(UnsupportedMediaType):
            client.store_instance_single(tutorial_dir / "blue-circle.dcm")
    # Retrieve: study, its metadata, series, its metadata, instance, its metadata, frames.
    assert len(client.retrieve_study(study_uid)) == 3
    assert len(client.retrieve_study_metadata(study_uid)) == 3
    assert len(client.retrieve_series(study_uid, series_uid)) == 2
    assert len(client.retrieve_series_metadata(study_uid, series_uid)) == 2
    assert (
        client.retrieve_instance(study_uid, series_uid, instance_uid).SOPInstanceUID == instance_uid
    )
    meta = client.retrieve_instance_metadata(study_uid, series_uid, instance_uid)
    assert meta["00080018"]["Value"] == [instance_uid]
    [frame] = client.retrieve_instance_frames(study_uid, series_uid, instance_uid, [1])
    assert len(frame) == 979 * 985 * 3
    # The six searches.
    assert len(client.search_for_studies({"StudyInstanceUID": study_uid})) == 1
    assert len(client.search_for_series(search_filters={"SeriesInstanceUID": series_uid})) == 1
    assert len(client.search_for_series(study_uid, {"SeriesInstanceUID": series_uid})) == 1
    assert len(client.search_for_instances(search_filters={"SOPInstanceUID": instance_uid})) == 1
    assert (
        len(client.search_for_instances(study_uid, search_filters={"SOPInstanceUID": instance_uid}))
        == 1
    )
    found = client.search_for_instances(study_uid, series_uid, {"SOPInstanceUID": instance_uid})
    assert len(found) == 1
    # The three deletes (Orthanc has no DICOMweb DELETE: 405, reported clearly).
    if kind == "orthanc":
        with pytest.raises(HTTPStatusError, match="405"):
            client.delete_instance(study_uid, series_uid, instance_uid)
        return
    client.delete_instance(study_uid, series_uid, instance_uid)
    client.delete_series(study_uid, series_uid)
    client.delete_study(study_uid)
    assert client.search_for_studies() == []
