"""DicomWebClient against the embedded server: every transaction, results and errors."""

from __future__ import annotations

import http.server
import io
import threading
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pydicom
import pytest
import requests

from dicomweb_nb import DicomWebClient, LocalServer, samples
from dicomweb_nb.client import (
    Conflict,
    ConnectionFailed,
    DicomWebWarning,
    InstanceOutcome,
    InvalidInput,
    NotAcceptable,
    NotFound,
    ProtocolError,
    Timeout,
    Unauthorized,
    sources,
)
from dicomweb_nb.client.parts import _uids_in, save_parts
from dicomweb_nb.client.stow import _StreamedBody
from dicomweb_nb.protocol import multipart

S, SE_GR, SE_B = samples.STUDY_UID, samples.SERIES_UID_GREEN_RED, samples.SERIES_UID_BLUE
I_R, I_G, I_B = samples.INSTANCE_UID_RED, samples.INSTANCE_UID_GREEN, samples.INSTANCE_UID_BLUE


@pytest.fixture()
def client(server: LocalServer) -> Iterator[DicomWebClient]:
    with DicomWebClient(server.url) as c:
        yield c


@pytest.fixture()
def loaded(client: DicomWebClient, tutorial_dir: Path) -> DicomWebClient:
    result = client.store_instances(tutorial_dir)
    assert len(result.stored) == 3
    return client


def test_store_mixed_inputs_and_report(
    client: DicomWebClient, tutorial_dir: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not DICOM")
    with open(tutorial_dir / "red-triangle.dcm", "rb") as fh:
        result = client.store_instances(
            [
                tutorial_dir / "blue-circle.dcm",
                str(junk),
                fh,
                (tutorial_dir / "green-square.dcm").read_bytes(),
                samples.multiframe_dataset(3),
            ],
            batch_size=2,
        )
    assert result.status_codes == [200, 200]
    assert [i.status for i in result.instances].count("stored") == 4
    [skipped] = result.failed
    assert skipped.status == "skipped" and skipped.source == str(junk)
    assert "DICM" in skipped.detail
    blue = next(i for i in result.stored if i.sop_instance_uid == I_B)
    assert blue.source == str(tutorial_dir / "blue-circle.dcm")
    assert blue.retrieve_url and blue.retrieve_url.endswith(f"/instances/{I_B}")
    # Storing again: 409 is a result, with the reason in words.
    again = client.store_instances(tutorial_dir / "blue-circle.dcm")
    assert again.status_code == 409
    assert [(i.status, i.reason) for i in again.instances] == [("failed", 45070)]
    assert "already stored" in again.failed[0].reason_text
    assert "1 failed" in repr(again)


def test_store_partial_202_and_study_path(client: DicomWebClient, tutorial_dir: Path) -> None:
    client.store_instances(tutorial_dir / "blue-circle.dcm")
    result = client.store_instances(
        [tutorial_dir / "blue-circle.dcm", tutorial_dir / "red-triangle.dcm"], S
    )
    assert result.status_code == 202
    assert {(i.status, i.reason) for i in result.instances} == {("failed", 45070), ("stored", None)}
    assert result.study_retrieve_url == f"{client.url}/studies/{S}"
    other = client.store_instances(samples.multiframe_dataset(2), S)
    assert other.status_code == 409 and other.failed[0].reason in (43264, 43265)


def test_store_progress_counts_inputs(client: DicomWebClient) -> None:
    def calls(items: object, **kw: object) -> list[tuple[int, int | None]]:
        seen: list[tuple[int, int | None]] = []
        client.store_instances(items, progress=lambda done, total: seen.append((done, total)), **kw)
        return seen

    five = list(samples.synthetic_datasets(1, 1, 5, rows=8, columns=8, seed=1))
    assert calls(five, batch_size=2) == [(2, 5), (4, 5), (5, 5)]
    # A generator is read lazily: the total is known at the last call only.
    lazy = samples.synthetic_datasets(1, 1, 5, rows=8, columns=8, seed=2)
    assert calls(lazy, batch_size=2) == [(2, None), (4, None), (5, 5)]
    # Inputs that are not DICOM count as dealt with; the last call always finishes the count.
    three = [
        samples.to_bytes(ds)
        for ds in samples.synthetic_datasets(1, 1, 3, rows=8, columns=8, seed=3)
    ]
    mixed = [three[0], b"junk", three[1], three[2], b"more junk"]
    assert calls(mixed, batch_size=2) == [(3, 5), (5, 5)]
    assert calls([b"junk"]) == [(1, 1)]
    assert calls([]) == [(0, 0)]


def test_raise_on_conflict_409_raises_202_reports(
    client: DicomWebClient, tutorial_dir: Path
) -> None:
    blue, red = tutorial_dir / "blue-circle.dcm", tutorial_dir / "red-triangle.dcm"
    assert client.store_instances(blue, raise_on_conflict=True).status_code == 200
    # 409: nothing stored, so it raises, with the server's reason in the message.
    with pytest.raises(Conflict) as info:
        client.store_instances(blue, raise_on_conflict=True)
    assert info.value.status_code == 409 and "45070" in str(info.value)
    # 202: some stored; that is a result (with the failure in it), never an error.
    partial = client.store_instances([blue, red], raise_on_conflict=True)
    assert partial.status_code == 202
    assert [(i.index, i.status, i.reason) for i in sorted(partial.instances, key=_by_index)] == [
        (0, "failed", 45070),
        (1, "stored", None),
    ]
    # A 409 in a later request raises after the earlier requests were stored.
    green = tutorial_dir / "green-square.dcm"
    with pytest.raises(Conflict):
        client.store_instances([green, blue], batch_size=1, raise_on_conflict=True)
    assert len(client.search_for_instances(S, SE_GR)) == 2


def _by_index(outcome: InstanceOutcome) -> int:
    assert outcome.index is not None
    return outcome.index


def test_store_outcomes_carry_their_input_index(
    client: DicomWebClient, tutorial_dir: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not DICOM")
    mf = samples.multiframe_dataset(2)
    extra = next(samples.synthetic_datasets(1, 1, 1, rows=8, columns=8, seed=4))
    # The folder's three files are inputs 0..2, in name order: blue, green, red.
    items = [tutorial_dir, junk, samples.to_bytes(mf), b"hello", extra]
    expected = {
        0: ("stored", I_B),
        1: ("stored", I_G),
        2: ("stored", I_R),
        3: ("skipped", None),
        4: ("stored", mf.SOPInstanceUID),
        5: ("skipped", None),
        6: ("stored", extra.SOPInstanceUID),
    }
    result = client.store_instances(items, batch_size=2)
    # Listed as they become known (skipped inputs at once), so not in input order...
    assert [i.index for i in result.instances] != sorted(_by_index(i) for i in result.instances)
    # ...but each outcome names its input.
    by_index = {i.index: (i.status, i.sop_instance_uid) for i in result.instances}
    assert by_index == expected
    assert [i.source for i in sorted(result.instances, key=_by_index)][:4] == [
        str(tutorial_dir / n) for n in ("blue-circle.dcm", "green-square.dcm", "red-triangle.dcm")
    ] + [str(junk)]
    # Failures too: every instance is refused the second time, in 409 answers.
    again = client.store_instances(items, batch_size=2)
    assert again.status_codes == [409, 409, 409]
    assert {i.index: i.status for i in again.instances} == {
        n: "failed" if status == "stored" else "skipped" for n, (status, _) in expected.items()
    }
    assert {i.reason for i in again.failed if i.status == "failed"} == {45070}
    # The same instance twice in one request: its two answers go to its two inputs in order.
    fresh = samples.to_bytes(next(samples.synthetic_datasets(1, 1, 1, rows=8, columns=8, seed=5)))
    twice = client.store_instances([b"junk", fresh] * 2)
    assert sorted((i.index, i.status) for i in twice.instances) == [
        (0, "skipped"),
        (1, "stored"),
        (2, "skipped"),
        (3, "failed"),
    ]
    single = client.store_instance_single(extra)
    assert [(i.index, i.reason) for i in single.instances] == [(0, 45070)]


def test_store_instance_single(client: DicomWebClient, tutorial_dir: Path) -> None:
    assert client.store_instance_single(tutorial_dir / "blue-circle.dcm").status_code == 200
    again = client.store_instance_single(tutorial_dir / "blue-circle.dcm")
    assert again.status_code == 409 and again.failed[0].reason == 45070
    with pytest.raises(InvalidInput, match="not a DICOM"):
        client.store_instance_single(b"hello")


def test_store_body_is_streamed_with_a_length(client: DicomWebClient, tutorial_dir: Path) -> None:
    seen: list[requests.PreparedRequest] = []
    client.session._http.hooks["response"].append(lambda r, *_a, **_k: seen.append(r.request))
    client.store_instances(tutorial_dir)
    [request] = seen
    assert int(request.headers["Content-Length"]) > 3 * 979 * 985 * 3
    assert "Transfer-Encoding" not in request.headers
    assert not isinstance(request.body, bytes)  # a generator, read as it is sent
    assert request.headers["Content-Type"].startswith('multipart/related; type="application/dicom"')


def test_search(loaded: DicomWebClient) -> None:
    studies = loaded.search_for_studies(
        {"PatientID": "ID1"}, fields=["NumberOfStudyRelatedInstances"]
    )
    assert studies.level == "study"
    assert studies[0]["00201208"]["Value"] == [3]
    assert loaded.search_for_studies({"PatientName": "anon"}, fuzzymatching=True)
    assert loaded.search_for_studies({"StudyDate": ("20200101", None)})
    assert loaded.search_for_studies({"StudyDate": ("20210101", "20211231")}) == []
    assert loaded.search_for_studies({"00100020": "nobody"}) == []
    assert len(loaded.search_for_series(S)) == 2
    assert len(loaded.search_for_instances(S, SE_GR)) == 2
    assert len(loaded.search_for_instances(search_filters={"SOPInstanceUID": [I_R, I_B]})) == 2
    paged = loaded.search_for_instances(limit=1, get_remaining=True)
    assert sorted(i["00080018"]["Value"][0] for i in paged) == sorted([I_R, I_G, I_B])
    with pytest.raises(InvalidInput, match="NotAKeyword"):
        loaded.search_for_studies({"NotAKeyword": "x"})


def test_retrieve(loaded: DicomWebClient, tmp_path: Path) -> None:
    study = loaded.retrieve_study(S)
    assert {ds.SOPInstanceUID for ds in study} == {I_R, I_G, I_B}
    assert [ds.SOPInstanceUID for ds in loaded.iter_series(S, SE_B)] == [I_B]
    ds = loaded.retrieve_instance(S, SE_GR, I_R)
    assert tuple(ds.pixel_array[489, 492]) == samples.COLOURS["red-triangle.dcm"]
    files = loaded.save_study(S, tmp_path / "out")
    assert sorted(p.name for p in files) == sorted(f"{u}.dcm" for u in (I_R, I_G, I_B))
    assert pydicom.dcmread(tmp_path / "out" / SE_B / f"{I_B}.dcm").ImageComments.endswith("Circle")
    assert len(loaded.save_series(S, SE_GR, tmp_path / "series")) == 2


def test_iter_study_datasets_outlive_the_response(client: DicomWebClient, tmp_path: Path) -> None:
    # 0.5 MB instances in 1 MiB chunks: parts start and end mid-chunk and straddle chunks.
    datasets = list(samples.synthetic_datasets(1, 1, 5, rows=512, columns=512, seed=3))
    client.store_instances(datasets)
    kept = list(client.iter_study(datasets[0].StudyInstanceUID))  # the response is closed
    assert len(kept) == 5
    for original in datasets:
        [ds] = [d for d in kept if d.SOPInstanceUID == original.SOPInstanceUID]
        assert ds.PixelData == original.PixelData
        assert (ds.pixel_array == original.pixel_array).all()
        ds.save_as(tmp_path / "copy.dcm", enforce_file_format=True)
        again = pydicom.dcmread(tmp_path / "copy.dcm")
        assert again.PixelData == original.PixelData and again.PatientName == original.PatientName


def test_metadata_reuses_etag(loaded: DicomWebClient) -> None:
    seen: list[int] = []
    loaded.session._http.hooks["response"].append(lambda r, *_a, **_k: seen.append(r.status_code))
    first = loaded.retrieve_study_metadata(S)
    second = loaded.retrieve_study_metadata(S)
    assert seen == [200, 304] and first == second and len(first) == 3
    meta = loaded.retrieve_instance_metadata(S, SE_GR, I_G)
    assert meta["00080018"]["Value"] == [I_G]
    assert len(loaded.retrieve_series_metadata(S, SE_GR)) == 2


def test_frames_and_rendered(loaded: DicomWebClient) -> None:
    [frame] = loaded.retrieve_instance_frames(S, SE_GR, I_G)
    assert len(frame) == 979 * 985 * 3
    arrays, _ = loaded.retrieve_instance_frame_arrays(S, SE_GR, I_G)
    assert arrays[0].shape == (979, 985, 3)
    assert tuple(arrays[0][489, 492]) == samples.COLOURS["green-square.dcm"]
    png = loaded.retrieve_instance_rendered(S, SE_B, I_B)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    jpeg = loaded.retrieve_instance_frames_rendered(
        S, SE_B, I_B, 1, media_type="image/jpeg", quality=20
    )
    assert jpeg[:2] == b"\xff\xd8"
    with pytest.raises(NotFound):
        loaded.retrieve_instance_frames(S, SE_B, I_B, [2])
    with pytest.raises(InvalidInput):
        loaded.retrieve_instance_frames(S, SE_B, I_B, [0])
    with pytest.raises(NotAcceptable, match="transfer_syntax='\\*'"):
        loaded.retrieve_instance_frames(S, SE_B, I_B, transfer_syntax="1.2.840.10008.1.2.4.50")
    mf = samples.multiframe_dataset(5)
    loaded.store_instances(mf)
    arrays, _ = loaded.retrieve_instance_frame_arrays(
        mf.StudyInstanceUID, mf.SeriesInstanceUID, mf.SOPInstanceUID, [2, 5]
    )
    assert [int(a[0, 0]) for a in arrays] == [200, 500]


def test_delete_and_changes(loaded: DicomWebClient) -> None:
    loaded.delete_instance(S, SE_GR, I_R)
    with pytest.raises(NotFound) as info:
        loaded.delete_instance(S, SE_GR, I_R)
    assert info.value.status_code == 404 and isinstance(info.value, LookupError)
    loaded.delete_series(S, SE_GR)
    loaded.delete_study(S)
    assert loaded.search_for_studies() == []
    changes = list(loaded.iter_changes(page_size=2))
    assert [c["action"] for c in changes] == ["create"] * 3 + ["delete"] * 3
    assert {c["state"] for c in changes} == {"deleted"}


def test_streaming_save_keeps_memory_flat(client: DicomWebClient, tmp_path: Path) -> None:
    datasets = list(samples.synthetic_datasets(1, 1, 100, rows=512, columns=512))
    client.store_instances(datasets)
    study = datasets[0].StudyInstanceUID
    total = sum(len(samples.to_bytes(ds)) for ds in datasets)
    del datasets
    tracemalloc.start()
    files = client.save_study(study, tmp_path / "big")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(files) == 100 and sum(p.stat().st_size for p in files) == total
    assert peak < total / 5, (peak, total)  # a few chunks at a time, not the study


# Cut inside the file meta or the character set, pydicom warns of the values it reads short; in
# use a head is 64 KiB or the whole part, so that is no cut of a whole file.
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_uids_are_read_from_a_part_head_only_when_it_holds_them_whole() -> None:
    ds = next(samples.synthetic_datasets(1, 1, 1, rows=16, columns=16))
    data = samples.to_bytes(ds)
    expected = (ds.SeriesInstanceUID, ds.SOPInstanceUID)
    found = [n for n in range(len(data) + 1) if _uids_in(data[:n]) is not None]
    assert found and found == list(range(found[0], len(data) + 1))  # from a point on, always
    assert all(_uids_in(data[:n]) == expected for n in found)
    del ds.PixelData  # nothing after the UIDs but a few elements: still found
    assert _uids_in(samples.to_bytes(ds)) == expected


def test_save_names_files_whatever_their_first_bytes(
    client: DicomWebClient, tmp_path: Path
) -> None:
    # A private element larger than the bytes kept from a part's start comes before the
    # Series Instance UID: the name is read from the file instead.
    big = next(samples.synthetic_datasets(1, 1, 1, seed=7))
    big.add_new(0x00090010, "LO", "TEST")
    big.add_new(0x00091001, "OB", b"\0" * 200_000)
    small = next(samples.synthetic_datasets(1, 1, 1, seed=8))
    small.StudyInstanceUID = big.StudyInstanceUID
    client.store_instances([big, small])
    files = client.save_study(big.StudyInstanceUID, tmp_path)
    assert sorted(files) == sorted(
        tmp_path / ds.SeriesInstanceUID / f"{ds.SOPInstanceUID}.dcm" for ds in (big, small)
    )
    assert list(tmp_path.rglob("*.part")) == []
    assert (
        pydicom.dcmread(tmp_path / big.SeriesInstanceUID / f"{big.SOPInstanceUID}.dcm")[
            0x00091001
        ].value
        == b"\0" * 200_000
    )


def _response(content_type: str, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code, response.url = 200, "http://server/studies/1"
    response.headers["Content-Type"] = content_type
    response.raw = io.BytesIO(body)
    return response


def test_save_parts_single_instance_and_not_dicom(tmp_path: Path) -> None:
    ds = next(samples.synthetic_datasets(1, 1, 1, seed=4))
    data = samples.to_bytes(ds)
    [single] = save_parts(_response("application/dicom", data), tmp_path)
    assert single == tmp_path / ds.SeriesInstanceUID / f"{ds.SOPInstanceUID}.dcm"
    assert single.read_bytes() == data
    body = b"".join(
        multipart.iter_message(
            [multipart.BodyPart("application/dicom", None, lambda: [b"not DICOM"])], "bb"
        )
    )
    [other] = save_parts(_response("multipart/related; boundary=bb", body), tmp_path)
    assert other.parent == tmp_path and other.suffix == ".dcm"  # named like its temp file
    assert other.read_bytes() == b"not DICOM"
    assert list(tmp_path.rglob("*.part")) == []


@pytest.mark.parametrize("series", ["../../escaped", "/tmp/escaped", "1.2.3/../../x", "..", "1.2."])
def test_save_parts_names_files_only_from_real_uids(tmp_path: Path, series: str) -> None:
    # A hostile server's "UID" must not become a path outside the folder: the file is named
    # like its temp file instead. Both ways of reading the UIDs are checked: from the part's
    # first bytes, and from the file when the header is longer than those bytes.
    folder = tmp_path / "out"
    folder.mkdir()
    for padding in (0, 100_000):
        ds = next(samples.synthetic_datasets(1, 1, 1, rows=8, columns=8, seed=4))
        ds.SeriesInstanceUID = series
        if padding:
            ds.ImageComments = "x" * padding  # header longer than the bytes read up front
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = samples.to_bytes(ds)
        [saved] = save_parts(_response("application/dicom", data), folder)
        assert saved.parent == folder and saved.read_bytes() == data
    assert [p for p in tmp_path.rglob("*") if not p.is_relative_to(folder)] == []
    assert len(list(folder.iterdir())) == 2  # both files, and no folder made from the "UID"
    assert not Path("/tmp/escaped").exists()


def test_token_auth_refreshes_and_stays_secret(tmp_path: Path) -> None:
    calls: list[int] = []

    def token() -> str:
        calls.append(1)
        return "s3cret"

    with LocalServer(tmp_path, token="s3cret") as server:
        with DicomWebClient(server.url, token=token) as client:
            assert client.search_for_studies() == []
            assert client.search_for_series() == []
            assert len(calls) == 2
            assert "s3cret" not in repr(client) and "s3cret" not in repr(client.session._http.auth)
        with (
            DicomWebClient(server.url, token="wrong") as client,
            pytest.raises(Unauthorized) as info,
        ):
            client.search_for_studies()
        assert "wrong" not in str(info.value) and "token" in str(info.value)


def test_connection_errors_and_bad_urls() -> None:
    with pytest.raises(InvalidInput, match="not a DICOMweb base URL"):
        DicomWebClient("localhost:8080")
    with (
        DicomWebClient("http://127.0.0.1:9/v1", retries=0, timeout=2) as client,
        pytest.raises(ConnectionFailed, match="Is the server running"),
    ):
        client.search_for_studies()
    with pytest.warns(DicomWebWarning, match="TLS"):
        DicomWebClient("https://127.0.0.1:9/v1", verify=False)


def _answer_no_matches(handler: http.server.BaseHTTPRequestHandler) -> None:
    body = b"[]"
    handler.send_response(200)
    handler.send_header("Content-Type", "application/dicom+json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _Flaky(http.server.BaseHTTPRequestHandler):
    """Answers 503 (then 429) with Retry-After before 200: faults our server can't make on demand."""

    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        if self.hits <= 2:
            self.send_response(503 if self.hits == 1 else 429)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        _answer_no_matches(self)

    def log_message(self, *args: object) -> None:
        pass


def test_retries_on_503_and_429() -> None:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        client = DicomWebClient(f"http://127.0.0.1:{httpd.server_port}/v1")
        assert client.search_for_studies() == []
        assert _Flaky.hits == 3
    finally:
        httpd.shutdown()


class _Proxy(http.server.BaseHTTPRequestHandler):
    """A forward proxy that answers every GET itself, recording the URLs it was asked for."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        _answer_no_matches(self)

    def log_message(self, *args: object) -> None:
        pass


def test_proxy_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{httpd.server_port}")
        # Nothing listens on port 9: only the proxy can answer.
        client = DicomWebClient("http://127.0.0.1:9/v1", retries=0, timeout=5)
        assert client.search_for_studies() == [] and client.search_for_series() == []
        assert _Proxy.seen == ["http://127.0.0.1:9/v1/studies", "http://127.0.0.1:9/v1/series"]
        # Read when a session first talks to the server, not again for every request.
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert client.search_for_studies() == []
        assert len(_Proxy.seen) == 3
        with pytest.raises(ConnectionFailed):
            DicomWebClient("http://127.0.0.1:9/v1", retries=0, timeout=5).search_for_studies()
    finally:
        httpd.shutdown()


def test_empty_search_forms() -> None:
    from dicomweb_nb.client.search import _json_list

    for status, body in ((204, b""), (200, b"[]"), (200, b"  ")):
        response = requests.Response()
        response.status_code, response._content = status, body
        assert _json_list(response) == []


def test_streamed_body_reads_in_blocks_uncopied() -> None:
    big = bytes(range(256)) * 40
    chunks = [b"head", b"", big, b"tail"]
    body = _StreamedBody(sum(map(len, chunks)), chunks)
    assert body.len == len(big) + 8
    pieces = []
    while piece := body.read(4096):
        assert len(piece) <= 4096
        pieces.append(bytes(piece))
    assert b"".join(pieces) == b"head" + big + b"tail"
    assert [len(p) for p in pieces] == [4, 4096, 4096, 2048, 4]
    rest = _StreamedBody(10, [b"ab", b"cd"])
    assert bytes(rest.read(1)) == b"a" and rest.read() == b"bcd" and rest.read(5) == b""


def _outcome(identify: Callable[[Path], object], path: Path) -> object:
    try:
        return identify(path)
    except Exception as exc:
        return type(exc), str(exc)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom on the cut files, both ways alike
def test_files_are_identified_from_their_head_as_from_the_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = next(samples.synthetic_datasets(1, 1, 1, rows=64, columns=64))
    data = samples.to_bytes(ds)
    big = next(samples.synthetic_datasets(1, 1, 1, rows=64, columns=64, seed=2))
    big.add_new(0x00090010, "LO", "TEST")
    big.add_new(0x00091001, "OB", b"\0" * 100_000)  # the header is larger than the head read
    del ds.PixelData
    cases = {
        "image": data,
        "big-header": samples.to_bytes(big),
        "no-pixels": samples.to_bytes(ds),
        "empty": b"",
        "text": b"not DICOM" * 100,
        "no-file-meta": data[:128] + b"DICM" + data[300:],
    }
    cases.update({f"cut-{n}": data[:n] for n in range(0, 2000, 37)})
    for name, content in cases.items():
        path = tmp_path / f"{name}.dcm"
        path.write_bytes(content)
        assert _outcome(sources._identify_file, path) == _outcome(sources._identify, path), name
    read_whole: list[Path] = []
    monkeypatch.setattr(sources, "_identify", lambda path: read_whole.append(path) or (None, None))
    assert sources._identify_file(tmp_path / "image.dcm") == (ds.SOPInstanceUID, ds.SOPClassUID)
    assert sources._identify_file(tmp_path / "no-pixels.dcm") == (ds.SOPInstanceUID, ds.SOPClassUID)
    sources._identify_file(tmp_path / "big-header.dcm")
    assert read_whole == [tmp_path / "big-header.dcm"]  # only it needed the file read again


class _BrokenOff(http.server.BaseHTTPRequestHandler):
    """Sends the start of a study's multipart answer, then hangs up: a server that died mid-answer.

    ``chunked`` is set per test: the answer is chunked, or promises a Content-Length it never
    fills. ``stall``: seconds to wait silently before hanging up.
    """

    chunked = True
    stall = 0.0
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        start = (
            b"--b\r\nContent-Type: application/dicom\r\n\r\n" + bytes(128) + b"DICM" + bytes(5000)
        )
        content_type = 'multipart/related; type="application/dicom"; boundary=b'
        if self.path.endswith("/studies"):  # a search: JSON, read whole before it is returned
            start, content_type = (
                b'[{"0020000D": {"vr": "UI", "Value": ["1.2',
                "application/dicom+json",
            )
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if self.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n" % (len(start) + 1000) + start)  # the chunk never ends
        else:
            self.send_header("Content-Length", str(len(start) + 100_000))
            self.end_headers()
            self.wfile.write(start)
        self.wfile.flush()
        if self.stall:
            time.sleep(self.stall)  # then hang up, long after the client gave up
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
@pytest.mark.parametrize("call", ["iter_study", "save_study", "search_for_studies"])
def test_an_answer_that_breaks_off_is_a_protocol_error(
    chunked: bool, call: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: requests' ChunkedEncodingError came through, not the documented ProtocolError.
    monkeypatch.setattr(_BrokenOff, "chunked", chunked)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BrokenOff)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        client = DicomWebClient(f"http://127.0.0.1:{httpd.server_port}/v1", retries=0, timeout=5)
        with pytest.raises(ProtocolError, match="broke off before its end") as caught:
            if call == "iter_study":
                list(client.iter_study("1.2.3"))
            elif call == "save_study":
                client.save_study("1.2.3", tmp_path)
            else:
                client.search_for_studies()
        studies = f"http://127.0.0.1:{httpd.server_port}/v1/studies"
        assert str(caught.value).startswith(
            f"GET {studies}:" if call == "search_for_studies" else f"{studies}/1.2.3:"
        )
        assert isinstance(caught.value.__cause__, requests.exceptions.ChunkedEncodingError)
        assert list(tmp_path.rglob("*")) == []  # nothing half-written is left behind
    finally:
        httpd.shutdown()


def test_an_answer_that_stalls_mid_way_is_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    # A streamed body that stops arriving: requests' ConnectionError (its read timeout) came
    # through before; now the client's Timeout, saying what to do.
    monkeypatch.setattr(_BrokenOff, "stall", 3.0)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BrokenOff)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        client = DicomWebClient(f"http://127.0.0.1:{httpd.server_port}/v1", retries=0, timeout=1)
        with pytest.raises(Timeout, match=r"stopped arriving mid-way.*raise timeout="):
            list(client.iter_study("1.2.3"))
    finally:
        httpd.shutdown()
