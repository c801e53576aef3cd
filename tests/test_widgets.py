"""The widget panels, headless: set values, click through handlers, check state against a real server."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dicomweb_nb import DicomWebClient, LocalServer, samples
from dicomweb_nb.client import ConnectionFailed, DicomWebWarning
from dicomweb_nb.widgets import FrameViewer, ServerPanel, StudyBrowser, UploadPanel, panel

from .helpers import make_instance


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
        panel_.url.value = f"{local.base_url}/v2"  # used as given: no version appended
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
        assert (other.url.value, other.verify.value) == (f"{local.base_url}/v2", False)
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
    assert browser.confirm_button.layout.display is None
    assert browser.message == (
        "Delete series #1 · OT · 2 images of the study of Anony Mous (2020-09-22, 2 series, "
        "3 instances) from the server? This cannot be undone."
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
    assert viewer.frame.layout.display is None and viewer.position.layout.display == "none"
    viewer.frame.value = 3
    assert viewer.current()[1] == 3 and "frame 3/5" in viewer.caption.value
    viewer.preset.value = "CT bone (400/1800)"
    assert viewer.window() == (400, 1800)
    before = _png(viewer)
    viewer.invert.value = True
    after = _png(viewer)
    assert before.shape == after.shape and not np.array_equal(before, after)
    series = list(samples.synthetic_datasets(1, 1, 4, rows=32, columns=32))
    client.store_instances(series[::-1])
    viewer.load(series[0].StudyInstanceUID, series[0].SeriesInstanceUID)
    assert viewer.wait() and viewer.progress.value == viewer.progress.max == 4
    assert viewer.position.max == 4 and viewer.frame.layout.display == "none"
    assert viewer.state == "ok" and "All 4 images" in viewer.message
    viewer.position.value = 4
    assert int(viewer.current()[0].InstanceNumber) == 4 and "image 4/4" in viewer.caption.value
    viewer.load("1.2.3", "1.2.3.4", "1.2.3.4.5")
    assert "Loading failed" in viewer.status.value and "404" in viewer.status.value


def test_viewer_window_comes_from_each_new_image_and_resets_unless_kept(
    client: DicomWebClient,
) -> None:
    ct = list(samples.synthetic_datasets(1, 1, 6, rows=48, columns=48, seed=0))
    mf = samples.multiframe_dataset(frames=3)  # no stored window: 100..~1050
    client.store_instances([*ct, mf])
    viewer = FrameViewer()
    viewer.client = client
    viewer.load(ct[0].StudyInstanceUID, ct[0].SeriesInstanceUID, ct[2].SOPInstanceUID)
    assert viewer.position.value == 3 and viewer.window() == (40, 400)
    assert viewer.preset.value == "from the image" and "window 40/400" in viewer.caption.value
    viewer.center.value, viewer.width.value = 900, 200  # a manual window, inverted
    viewer.invert.value = True
    assert viewer.preset.value == "manual"
    viewer.wait()
    viewer.position.value = 5  # scrolling keeps the manual window
    assert viewer.window() == (900, 200) and viewer.invert.value
    viewer.load(mf.StudyInstanceUID, mf.SeriesInstanceUID, mf.SOPInstanceUID)
    # A new image: its own window from its pixel range (none is stored), not inverted.
    values = mf.pixel_array[0]
    low, high = float(values.min()), float(values.max())
    assert viewer.window() == pytest.approx(((low + high) / 2, high - low))
    assert not viewer.invert.value and viewer.preset.value == "from the image"
    shown = _image_area(_png(viewer))
    assert 40 < shown.mean() < 215 and shown.std() > 10  # neither blank white nor black
    # Kept: the window and invert carry over to the next series.
    viewer.preset.value = "CT lung (-600/1500)"
    viewer.invert.value = True
    viewer.pin.value = True
    viewer.load(ct[0].StudyInstanceUID, ct[0].SeriesInstanceUID)
    assert viewer.window() == (-600, 1500) and viewer.invert.value
    viewer.wait()


def test_viewer_drag_windows_and_wheel_scrolls(client: DicomWebClient) -> None:
    ct = list(samples.synthetic_datasets(1, 1, 5, rows=32, columns=32, seed=0))
    client.store_instances(ct)
    viewer = FrameViewer()
    viewer.client = client
    viewer.load(ct[0].StudyInstanceUID, ct[0].SeriesInstanceUID)
    viewer.wait()
    center, width = viewer.window()
    drag = {"buttons": 1, "boundingRectWidth": 400, "boundingRectHeight": 400}
    viewer.handle_event({**drag, "type": "mousedown", "relativeX": 100, "relativeY": 100})
    viewer.handle_event({**drag, "type": "mousemove", "relativeX": 200, "relativeY": 60})
    new_center, new_width = viewer.window()
    assert new_width > width and new_center < center and viewer.preset.value == "manual"
    viewer.handle_event({"type": "mouseup", "buttons": 0})
    viewer.handle_event({**drag, "type": "mousemove", "buttons": 0, "relativeX": 0})
    assert viewer.window() == (new_center, new_width)  # no button: no change
    viewer.handle_event({"type": "wheel", "deltaY": 120})
    viewer.handle_event({"type": "wheel", "deltaY": 120})
    assert viewer.position.value == 3
    viewer.handle_event({"type": "wheel", "deltaY": -120})
    assert viewer.position.value == 2


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


def test_client_trait_reaches_every_panel_until_unlinked(
    client: DicomWebClient, server: LocalServer
) -> None:
    tabs = panel()
    seen: list[object] = []

    def record(change: dict[str, object]) -> None:
        seen.append(change["new"])

    tabs.server.observe(record, names="client")
    tabs.server.client = client
    assert tabs.upload.client is tabs.browser.client is tabs.viewer.client is client
    assert (tabs.upload.state, tabs.upload.message) == ("idle", "Ready.")
    tabs.links["viewer"].unlink()
    tabs.server.unobserve(record, names="client")
    other = DicomWebClient(server.url)
    tabs.server.client = other
    assert tabs.upload.client is tabs.browser.client is other
    assert tabs.viewer.client is client  # no longer linked
    assert seen == [client]  # no longer observed
    tabs.server.client = None
    assert tabs.browser.client is None and tabs.browser.message == "Not connected."


def test_picking_an_instance_in_the_browser_opens_it_in_the_viewer(
    client: DicomWebClient, tutorial_dir: Path
) -> None:
    client.store_instances(tutorial_dir)
    tabs = panel()
    tabs.server.client = client
    picked: list[dict[str, str]] = []
    tabs.browser.on_select(picked.append)
    assert tabs.browser.search() == 1 and tabs.browser.selected == {}
    tabs.browser.studies.value = samples.STUDY_UID
    assert tabs.browser.selected == {"study_instance_uid": samples.STUDY_UID}
    tabs.browser.series.value = samples.SERIES_UID_GREEN_RED
    assert tabs.viewer.image.value == b""  # a series is not an instance: nothing shown yet
    tabs.browser.instances.value = samples.INSTANCE_UID_GREEN
    uids = {
        "study_instance_uid": samples.STUDY_UID,
        "series_instance_uid": samples.SERIES_UID_GREEN_RED,
        "sop_instance_uid": samples.INSTANCE_UID_GREEN,
    }
    assert tabs.browser.selected == tabs.browser.selection() == uids and picked == [uids]
    assert tabs.viewer.current()[0].SOPInstanceUID == samples.INSTANCE_UID_GREEN
    assert tabs.viewer.image.value[:4] == b"\x89PNG" and tabs.viewer.state == "ok"
    tabs.browser.on_select(picked.append, remove=True)
    tabs.browser.instances.value = samples.INSTANCE_UID_RED
    assert tabs.viewer.current()[0].SOPInstanceUID == samples.INSTANCE_UID_RED
    assert len(picked) == 1  # removed


def test_status_state_follows_success_and_failure(
    client: DicomWebClient, tutorial_dir: Path
) -> None:
    browser = StudyBrowser()
    states: list[str] = []
    browser.observe(lambda change: states.append(change["new"]), names="state")
    browser.search()
    assert (browser.state, states) == ("error", ["error"])
    assert "Not connected" in browser.message and "#b00020" in browser.status.value
    browser.client = client
    assert browser.search() == 0
    assert states == ["error", "idle", "busy", "ok"] and browser.message == "0 studies found."
    assert "#1b7f3b" in browser.status.value  # the HTML only shows the state
    browser.download()
    assert (browser.state, browser.message) == ("error", "Pick a study first.")
    client.store_instances(tutorial_dir)
    browser.search()
    browser.studies.value = samples.STUDY_UID
    browser.ask_delete()
    assert browser.state == "ask" and browser.message.startswith(
        "Delete the study of Anony Mous (2020-09-22, 2 series, 3 instances)"
    )
    client.delete_study(samples.STUDY_UID)  # gone before the confirmation: the delete fails
    browser.delete()
    assert browser.state == "error" and "Deleting failed" in browser.message
    server = ServerPanel()
    server.mode.value = "Remote URL"
    assert server.test_connection() and server.state == "error"
    server.url.value = client.url
    server.test_connection()
    assert server.state == "ok" and server.message.startswith("✔ reachable")


def _grey_instance(client: DicomWebClient, photometric: str, sop: str) -> dict[str, str]:
    uids = {"study": "1.2.3.7", "series": "1.2.3.7.1", "sop": sop}
    data = make_instance(uids["study"], uids["series"], sop, PhotometricInterpretation=photometric)
    assert client.store_instances(data).ok
    return uids


def _image_area(png: np.ndarray) -> np.ndarray:
    # The middle of the figure: inside the picture, away from the title and the margins.
    rows, columns = png.shape
    return png[rows * 3 // 8 : rows * 5 // 8, columns * 3 // 8 : columns * 5 // 8]


def test_invert_is_the_pixel_inverse_for_monochrome2_and_monochrome1(
    client: DicomWebClient,
) -> None:
    viewer = FrameViewer()
    viewer.client = client
    shown: dict[tuple[str, bool], np.ndarray] = {}
    for n, photometric in enumerate(("MONOCHROME2", "MONOCHROME1")):
        uids = _grey_instance(client, photometric, f"1.2.3.7.1.{n + 1}")
        viewer.load(uids["study"], uids["series"], uids["sop"])
        viewer.center.value, viewer.width.value = 32, 64
        viewer.preset.value = "manual"
        for invert in (False, True):
            viewer.invert.value = invert
            shown[photometric, invert] = _png(viewer).astype(int)  # the picture alone
        assert viewer.current()[0].PhotometricInterpretation == photometric  # data untouched
        viewer.invert.value = False
    for photometric in ("MONOCHROME2", "MONOCHROME1"):
        normal, inverted = shown[photometric, False], shown[photometric, True]
        assert len(np.unique(normal)) > 4  # a gradient, not a flat field
        np.testing.assert_array_equal(inverted, 255 - normal)
    # MONOCHROME1 shows low values white: the same values as MONOCHROME2, inverted.
    np.testing.assert_array_equal(shown["MONOCHROME1", False], shown["MONOCHROME2", True])


def test_upload_rows_follow_the_files_when_some_fail(
    client: DicomWebClient, tutorial_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.store_instances(tutorial_dir / "green-square.dcm")
    upload = UploadPanel()
    upload.client = client
    files = {
        "blue.dcm": (tutorial_dir / "blue-circle.dcm").read_bytes(),
        "notes.txt": b"not DICOM",
        "green.dcm": (tutorial_dir / "green-square.dcm").read_bytes(),
        "red.dcm": (tutorial_dir / "red-triangle.dcm").read_bytes(),
    }
    upload.files.set_state(_upload_value(files))
    rows = upload.upload()
    assert [(r["file"], r["status"]) for r in rows] == [
        ("blue.dcm", "stored"),
        ("notes.txt", "failed"),
        ("green.dcm", "already there"),
        ("red.dcm", "stored"),
    ]
    assert "DICM" in rows[1]["detail"] and upload.state == "ok"
    # An error after the first request: what it sent is unknown, the rest failed.
    calls: list[tuple[int, int | None]] = []

    def broken(items: list[object], **kw: object) -> None:
        progress = kw["progress"]
        assert callable(progress)
        progress(2, len(items))
        calls.append((2, len(items)))
        raise ConnectionFailed("the server went away")

    monkeypatch.setattr(client, "store_instances", broken)
    upload.files.set_state(_upload_value(files))
    rows = upload.upload()
    assert calls == [(2, 4)]
    assert [r["status"] for r in rows] == ["unknown", "unknown", "failed", "failed"]
    assert "went away" in rows[3]["detail"]
    assert upload.state == "error" and "stopped after 2 of 4" in upload.message


def test_upload_sends_only_the_chosen_source_and_names_files_by_their_path(
    client: DicomWebClient, tutorial_dir: Path, tmp_path: Path
) -> None:
    samples.write_synthetic_archive(tmp_path / "archive", 1, 2, 2, rows=8, columns=8)
    upload = UploadPanel()
    upload.client = client
    upload.folder.value = str(tmp_path / "archive")
    assert upload.source.value == "A folder on the kernel's machine"
    assert upload.folder in upload.children and upload.files not in upload.children
    files = {name: (tutorial_dir / name).read_bytes() for name in samples.TUTORIAL_FILES}
    upload.files.set_state(_upload_value(files))  # choosing files switches to them
    assert upload.source.value == "Files from this browser"
    rows = upload.upload()
    assert [r["file"] for r in rows] == list(samples.TUTORIAL_FILES)  # 3, not 3 + 4
    upload.source.value = "A folder on the kernel's machine"
    rows = upload.upload()
    assert [r["file"] for r in rows] == [
        "study-01/series-01/instance-0001.dcm",
        "study-01/series-01/instance-0002.dcm",
        "study-01/series-02/instance-0001.dcm",
        "study-01/series-02/instance-0002.dcm",
    ]
    assert "series-02/instance-0002.dcm" in upload.table.value


def test_browser_reads_like_words_with_uids_last_and_instances_in_order(
    client: DicomWebClient,
) -> None:
    series = list(samples.synthetic_datasets(1, 1, 12, rows=8, columns=8, seed=1))  # Müller
    series[0].StudyTime = ""  # a missing value shows blank
    client.store_instances(series[::-1])
    browser = StudyBrowser()
    browser.client = client
    assert browser.search() == 1
    table = browser.table.value
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    assert headers[:5] == ["Patient", "Patient ID", "Date", "Time", "Description"]
    assert headers[-1] == "Study UID"
    for junk in ("NaN", "NaT", "days", "None", "^"):
        assert junk not in table
    assert "overflow-x:auto" in table  # scrolls inside the panel, not off its edge
    date = series[0].StudyDate
    assert browser.studies.options[0][0] == (
        f"Müller, Anna · {date[:4]}-{date[4:6]}-{date[6:]} · CT HEAD · CT"
    )
    browser.studies.value = series[0].StudyInstanceUID
    assert browser.series.options[0][0] == "#1 · CT · Axial 5mm · 12 images"
    browser.series.value = series[0].SeriesInstanceUID
    numbers = [label.split(" · ")[0] for label, _ in browser.instances.options]
    assert numbers == [f"#{k}" for k in range(1, 13)]


def test_panel_picking_opens_view_and_stop_start_keeps_the_data(tutorial_dir: Path) -> None:
    tabs = panel()
    try:
        tabs.server.start_local()
        tabs.upload.folder.value = str(tutorial_dir)
        assert [r["status"] for r in tabs.upload.upload()] == ["stored"] * 3
        data_dir = tabs.server._server.data_dir
        tabs.server.stop_local()
        assert tabs.upload.rows == [] and tabs.upload.table.value == ""  # no stale "stored"
        assert tabs.browser.studies.options == ()
        tabs.server.start_local()
        assert "1 studies" in tabs.server.message  # the same data after a restart
        assert tabs.browser.search() == 1
        tabs.browser.studies.value = samples.STUDY_UID
        tabs.browser.series.value = samples.SERIES_UID_GREEN_RED
        tabs.browser.instances.value = samples.INSTANCE_UID_RED
        assert tabs.selected_index == 3 and tabs.titles[3] == "View"
        assert tabs.viewer.current()[0].SOPInstanceUID == samples.INSTANCE_UID_RED
        tabs.viewer.wait()
    finally:
        tabs.server.stop_local()
    assert data_dir.exists()  # kept for the next Start; removed when the kernel ends


def test_remote_url_is_used_as_given(tmp_path: Path) -> None:
    with LocalServer(tmp_path / "data") as local:
        server = ServerPanel()
        server.mode.value = "Remote URL"
        server.url.value = f"{local.base_url}/dicom-web"  # Orthanc's path: nothing here
        report = server.test_connection()
        assert server.client is not None and server.client.url == f"{local.base_url}/dicom-web"
        assert f"{local.base_url}/dicom-web/v1" not in report and "check the base URL" in report
        server.url.value = local.url
        assert server.test_connection().startswith("✔ reachable · ✔ authorised · ✔ DICOMweb")


def test_viewer_colour_disables_the_window(client: DicomWebClient, tutorial_dir: Path) -> None:
    client.store_instances(tutorial_dir)
    viewer = FrameViewer()
    viewer.client = client
    viewer.load(samples.STUDY_UID, samples.SERIES_UID_BLUE, samples.INSTANCE_UID_BLUE)
    assert viewer.center.disabled and viewer.width.disabled and viewer.invert.disabled
    assert viewer.preset.value == "from the image"
    ct = list(samples.synthetic_datasets(1, 1, 2, rows=16, columns=16))
    client.store_instances(ct)
    viewer.load(ct[0].StudyInstanceUID, ct[0].SeriesInstanceUID)
    viewer.wait()
    assert not viewer.center.disabled and not viewer.invert.disabled


def test_server_tab_takes_the_workshop_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dicomweb_nb.widgets import ServerPanel

    with LocalServer(tmp_path / "class", partitions=True) as server:
        monkeypatch.setenv("DICOMWEB_URL", server.url)
        monkeypatch.setenv("DICOMWEB_PARTITION", "alice")
        monkeypatch.delenv("DICOMWEB_TOKEN", raising=False)
        panel = ServerPanel()
        assert (panel.mode.value, panel.url.value, panel.partition.value) == (
            "Remote URL",
            server.url,
            "alice",
        )
        client = panel.connect()
        assert client is not None and client.partition == "alice"
        assert (
            client.store_instances([samples.tutorial_dataset("red-triangle.dcm")]).status_code
            == 200
        )
        assert [p["partitionName"] for p in client.list_partitions()] == [
            "Microsoft.Default",
            "alice",
        ]
