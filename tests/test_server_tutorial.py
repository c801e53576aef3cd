"""The reference tutorial's calls, made with plain ``requests`` exactly as it makes them."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
import requests
import requests_toolbelt as tb
from urllib3.filepost import choose_boundary, encode_multipart_formdata

from dicomweb_nb import samples
from dicomweb_nb.server.local import LocalServer

study_uid = samples.STUDY_UID
series_uid = samples.SERIES_UID_GREEN_RED
instance_uid = samples.INSTANCE_UID_RED


def encode_multipart_related(fields, boundary=None):  # the tutorial's helper, verbatim in effect
    if boundary is None:
        boundary = choose_boundary()
    body, _ = encode_multipart_formdata(fields, boundary)
    content_type = str("multipart/related; boundary=%s" % boundary)  # noqa: UP031
    return body, content_type


@pytest.fixture()
def cli_server(tmp_path: Path) -> Iterator[str]:
    """``dicomweb-nb serve`` in its own process, as a user starts it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "dicomweb_nb.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--data", str(tmp_path / "data"), "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    root = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):
            try:
                requests.get(f"{root}/health/check", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        yield root
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(params=["embedded-v1", "embedded-v2", "cli-v1"])
def base_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    kind, version = request.param.split("-")
    if kind == "cli":
        yield f"{request.getfixturevalue('cli_server')}/{version}"
        return
    with LocalServer(tmp_path / "data") as server:
        yield f"{server.base_url}/{version}"


def test_whole_tutorial(base_url: str, tutorial_dir: Path) -> None:
    client = requests.session()

    # Store blue-circle with multipart/related (no type parameter, form-data part headers).
    rawfile = (tutorial_dir / "blue-circle.dcm").read_bytes()
    files = {"file": ("dicomfile", rawfile, "application/dicom")}
    body, content_type = encode_multipart_related(fields=files)
    headers = {"Accept": "application/dicom+json", "Content-Type": content_type}
    response = client.post(f"{base_url}/studies", body, headers=headers, verify=False)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/dicom+json")
    refs = response.json()["00081199"]["Value"]
    assert [r["00081155"]["Value"][0] for r in refs] == [samples.INSTANCE_UID_BLUE]
    assert refs[0]["00081150"]["Value"] == ["1.2.840.10008.5.1.4.1.1.7"]
    assert refs[0]["00081190"]["Value"][0] == (
        f"{base_url}/studies/{study_uid}/series/{samples.SERIES_UID_BLUE}"
        f"/instances/{samples.INSTANCE_UID_BLUE}"
    )
    assert "00081190" not in response.json()  # no study in the path, no study RetrieveURL

    # Store red and green in one request.
    files = {
        "file_red": (
            "dicomfile",
            (tutorial_dir / "red-triangle.dcm").read_bytes(),
            "application/dicom",
        ),
        "file_green": (
            "dicomfile",
            (tutorial_dir / "green-square.dcm").read_bytes(),
            "application/dicom",
        ),
    }
    body, content_type = encode_multipart_related(fields=files)
    headers = {"Accept": "application/dicom+json", "Content-Type": content_type}
    response = client.post(f"{base_url}/studies", body, headers=headers, verify=False)
    assert response.status_code == 200, response.text
    assert len(response.json()["00081199"]["Value"]) == 2

    # The non-standard single application/dicom body: a repeat, so 409 with 45070.
    headers = {"Accept": "application/dicom+json", "Content-Type": "application/dicom"}
    response = client.post(f"{base_url}/studies", rawfile, headers=headers, verify=False)
    assert response.status_code == 409
    failed = response.json()["00081198"]["Value"]
    assert failed[0]["00081197"]["Value"] == [45070]
    assert failed[0]["00081155"]["Value"] == [samples.INSTANCE_UID_BLUE]

    # Retrieve the study: three parts, each readable by pydicom.
    headers = {"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'}
    response = client.get(f"{base_url}/studies/{study_uid}", headers=headers)
    assert response.status_code == 200
    mpd = tb.MultipartDecoder.from_response(response)
    uids = set()
    for part in mpd.parts:
        assert part.headers[b"content-type"].startswith(b"application/dicom")
        dcm = pydicom.dcmread(BytesIO(part.content))
        assert str(dcm.PatientName) == "Anony Mous"
        uids.add(dcm.SOPInstanceUID)
    assert uids == {samples.INSTANCE_UID_BLUE, samples.INSTANCE_UID_RED, samples.INSTANCE_UID_GREEN}

    # Study metadata: three objects.
    headers = {"Accept": "application/dicom+json"}
    response = client.get(f"{base_url}/studies/{study_uid}/metadata", headers=headers)
    assert response.status_code == 200
    assert len(response.json()) == 3

    # Series: green and red.
    headers = {"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'}
    response = client.get(f"{base_url}/studies/{study_uid}/series/{series_uid}", headers=headers)
    assert response.status_code == 200
    assert len(tb.MultipartDecoder.from_response(response).parts) == 2

    headers = {"Accept": "application/dicom+json"}
    url = f"{base_url}/studies/{study_uid}/series/{series_uid}/metadata"
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert len(response.json()) == 2

    # One instance, single part, byte for byte what was stored apart from the zeroed preamble.
    url = f"{base_url}/studies/{study_uid}/series/{series_uid}/instances/{instance_uid}"
    headers = {"Accept": "application/dicom; transfer-syntax=*"}
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert (
        response.headers["content-type"] == "application/dicom; transfer-syntax=1.2.840.10008.1.2.1"
    )
    original = (tutorial_dir / "red-triangle.dcm").read_bytes()
    assert response.content == bytes(128) + original[128:]

    headers = {"Accept": "application/dicom+json"}
    response = client.get(url + "/metadata", headers=headers)
    assert response.status_code == 200
    [meta] = response.json()
    assert meta["00080018"]["Value"] == [instance_uid]
    assert "7FE00010" not in meta  # bulk data is left out

    # Frames, with the tutorial's three Accept forms.
    for accept in (
        'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1',
        'multipart/related; type="application/octet-stream"; transfer-syntax=*',
        'multipart/related; type="application/octet-stream";',
    ):
        response = client.get(url + "/frames/1", headers={"Accept": accept})
        assert response.status_code == 200, (accept, response.text)
        [part] = tb.MultipartDecoder.from_response(response).parts
        assert len(part.content) == 979 * 985 * 3
        # The centre pixel of the red triangle is red.
        offset = (489 * 985 + 492) * 3
        assert tuple(part.content[offset : offset + 3]) == samples.COLOURS["red-triangle.dcm"]

    # The six searches, each finding exactly one.
    headers = {"Accept": "application/dicom+json"}
    searches = [
        ("/studies", {"StudyInstanceUID": study_uid}, "0020000D", study_uid),
        ("/series", {"SeriesInstanceUID": series_uid}, "0020000E", series_uid),
        (f"/studies/{study_uid}/series", {"SeriesInstanceUID": series_uid}, "0020000E", series_uid),
        ("/instances", {"SOPInstanceUID": instance_uid}, "00080018", instance_uid),
        (
            f"/studies/{study_uid}/instances",
            {"SOPInstanceUID": instance_uid},
            "00080018",
            instance_uid,
        ),
        (
            f"/studies/{study_uid}/series/{series_uid}/instances",
            {"SOPInstanceUID": instance_uid},
            "00080018",
            instance_uid,
        ),
    ]
    for path, params, tag, expected in searches:
        response = client.get(f"{base_url}{path}", headers=headers, params=params)
        assert response.status_code == 200, (path, response.text)
        assert [r[tag]["Value"][0] for r in response.json()] == [expected], path

    # The three deletes, 204 each, then 404.
    instance_url = f"{base_url}/studies/{study_uid}/series/{series_uid}/instances/{instance_uid}"
    series_url = f"{base_url}/studies/{study_uid}/series/{series_uid}"
    study_url = f"{base_url}/studies/{study_uid}"
    for url in (instance_url, series_url, study_url):
        response = client.delete(url)
        assert response.status_code == 204, (url, response.text)
        assert response.content == b""
        assert client.delete(url).status_code == 404
    response = client.get(
        f"{base_url}/studies", headers=headers, params={"StudyInstanceUID": study_uid}
    )
    assert response.status_code == 204


def test_boundary_forms_from_the_tutorial_note(server: LocalServer, tutorial_dir: Path) -> None:
    """The tutorial lists three Content-Type forms that work; the reference also takes a bare type."""
    raw = (tutorial_dir / "green-square.dcm").read_bytes()
    forms = [
        'multipart/related; type="application/dicom"; boundary=ABCD1234',
        "multipart/related; boundary=ABCD1234",
        "multipart/related; type=application/dicom; boundary=ABCD1234",
        'multipart/related; boundary="ABCD1234"; type="application/dicom"',
    ]
    body = b"--ABCD1234\r\nContent-Type: application/dicom\r\n\r\n" + raw + b"\r\n--ABCD1234--\r\n"
    for i, content_type in enumerate(forms):
        headers = {"Accept": "application/dicom+json", "Content-Type": content_type}
        response = requests.post(f"{server.url}/studies", body, headers=headers)
        assert response.status_code == (200 if i == 0 else 409), (content_type, response.text)
