"""STOW-RS on the embedded server: status codes, reason codes and bad input."""

from __future__ import annotations

import concurrent.futures
import copy
from pathlib import Path

import pydicom
import pytest
import requests
from pydicom.uid import ImplicitVRLittleEndian

from dicomweb_nb import samples
from dicomweb_nb.server.local import LocalServer

from .helpers import JSON, failure_reasons, multipart, stored_uids, stow


def _ds(name: str = "green-square.dcm") -> pydicom.Dataset:
    return samples.tutorial_dataset(name)


def _count(server: LocalServer) -> int:
    response = requests.get(f"{server.url}/instances", headers=JSON)
    return 0 if response.status_code == 204 else len(response.json())


def test_accept_gate(server: LocalServer) -> None:
    body, content_type = multipart([samples.to_bytes(_ds())])
    url = f"{server.url}/studies"
    # requests sends Accept: */* unless told otherwise: accepted.
    assert requests.post(url, body, headers={"Content-Type": content_type}).status_code == 200
    for accept in ("application/dicom", "text/html"):
        r = requests.post(url, body, headers={"Accept": accept, "Content-Type": content_type})
        assert r.status_code == 406, accept
        assert "Accept" in r.text
    # No Accept header at all.
    r = requests.post(url, body, headers={"Accept": None, "Content-Type": content_type})
    assert r.status_code == 406


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("multipart/form-data; boundary=x", 415),
        ("multipart/related", 415),
        ('multipart/related; type="application/dicom+json"; boundary=x', 415),
        ("text/plain", 415),
        ('multipart/related; type="application/dicom"; boundary=x; start="<a>"', 400),
    ],
)
def test_content_type_refused(server: LocalServer, content_type: str, status: int) -> None:
    r = requests.post(
        f"{server.url}/studies", b"--x--\r\n", headers={**JSON, "Content-Type": content_type}
    )
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/plain")
    assert _count(server) == 0


def test_part_of_other_type_is_415(server: LocalServer) -> None:
    body, content_type = multipart([b'{"00100010": {}}'], part_type="application/dicom+json")
    r = requests.post(f"{server.url}/studies", body, headers={**JSON, "Content-Type": content_type})
    assert r.status_code == 415
    assert "Part 1" in r.text


def test_zero_parts_is_204(server: LocalServer) -> None:
    r = requests.post(
        f"{server.url}/studies",
        b"--b--\r\n",
        headers={**JSON, "Content-Type": 'multipart/related; type="application/dicom"; boundary=b'},
    )
    assert r.status_code == 204


def test_malformed_and_truncated_multipart_are_400(server: LocalServer) -> None:
    raw = samples.to_bytes(_ds())
    headers = {**JSON, "Content-Type": 'multipart/related; type="application/dicom"; boundary=b'}
    truncated = b"--b\r\nContent-Type: application/dicom\r\n\r\n" + raw[:5000]
    r = requests.post(f"{server.url}/studies", truncated, headers=headers)
    assert r.status_code == 400
    assert "closing boundary" in r.text
    garbage = b"this is not multipart at all"
    r = requests.post(f"{server.url}/studies", garbage, headers=headers)
    assert r.status_code == 400
    assert _count(server) == 0
    # The server keeps serving afterwards.
    assert stow(server.url, [raw]).status_code == 200


def test_non_dicom_part_fails_alone(server: LocalServer) -> None:
    good = samples.to_bytes(_ds())
    r = stow(server.url, [b"hello, I am a text file", good])
    assert r.status_code == 202
    assert failure_reasons(r) == [43264]
    [failed] = r.json()["00081198"]["Value"]
    assert "00081155" not in failed  # unreadable: no SOP UIDs
    assert "DICOM" in failed["00741048"]["Value"][0]["00000902"]["Value"][0]
    assert stored_uids(r) == [samples.INSTANCE_UID_GREEN]


def test_truncated_file_is_not_stored(server: LocalServer) -> None:
    raw = samples.to_bytes(_ds())
    r = stow(server.url, [raw[: len(raw) // 2]])
    assert (r.status_code, failure_reasons(r)) == (409, [43264])
    [failed] = r.json()["00081198"]["Value"]
    assert failed["00081155"]["Value"] == [samples.INSTANCE_UID_GREEN]
    assert "truncated" in failed["00741048"]["Value"][0]["00000902"]["Value"][0]
    assert _count(server) == 0
    assert stow(server.url, [raw]).status_code == 200


def test_single_part_empty_body_is_409(server: LocalServer) -> None:
    r = requests.post(
        f"{server.url}/studies", b"", headers={**JSON, "Content-Type": "application/dicom"}
    )
    assert r.status_code == 409
    assert failure_reasons(r) == [43264]


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("SOPInstanceUID", None),
        ("StudyInstanceUID", None),
        ("SeriesInstanceUID", "1.2.abc"),
        ("SOPClassUID", "1." + "2" * 70),
        ("SOPInstanceUID", "1.2.3."),
    ],
)
def test_bad_required_uid_fails_with_43264(
    server: LocalServer, keyword: str, value: str | None
) -> None:
    ds = _ds()
    if value is None:
        delattr(ds, keyword)
    else:
        setattr(ds, keyword, value)
    r = stow(server.url, [samples.to_bytes(ds)])
    assert r.status_code == 409
    assert failure_reasons(r) == [43264]
    assert (
        keyword in r.json()["00081198"]["Value"][0]["00741048"]["Value"][0]["00000902"]["Value"][0]
    )
    assert _count(server) == 0


def test_patient_id_required_in_v1_warning_in_v2(server: LocalServer) -> None:
    ds = _ds()
    ds.PatientID = ""
    r = stow(server.url, [samples.to_bytes(ds)])
    assert (r.status_code, failure_reasons(r)) == (409, [43264])
    r = stow(f"{server.base_url}/v2", [samples.to_bytes(ds)])
    assert r.status_code == 202
    [item] = r.json()["00081199"]["Value"]
    assert item["00081196"]["Value"] == [1]


def test_invalid_searchable_attribute_v1_fails_v2_warns(server: LocalServer) -> None:
    ds = _ds()
    ds.StudyDate = "2020-09-22"
    raw = samples.to_bytes(ds)
    r = stow(server.url, [raw])
    assert (r.status_code, failure_reasons(r)) == (409, [43264])
    r = stow(f"{server.base_url}/v2", [raw])
    assert r.status_code == 202
    [item] = r.json()["00081199"]["Value"]
    comment = item["00741048"]["Value"][0]["00000902"]["Value"][0]
    assert comment.startswith(
        'DICOM100: (0008,0020) - Content "2020-09-22" does not validate VR DA'
    )
    # Kept in the file, dropped from metadata and the index.
    meta = requests.get(f"{server.url}/studies/{samples.STUDY_UID}/metadata", headers=JSON).json()
    assert "00080020" not in meta[0]
    r = requests.get(f"{server.url}/studies", params={"StudyDate": "20200922"}, headers=JSON)
    assert r.status_code == 204
    part = requests.get(
        f"{server.url}/studies/{samples.STUDY_UID}/series/{samples.SERIES_UID_GREEN_RED}"
        f"/instances/{samples.INSTANCE_UID_GREEN}",
        headers={"Accept": "application/dicom; transfer-syntax=*"},
    )
    assert pydicom.dcmread(__import__("io").BytesIO(part.content)).StudyDate == "2020-09-22"


def test_study_mismatch_with_path(server: LocalServer) -> None:
    raw = samples.to_bytes(_ds())
    r = stow(server.url, [raw], study="1.2.3.4")
    assert r.status_code == 409
    assert failure_reasons(r) in ([43264], [43265])
    assert r.json()["00081198"]["Value"][0]["00081155"]["Value"] == [samples.INSTANCE_UID_GREEN]
    r = stow(server.url, [raw], study=samples.STUDY_UID)
    assert r.status_code == 200
    assert r.json()["00081190"]["Value"] == [f"{server.url}/studies/{samples.STUDY_UID}"]


def test_invalid_uid_in_path_is_400(server: LocalServer) -> None:
    r = stow(server.url, [samples.to_bytes(_ds())], study="not-a-uid")
    assert r.status_code == 400
    assert "not-a-uid" in r.text


def test_same_file_twice_in_one_request(server: LocalServer) -> None:
    raw = samples.to_bytes(_ds())
    r = stow(server.url, [raw, raw])
    assert r.status_code == 202
    assert stored_uids(r) == [samples.INSTANCE_UID_GREEN]
    assert failure_reasons(r) == [45070]


def test_duplicate_leaves_stored_copy_untouched(server: LocalServer) -> None:
    ds = _ds()
    assert stow(server.url, [samples.to_bytes(ds)]).status_code == 200
    changed = copy.deepcopy(ds)
    changed.PatientName = "Someone^Else"
    r = stow(server.url, [samples.to_bytes(changed)])
    assert (r.status_code, failure_reasons(r)) == (409, [45070])
    meta = requests.get(f"{server.url}/studies/{samples.STUDY_UID}/metadata", headers=JSON).json()
    assert meta[0]["00100010"]["Value"] == [{"Alphabetic": "Anony Mous"}]


def test_implicit_vr_is_stored_with_warning_45063(server: LocalServer) -> None:
    ds = _ds()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    raw = samples.to_bytes(ds)
    r = stow(server.url, [raw])
    assert r.status_code == 200
    [item] = r.json()["00081199"]["Value"]
    assert item["00081196"]["Value"] == [45063]


def test_multi_valued_indexed_attribute_warning_header(server: LocalServer) -> None:
    ds = _ds()
    ds.AccessionNumber = ["A1", "A2"]
    r = stow(server.url, [samples.to_bytes(ds)])
    assert r.status_code == 200
    assert "only first value is indexed" in r.headers["Warning"]
    r = requests.get(f"{server.url}/studies", params={"AccessionNumber": "A1"}, headers=JSON)
    assert r.status_code == 200


def test_concurrent_stores_of_one_instance(server: LocalServer) -> None:
    raw = samples.to_bytes(samples.tutorial_dataset("blue-circle.dcm"))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: stow(server.url, [raw]), range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1
    assert statuses.count(409) == 7
    for r in responses:
        if r.status_code == 409:
            assert failure_reasons(r)[0] in (45070, 45071)
    assert _count(server) == 1
    files = list(Path(server.data_dir or "").glob("instances/**/*.dcm"))
    assert len(files) == 1
    assert files[0].read_bytes()[128:] == raw[128:]
    assert list((Path(server.data_dir or "") / "tmp").iterdir()) == []
