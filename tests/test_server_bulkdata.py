"""Bulk data: BulkDataURI in metadata when the server is started with it, the bulkdata route, and
dicomweb-client's retrieve_bulkdata against both."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian, RLELossless, generate_uid

from dicomweb_nb import LocalServer, samples
from dicomweb_nb.server.bulkdata import BulkElement, bulk_vr, parse_path, with_uris
from dicomweb_nb.server.errors import RequestError

from .helpers import JSON, stow

ELE = "1.2.840.10008.1.2.1"


def _encode(ds: Dataset) -> bytes:
    if ds.file_meta.TransferSyntaxUID != ExplicitVRBigEndian:
        return samples.to_bytes(ds)
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, implicit_vr=False, little_endian=False, force_encoding=True)
    return buffer.getvalue()


def _instances(big_endian_ow: bool = False) -> list[Dataset]:
    """A CT slice with an icon (bulk pixel data inside a sequence) and private OB elements, its
    RLE copy, an implicit VR copy, a big-endian copy, and a 3-frame instance."""
    [ct] = list(samples.synthetic_datasets(1, 1, 1, rows=16, columns=16))
    icon = Dataset()
    icon.Rows, icon.Columns, icon.BitsAllocated = 2, 2, 8
    icon.SamplesPerPixel, icon.PhotometricInterpretation = 1, "MONOCHROME2"
    icon.BitsStored, icon.HighBit, icon.PixelRepresentation = 8, 7, 0
    icon.PixelData = bytes([1, 2, 3, 4])
    ct.IconImageSequence = [icon]
    ct.add_new(0x00091010, "LO", "dicomweb-nb test")
    ct.add_new(0x00091011, "OB", b"\x00\x01\x02\x03")
    ct.add_new(0x00091012, "OB", b"")
    variants = [ct, samples.compressed(ct, str(RLELossless))]
    for syntax in (ImplicitVRLittleEndian, ExplicitVRBigEndian):
        ds = copy.deepcopy(ct)
        ds.file_meta.TransferSyntaxUID = syntax
        if syntax == ExplicitVRBigEndian:
            ds.PixelData = ct.pixel_array.astype(">i2").tobytes()
            if big_endian_ow:
                ds.add_new(0x00091013, "OW", np.array([1, 2], ">u2").tobytes())
        variants.append(ds)
    for n, ds in enumerate(variants[1:], start=1):
        uid = generate_uid(entropy_srcs=[str(ct.SOPInstanceUID), str(n)])
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
    variants.append(samples.multiframe_dataset(frames=3))
    return variants


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer, list[Dataset]]]:
    instances = _instances()
    with LocalServer(tmp_path_factory.mktemp("bulk"), bulkdata_uris=True) as server:
        r = stow(server.url, [_encode(ds) for ds in instances])
        assert r.status_code == 200, r.text
        yield server, instances


def _url(server: LocalServer, ds: Dataset) -> str:
    return (
        f"{server.url}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"
        f"/instances/{ds.SOPInstanceUID}"
    )


def test_metadata_names_bulk_data(loaded: tuple[LocalServer, list[Dataset]]) -> None:
    server, instances = loaded
    ct = instances[0]
    r = requests.get(f"{_url(server, ct)}/metadata", headers=JSON)
    [meta] = r.json()
    assert r.headers["ETag"].endswith("-bulkdata")
    assert meta["7FE00010"] == {"vr": "OW", "BulkDataURI": f"{_url(server, ct)}/bulkdata/7FE00010"}
    assert meta["00091011"]["BulkDataURI"].endswith("/bulkdata/00091011")
    assert meta["00091012"] == {"vr": "OB"}  # empty: nothing to fetch
    [icon] = meta["00880200"]["Value"]
    assert icon["7FE00010"]["BulkDataURI"].endswith("/bulkdata/00880200/0/7FE00010")
    assert icon["00280010"]["Value"] == [2]  # the rest of the item is as stored
    assert list(meta) == sorted(meta)  # tag order kept
    # Implicit VR: the dictionary's "OB or OW" is named OW.
    [implicit] = requests.get(f"{_url(server, instances[2])}/metadata", headers=JSON).json()
    assert implicit["7FE00010"]["vr"] == "OW" and implicit["00091011"]["vr"] == "UN"


def test_reference_shape_by_default(server: LocalServer) -> None:
    [ct] = _instances()[:1]
    assert stow(server.url, [samples.to_bytes(ct)]).status_code == 200
    r = requests.get(f"{_url(server, ct)}/metadata", headers=JSON)
    [meta] = r.json()
    assert "7FE00010" not in meta and "00091011" not in meta
    assert "7FE00010" not in meta["00880200"]["Value"][0]
    assert "-" not in r.headers["ETag"]  # the reference's form: the watermark
    # The route is there all the same.
    r = requests.get(f"{_url(server, ct)}/bulkdata/00091011", headers={"Accept": "*/*"})
    assert r.status_code == 200


def test_dicomweb_client_retrieves_bulk_data(loaded: tuple[LocalServer, list[Dataset]]) -> None:
    server, instances = loaded
    client = DICOMwebClient(server.url)
    ct, rle, implicit, big, multi = instances
    pixels = ct.pixel_array.astype("<i2").tobytes()
    for ds in (ct, implicit, big):
        meta = client.retrieve_instance_metadata(
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID
        )
        assert client.retrieve_bulkdata(meta["7FE00010"]["BulkDataURI"]) == [pixels]
        assert client.retrieve_bulkdata(meta["00091011"]["BulkDataURI"]) == [b"\x00\x01\x02\x03"]
        icon_uri = meta["00880200"]["Value"][0]["7FE00010"]["BulkDataURI"]
        assert client.retrieve_bulkdata(icon_uri) == [bytes([1, 2, 3, 4])]
    # Encapsulated pixel data: one part per frame, as stored for the client's default Accept
    # (type="*/*"), decoded when little-endian octets are asked for.
    meta = client.retrieve_instance_metadata(
        rle.StudyInstanceUID, rle.SeriesInstanceUID, rle.SOPInstanceUID
    )
    uri = meta["7FE00010"]["BulkDataURI"]
    [stored] = client.retrieve_bulkdata(uri)
    assert stored != pixels and len(stored) < len(pixels) * 2
    assert client.retrieve_bulkdata(uri, media_types=(("application/octet-stream", ELE),)) == [
        pixels
    ]
    meta = client.retrieve_instance_metadata(
        multi.StudyInstanceUID, multi.SeriesInstanceUID, multi.SOPInstanceUID
    )
    [whole] = client.retrieve_bulkdata(meta["7FE00010"]["BulkDataURI"])
    assert whole == multi.PixelData  # native: the whole value, every frame


def test_bulkdata_route_answers(loaded: tuple[LocalServer, list[Dataset]]) -> None:
    server, instances = loaded
    url = f"{_url(server, instances[0])}/bulkdata"
    for accept in ("application/octet-stream", "*/*", None):  # no type named: the bytes
        r = requests.get(f"{url}/00091011", headers={"Accept": accept})
        assert r.status_code == 200 and r.content == b"\x00\x01\x02\x03"
        assert r.headers["Content-Type"] == "application/octet-stream"
    r = requests.get(f"{url}/00091011", headers={"Accept": 'multipart/related; type="*/*"'})
    assert r.headers["Content-Type"].startswith("multipart/related")
    multi = f"{_url(server, instances[4])}/bulkdata/7FE00010"
    r = requests.get(multi, headers={"Accept": 'multipart/related; type="image/jp2"'})
    assert r.status_code == 200 and r.content.count(b"Content-Type: image/jp2") == 3
    for path, status in [
        ("00100010", 404),  # PatientName: in the metadata, not bulk data
        ("00091099", 404),  # absent
        ("00880200/1/7FE00010", 404),  # no second item
        ("00880200/x/7FE00010", 400),
        ("7FE0", 400),
    ]:
        r = requests.get(f"{url}/{path}")
        assert r.status_code == status, (path, r.text)
    r = requests.get(f"{url}/00091011", headers={"Accept": 'multipart/related; type="image/jp2"'})
    assert r.status_code == 406 and "only Pixel Data" in r.text
    missing = f"{server.url}/studies/1.2/series/3/instances/4/bulkdata/7FE00010"
    assert requests.get(missing, headers={"Accept": "*/*"}).status_code == 404


def test_bulk_vr_and_paths() -> None:
    assert bulk_vr("OW") == "OW" and bulk_vr("UN") == "UN"
    assert bulk_vr("OB or OW") == "OW" and bulk_vr("US or OW") == "OW"
    assert bulk_vr("US or SS") is None and bulk_vr("PN") is None
    assert parse_path("00540016/0/00181072") == (0x00540016, 0, 0x00181072)
    assert parse_path("7fe00010") == (0x7FE00010,)
    for bad in ("", "7FE00010/0", "00540016/-1/00181072", "xyz"):
        with pytest.raises(RequestError):
            parse_path(bad)
    element = BulkElement((0x00540016, 3, 0x00181072), "OB", False)
    assert element.uri_path == "00540016/3/00181072"
    # A sequence item the stored metadata lacks is skipped, not invented.
    text = with_uris({"00540016": {"vr": "SQ", "Value": [{}]}}, [element], "u")
    assert text == '{"00540016":{"vr":"SQ","Value":[{}]}}'


def test_big_endian_words_are_sent_little_endian(tmp_path: Path) -> None:
    ds = _instances(big_endian_ow=True)[3]
    with LocalServer(tmp_path / "d") as server:
        assert stow(server.url, [_encode(ds)]).status_code == 200
        client = DICOMwebClient(server.url)
        [value] = client.retrieve_bulkdata(f"{_url(server, ds)}/bulkdata/00091013")
        assert value == np.array([1, 2], "<u2").tobytes()


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:{port}"),  # dicomweb-client's Host: port left out
        ("localhost", "http://localhost:{port}"),
        ("127.0.0.1:{port}", "http://127.0.0.1:{port}"),
        ("dicom.example.org", "http://dicom.example.org"),  # a proxy's name: left as it is
    ],
)
def test_urls_in_answers_keep_the_port(
    server: LocalServer, tutorial_dir: Path, host: str, expected: str
) -> None:
    body = (tutorial_dir / "red-triangle.dcm").read_bytes()
    r = requests.post(
        f"{server.url}/studies/{samples.STUDY_UID}",
        body,
        headers={
            **JSON,
            "Content-Type": "application/dicom",
            "Host": host.format(port=server.port),
        },
    )
    assert r.status_code == 200
    url = r.json()["00081190"]["Value"][0]
    assert url == f"{expected.format(port=server.port)}/v1/studies/{samples.STUDY_UID}"
