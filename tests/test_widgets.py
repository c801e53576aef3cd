"""The widget panels, headless: set values, click through handlers, check state against a real server."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dicomweb_nb import DicomWebClient, LocalServer, samples
from dicomweb_nb.client import DicomWebWarning
from dicomweb_nb.widgets import FrameViewer, ServerPanel, StudyBrowser, UploadPanel, panel


def _upload_value(files: dict[str, bytes]) -> dict[str, object]:
    return {
        "value": [
            {
                "name": name,
                "type": "application/dicom",
                "size": len(data),
                "last_modified": 0,
                "content": memoryview(data),
            }
            for name, data in files.items()
        ]
    }


@pytest.fixture()
def client(server: LocalServer) -> DicomWebClient:
    return DicomWebClient(server.url)


def test_upload_rows(client: DicomWebClient, tutorial_dir: Path) -> None:
    upload = UploadPanel()
    upload.client = client
    files = {name: (tutorial_dir / name).read_bytes() for name in samples.TUTORIAL_FILES}
    upload.files.set_state(_upload_value(files))
    rows = upload.upload()
    assert [(r["file"], r["status"]) for r in rows] == [
        (n, "stored") for n in samples.TUTORIAL_FILES
    ]
    assert upload.progress.value == upload.progress.max == 3
    assert "Done: 3 of 3 stored" in upload.status.value
    upload.files.set_state(_upload_value({**files, "notes.txt": b"not DICOM at all"}))
    rows = upload.upload()
    assert [r["status"] for r in rows] == ["already there"] * 3 + ["failed"]
    assert "DICM" in rows[3]["detail"] and "#b00020" in upload.table.value
    assert "Traceback" not in upload.table.value


def test_upload_from_a_folder_and_errors(client: DicomWebClient, tmp_path: Path) -> None:
    samples.write_synthetic_archive(tmp_path / "archive", 1, 2, 3, rows=16, columns=16)
    upload = UploadPanel()
    assert upload.upload() == [] and "Not connected" in upload.status.value
    upload.client = client
    upload.folder.value = str(tmp_path / "missing")
    assert upload.upload() == [] and "is not a folder" in upload.status.value
    upload.folder.value = str(tmp_path / "archive")
    rows = upload.upload()
    assert len(rows) == 6 and {r["status"] for r in rows} == {"stored"}


def test_server_panel_local(tmp_path: Path, tutorial_dir: Path) -> None:
    server = ServerPanel(tmp_path / "data")
    try:
        server.start_button.click()
        assert server.client is not None and server.client.url.endswith("/v1")
        assert "✔ DICOMweb · 0 studies" in server.status.value
        server.client.store_instances(tutorial_dir)
        assert "1 studies" in server.test_connection()
        server.start_local()  # a second start is harmless
        assert server.stop_button.disabled is False
    finally:
        server.stop_button.click()
    assert server.client is None


def test_server_panel_remote_auth_and_config(tmp_path: Path) -> None:
    with LocalServer(tmp_path / "data", token="s3cret") as local:
        panel_ = ServerPanel()
        panel_.mode.value = "Remote URL"
        panel_.url.value = local.base_url
        panel_.version.value = "v2"
        assert "not authorised" in panel_.test_connection()
        panel_.auth.value = "bearer token"
        panel_.token.value = "s3cret"
        report = panel_.test_connection()
        assert report.startswith("✔ reachable · ✔ authorised") and panel_.client is not None
        assert panel_.client.url == f"{local.base_url}/v2"
        panel_.verify.value = False
        assert "TLS verification is off" in panel_.tls_warning.value
        panel_.save_config(tmp_path / "server.json")
        saved = (tmp_path / "server.json").read_text()
        assert "s3cret" not in saved and json.loads(saved)["auth"] == "bearer token"
        other = ServerPanel()
        other.load_config(tmp_path / "server.json")
        assert (other.url.value, other.version.value, other.verify.value) == (
            local.base_url,
            "v2",
            False,
        )
    panel_.url.value = "http://127.0.0.1:9"
    with pytest.warns(DicomWebWarning, match="TLS"):
        assert "not reachable" in panel_.test_connection()


def test_browser_drill_down_download_delete(
    client: DicomWebClient, tutorial_dir: Path, tmp_path: Path
) -> None:
    client.store_instances(tutorial_dir)
    client.store_instances(list(samples.synthetic_datasets(2, 1, 2, rows=16, columns=16)))
    browser = StudyBrowser()
    browser.client = client
    assert browser.search() == 3
    browser.patient_name.value = "anon"
    assert browser.search() == 1 and "<table" in browser.table.value
    browser.patient_name.value = ""
    browser.date_from.value = dt.date(2020, 1, 1)
    browser.date_to.value = dt.date(2020, 12, 31)
    assert browser.filters()["StudyDate"] == (dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    browser.search()
    browser.studies.value = samples.STUDY_UID
    assert len(browser.series.options) == 2
    browser.series.value = samples.SERIES_UID_GREEN_RED
    assert len(browser.instances.options) == 2
    picked: list[dict[str, str]] = []
    browser.on_select(picked.append)
    browser.instances.value = samples.INSTANCE_UID_RED
    assert picked[-1]["sop_instance_uid"] == samples.INSTANCE_UID_RED
    browser.folder.value = str(tmp_path / "dl")
    browser.instances.value = None
    browser.download_button.click()
    assert "Saved 2 files" in browser.status.value
    browser.delete_button.click()
    assert (
        "Delete this series" in browser.status.value
        and browser.confirm_button.layout.display is None
    )
    browser.confirm_button.click()
    assert len(client.search_for_series(samples.STUDY_UID)) == 1
    browser.client = None
    browser.search_button.click()
    assert "Not connected" in browser.status.value


def _png(viewer: FrameViewer) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(viewer.image.value)).convert("L"))


def test_frame_viewer(client: DicomWebClient) -> None:
    mf = samples.multiframe_dataset(frames=5)
    client.store_instances(mf)
    viewer = FrameViewer()
    viewer.client = client
    viewer.load(mf.StudyInstanceUID, mf.SeriesInstanceUID, mf.SOPInstanceUID)
    assert viewer.frame.max == 5 and viewer.image.value[:4] == b"\x89PNG"
    viewer.frame.value = 3
    assert viewer.current()[1] == 3
    viewer.preset.value = "bone (400/1800)"
    assert (viewer.center.value, viewer.width.value) == (400, 1800)
    before = _png(viewer)
    viewer.invert.value = True
    after = _png(viewer)
    assert before.shape == after.shape and not np.array_equal(before, after)
    series = list(samples.synthetic_datasets(1, 1, 4, rows=32, columns=32))
    client.store_instances(series)
    viewer.load(series[0].StudyInstanceUID, series[0].SeriesInstanceUID)
    assert viewer.frame.description == "Instance" and viewer.frame.max == 4
    viewer.frame.value = 4
    assert int(viewer.current()[0].InstanceNumber) == 4
    viewer.load("1.2.3", "1.2.3.4", "1.2.3.4.5")
    assert "Loading failed" in viewer.status.value and "404" in viewer.status.value


def test_panel_shares_one_client(tmp_path: Path, tutorial_dir: Path) -> None:
    tabs = panel(tmp_path / "data")
    try:
        assert tabs.titles == ("Server", "Upload", "Browse", "View")
        tabs.server.start_button.click()
        assert tabs.upload.client is tabs.browser.client is tabs.viewer.client is tabs.client
        tabs.upload.folder.value = str(tutorial_dir)
        assert [r["status"] for r in tabs.upload.upload()] == ["stored"] * 3
        assert tabs.browser.search() == 1
        tabs.browser.studies.value = samples.STUDY_UID
        tabs.browser.series.value = samples.SERIES_UID_BLUE
        tabs.browser.instances.value = samples.INSTANCE_UID_BLUE
        assert tabs.viewer.image.value[:4] == b"\x89PNG"  # picking an instance shows it
    finally:
        tabs.server.stop_local()
