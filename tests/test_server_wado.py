"""WADO-RS on the embedded server: negotiation, transcoding, frames, rendered, metadata ETags."""

from __future__ import annotations

import io
import socket
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
import requests
import requests_toolbelt as tb
from PIL import Image

from dicomweb_nb import samples
from dicomweb_nb.server.local import LocalServer

from .helpers import JSON, read_response, stow

ELE = "1.2.840.10008.1.2.1"
J2K = "1.2.840.10008.1.2.4.90"
RLE = "1.2.840.10008.1.2.5"


@pytest.fixture()
def mf(server: LocalServer) -> dict[str, str]:
    """A 10-frame instance stored as is, plus its RLE copy."""
    ds = samples.multiframe_dataset(frames=10)
    rle = samples.compressed(ds, RLE)
    r = stow(server.url, [samples.to_bytes(ds), samples.to_bytes(rle)])
    assert r.status_code == 200, r.text
    base = f"{server.url}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances"
    return {
        "native": f"{base}/{ds.SOPInstanceUID}",
        "rle": f"{base}/{rle.SOPInstanceUID}",
        "study": f"{server.url}/studies/{ds.StudyInstanceUID}",
    }


def _frame_id(frame: bytes) -> int:
    """The multiframe sample's rule: frame k's first pixel is k * 100 (16-bit unsigned)."""
    return int(np.frombuffer(frame[:2], "<u2")[0])


def test_unknown_ids_are_404(server: LocalServer) -> None:
    assert requests.get(f"{server.url}/studies/1.2.3", headers={"Accept": "*/*"}).status_code == 404
    assert requests.get(f"{server.url}/studies/1.2.3/metadata", headers=JSON).status_code == 404
    r = requests.get(f"{server.url}/studies/1.2.x/metadata", headers=JSON)
    assert r.status_code == 400


def test_instance_as_stored_and_transcoded(mf: dict[str, str]) -> None:
    r = requests.get(mf["rle"], headers={"Accept": "application/dicom; transfer-syntax=*"})
    assert r.headers["content-type"] == f"application/dicom; transfer-syntax={RLE}"
    assert pydicom.dcmread(io.BytesIO(r.content)).file_meta.TransferSyntaxUID == RLE
    # application/dicom without transfer-syntax means explicit VR little endian: transcoded.
    r = requests.get(mf["rle"], headers={"Accept": "application/dicom"})
    assert r.status_code == 200
    assert r.headers["content-type"] == f"application/dicom; transfer-syntax={ELE}"
    ds = pydicom.dcmread(io.BytesIO(r.content))
    assert ds.file_meta.TransferSyntaxUID == ELE
    assert [int(ds.pixel_array[k, 0, 0]) for k in range(10)] == [100 * (k + 1) for k in range(10)]
    r = requests.get(mf["native"], headers={"Accept": f"application/dicom; transfer-syntax={J2K}"})
    assert r.status_code == 200
    j2k = pydicom.dcmread(io.BytesIO(r.content))
    assert j2k.file_meta.TransferSyntaxUID == J2K
    assert int(j2k.pixel_array[3, 0, 0]) == 400
    # Anything else is 406.
    r = requests.get(
        mf["native"],
        headers={"Accept": "application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50"},
    )
    assert r.status_code == 406
    assert "1.2.840.10008.1.2.4.50" in r.text


def test_study_multipart_forms(mf: dict[str, str]) -> None:
    for accept, syntaxes in [
        ('multipart/related; type="application/dicom"; transfer-syntax=*', {ELE, RLE}),
        ("*/*", {ELE, RLE}),
        (
            'multipart/related; type="application/dicom"',
            {ELE},
        ),  # superset: each instance transcoded
    ]:
        r = requests.get(mf["study"], headers={"Accept": accept})
        assert r.status_code == 200, (accept, r.text)
        assert r.headers["content-type"].startswith("multipart/related; boundary=")
        parts = tb.MultipartDecoder.from_response(r).parts
        assert len(parts) == 2
        seen = {p.headers[b"content-type"].decode().split("transfer-syntax=")[1] for p in parts}
        assert seen == syntaxes, accept
    r = requests.get(mf["study"], headers={"Accept": "application/dicom"})
    assert r.status_code == 406


def test_frames(mf: dict[str, str]) -> None:
    multi = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
    for which in ("native", "rle"):
        r = requests.get(
            f"{mf[which]}/frames/2,5,10",
            headers={"Accept": 'multipart/related; type="application/octet-stream"'},
        )
        assert r.status_code == 200, r.text
        parts = tb.MultipartDecoder.from_response(r).parts
        assert [_frame_id(p.content) for p in parts] == [200, 500, 1000]
        assert all(len(p.content) == 64 * 64 * 2 for p in parts)
    r = requests.get(f"{mf['rle']}/frames/1", headers={"Accept": multi})
    [part] = tb.MultipartDecoder.from_response(r).parts
    assert (
        part.headers[b"content-type"] == f"application/octet-stream; transfer-syntax={RLE}".encode()
    )
    r = requests.get(f"{mf['native']}/frames/3", headers={"Accept": "application/octet-stream"})
    assert r.status_code == 200 and _frame_id(r.content) == 300
    r = requests.get(f"{mf['native']}/frames/1,2", headers={"Accept": "application/octet-stream"})
    assert r.status_code == 400
    r = requests.get(
        f"{mf['native']}/frames/4", headers={"Accept": 'multipart/related; type="image/jp2"'}
    )
    assert r.status_code == 200
    [part] = tb.MultipartDecoder.from_response(r).parts
    assert part.content[:4] in (b"\xff\x4f\xff\x51", b"\x00\x00\x00\x0c")  # J2K codestream or JP2
    assert requests.get(f"{mf['native']}/frames/11", headers={"Accept": multi}).status_code == 404
    assert requests.get(f"{mf['native']}/frames/0", headers={"Accept": multi}).status_code == 400
    assert requests.get(f"{mf['native']}/frames/-1", headers={"Accept": multi}).status_code == 400
    r = requests.get(
        f"{mf['native']}/frames/1",
        headers={
            "Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.4.50'
        },
    )
    assert r.status_code == 406


def test_rendered(server: LocalServer, tutorial_dir) -> None:
    raw = (tutorial_dir / "blue-circle.dcm").read_bytes()
    assert stow(server.url, [raw]).status_code == 200
    url = (
        f"{server.url}/studies/{samples.STUDY_UID}/series/{samples.SERIES_UID_BLUE}"
        f"/instances/{samples.INSTANCE_UID_BLUE}"
    )
    r = requests.get(f"{url}/rendered", headers={"Accept": "image/png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    image = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
    assert tuple(image[489, 492]) == samples.COLOURS["blue-circle.dcm"]
    assert tuple(image[5, 5]) == samples.BACKGROUND
    r = requests.get(f"{url}/frames/1/rendered", headers={"Accept": None})
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    small = requests.get(f"{url}/rendered", params={"quality": 5}, headers={"Accept": "image/jpeg"})
    large = requests.get(
        f"{url}/rendered", params={"quality": 100}, headers={"Accept": "image/jpeg"}
    )
    assert len(small.content) < len(large.content)
    # */* (a browser's default) is PS3.18's default type, JPEG: beyond the reference's 406.
    r = requests.get(f"{url}/rendered", headers={"Accept": "*/*"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content[:3] == b"\xff\xd8\xff"
    r = requests.get(f"{url}/rendered", headers={"Accept": "image/png, image/jpeg"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert requests.get(f"{url}/rendered", headers={"Accept": "image/gif"}).status_code == 406
    for quality in ("0", "101", "high"):
        r = requests.get(
            f"{url}/rendered", params={"quality": quality}, headers={"Accept": "image/jpeg"}
        )
        assert r.status_code == 400
    assert (
        requests.get(f"{url}/frames/0/rendered", headers={"Accept": "image/png"}).status_code == 400
    )
    assert (
        requests.get(f"{url}/frames/2/rendered", headers={"Accept": "image/png"}).status_code == 404
    )


def test_metadata_etag(server: LocalServer, tutorial_dir) -> None:
    green, red = (
        (tutorial_dir / "green-square.dcm").read_bytes(),
        (tutorial_dir / "red-triangle.dcm").read_bytes(),
    )
    assert stow(server.url, [green]).status_code == 200
    url = f"{server.url}/studies/{samples.STUDY_UID}/metadata"
    r = requests.get(url, headers=JSON)
    etag = r.headers["etag"]
    assert r.status_code == 200 and len(r.json()) == 1 and not etag.startswith('"')
    r = requests.get(url, headers={**JSON, "If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    assert stow(server.url, [red]).status_code == 200
    r = requests.get(url, headers={**JSON, "If-None-Match": etag})
    assert r.status_code == 200 and len(r.json()) == 2 and r.headers["etag"] != etag
    inst = (
        f"{server.url}/studies/{samples.STUDY_UID}/series/{samples.SERIES_UID_GREEN_RED}"
        f"/instances/{samples.INSTANCE_UID_RED}/metadata"
    )
    r = requests.get(inst, headers=JSON)
    assert "-" not in r.headers["etag"]
    assert requests.get(url, headers={"Accept": "application/dicom"}).status_code == 406


def _read_slowly(host: str, port: int, target: str, accept: str) -> tuple[str, bytes]:
    # A client that reads nothing for a while, then through a small window: the socket buffer
    # fills and the event loop holds on to what it could not write yet.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        sock.connect((host, port))
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: {accept}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        time.sleep(0.5)
        status, headers, body = read_response(sock, timeout=30)
    assert status.startswith("HTTP/1.1 200"), status
    return headers["content-type"], body


def test_a_slow_reader_gets_every_byte_of_a_study(server: LocalServer, tutorial_dir: Path) -> None:
    # Bodies go out in 1 MiB blocks; a block still queued for the socket must never be
    # overwritten by the next one (uvloop keeps the buffer it is given instead of copying it:
    # with a reused block, every such retrieve of the tutorial's study came back corrupt).
    paths = sorted(tutorial_dir.glob("*.dcm"))
    stored = {pydicom.dcmread(p).SOPInstanceUID: p.read_bytes() for p in paths}
    r = stow(server.url, list(stored.values()))
    assert r.status_code == 200, r.text
    target = f"/v1/studies/{pydicom.dcmread(paths[0]).StudyInstanceUID}"
    for _ in range(2):
        content_type, body = _read_slowly(
            server.host,
            server.port,
            target,
            'multipart/related; type="application/dicom"; transfer-syntax=*',
        )
        parts = tb.MultipartDecoder(body, content_type).parts
        got = {pydicom.dcmread(io.BytesIO(p.content)).SOPInstanceUID: p.content for p in parts}
        assert sorted(got) == sorted(stored)
        for uid, original in stored.items():
            assert got[uid] == bytes(128) + original[128:], uid
