"""Instances that could not be served are refused at store time; codec failures are a clean 406.

Before: Pixel Data without Rows was stored and /frames/1 was a 500; a TransferSyntaxUID with a NUL
byte was stored and every retrieve of it dropped the connection; crafted RLE data made the Rust
decoder panic (pyo3's PanicException, a BaseException) past ``except Exception`` into uvicorn's bare
500 with a backtrace. The failure comments follow the reference's form, ``DICOM{ErrorNumber}:
{tag} - {message}`` (DicomCoreResource.resx ErrorMessageFormat; MissingRequiredTag "The required tag
'{0}' is missing.") with reason 43264 (FailureReasonCodes.ValidationFailure).
"""

from __future__ import annotations

import io
import struct
from typing import Any

import pydicom
import pytest
import requests
from pydicom.encaps import encapsulate
from pydicom.uid import RLELossless

from dicomweb_nb import LocalServer
from dicomweb_nb.protocol.uids import is_valid_uid
from dicomweb_nb.server.codec import TranscodeError, codec_boundary

from .helpers import JSON, failure_reasons, make_instance, stow

STUDY, SERIES = "1.2.826.0.1.3680043.8.498.1", "1.2.826.0.1.3680043.8.498.1.1"


def _comment(r: requests.Response) -> str:
    item = r.json()["00081198"]["Value"][0]
    text: str = item["00741048"]["Value"][0]["00000902"]["Value"][0]
    return text


def _without(keyword: str, sop: str, **attrs: Any) -> bytes:
    ds = pydicom.dcmread(io.BytesIO(make_instance(STUDY, SERIES, sop, **attrs)))
    delattr(ds, keyword)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("keyword", "tag"),
    [
        ("Rows", "(0028,0010)"),
        ("Columns", "(0028,0011)"),
        ("BitsAllocated", "(0028,0100)"),
        ("SamplesPerPixel", "(0028,0002)"),
        ("PhotometricInterpretation", "(0028,0004)"),
    ],
)
def test_pixel_data_without_a_pixel_attribute_is_refused(
    server: LocalServer, keyword: str, tag: str
) -> None:
    sop = "1.2.826.0.1.3680043.8.498.1.1.7"
    r = stow(server.url, [_without(keyword, sop)])
    assert r.status_code == 409, r.text
    assert failure_reasons(r) == [43264]
    assert f"DICOM100: {tag} - The required tag '{keyword}' is missing" in _comment(r)
    frames = f"{server.url}/studies/{STUDY}/series/{SERIES}/instances/{sop}/frames/1"
    assert requests.get(frames, headers={"Accept": "*/*"}).status_code == 404


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ({"Rows": 0}, "(0028,0010) - Rows must be one positive integer"),
        ({"BitsAllocated": 12}, "(0028,0100) - BitsAllocated must be 1 or a multiple of 8"),
        ({"NumberOfFrames": 2}, "(7FE0,0010) - Pixel Data has 128 bytes"),
    ],
)
def test_pixel_attributes_that_do_not_fit_are_refused(
    server: LocalServer, attrs: dict[str, Any], expected: str
) -> None:
    r = stow(server.url, [make_instance(STUDY, SERIES, "1.2.826.0.1.3680043.8.498.1.1.8", **attrs)])
    assert r.status_code == 409, r.text
    assert failure_reasons(r) == [43264]
    assert expected in _comment(r)


def test_a_transfer_syntax_uid_with_a_nul_byte_is_refused(server: LocalServer) -> None:
    data = make_instance(STUDY, SERIES, "1.2.826.0.1.3680043.8.498.1.1.9")
    good = b"1.2.840.10008.1.2.1\x00"
    assert data.count(good) == 1
    r = stow(server.url, [data.replace(good, b"1.2.840.10008.1\x00.2.1")])
    assert r.status_code == 409, r.text
    assert failure_reasons(r) == [43264]
    assert "DICOM100: (0002,0010) - TransferSyntaxUID" in _comment(r)
    assert "\\x00" in _comment(r)  # shown escaped, never sent as a NUL
    # A UID with a final newline passed the old pattern ("$" matches before "\n").
    assert not is_valid_uid("1.2.840.10008.1.2.1\n")
    r = requests.get(f"{server.url}/studies/{STUDY}%0A/metadata", headers=JSON)
    assert r.status_code == 400


def _panicking_rle() -> bytes:
    # Two RLE segments whose runs overrun the 2×2 16-bit frame: pylibjpeg-rle 2.x panics
    # ("index out of bounds") instead of raising ValueError.
    header = struct.pack("<16L", 2, 64, 68, *[0] * 13)
    ds = pydicom.dcmread(
        io.BytesIO(make_instance(STUDY, SERIES, "1.2.826.0.1.3680043.8.498.1.1.11"))
    )
    ds.file_meta.TransferSyntaxUID = RLELossless
    ds.Rows = ds.Columns = 2
    ds.PixelData = encapsulate([header + b"M\x03\xfe2\xb1H"])
    ds["PixelData"].VR = "OB"
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def test_a_decoder_panic_is_a_clean_406(server: LocalServer) -> None:
    r = stow(server.url, [_panicking_rle()])
    assert r.status_code == 200, r.text
    url = f"{server.url}/studies/{STUDY}/series/{SERIES}/instances/1.2.826.0.1.3680043.8.498.1.1.11"
    for target, accept in [
        (f"{url}/frames/1", 'multipart/related; type="application/octet-stream"'),
        (f"{url}/frames/1", "application/octet-stream"),
        (f"{url}/rendered", "image/png"),
        (url, "application/dicom"),
    ]:
        answer = requests.get(target, headers={"Accept": accept}, timeout=60)
        assert answer.status_code == 406, (target, answer.status_code, answer.text)
        assert answer.headers["content-type"].startswith("text/plain")
        assert "PanicException" in answer.text and "panicked" not in answer.text.lower()
    # As stored, nothing is decoded: the instance is served as it was sent.
    as_stored = requests.get(url, headers={"Accept": "application/dicom; transfer-syntax=*"})
    assert as_stored.status_code == 200


class _Panic(BaseException):
    """Stands for pyo3's PanicException, which derives from BaseException."""


def test_the_codec_boundary_catches_base_exceptions_but_not_exits() -> None:
    with (
        pytest.raises(TranscodeError, match="_Panic: boom") as info,
        codec_boundary("Cannot decode"),
    ):
        raise _Panic("boom\nat src/lib.rs:1")
    assert info.value.status == 406 and "lib.rs" not in str(info.value)
    for passing in (KeyboardInterrupt, SystemExit, GeneratorExit):
        with pytest.raises(passing), codec_boundary("Cannot decode"):
            raise passing()


def test_instances_without_pixel_data_need_no_pixel_attributes(server: LocalServer) -> None:
    sop = "1.2.826.0.1.3680043.8.498.1.1.12"
    ds = pydicom.dcmread(io.BytesIO(make_instance(STUDY, SERIES, sop)))
    del ds.PixelData, ds.Rows
    data = io.BytesIO()
    ds.save_as(data, enforce_file_format=True)
    assert stow(server.url, [data.getvalue()]).status_code == 200


def test_a_part_cut_short_is_refused_with_the_element_it_cuts(tmp_path: Any) -> None:
    # Pixel Data is deferred (not read) at ingest: its length is checked against the file.
    from dicomweb_nb.server.ingest import InvalidInstance, parse_instance

    data = make_instance(STUDY, SERIES, "1.2.826.0.1.3680043.8.498.1.1.9")
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[:-10])
    with pytest.raises(InvalidInstance) as caught:
        parse_instance(path, "1")
    assert str(caught.value) == (
        f"The file is truncated: element (7FE0,0010) needs {len(data)} bytes "
        f"but the part has {len(data) - 10}."
    )
