"""Frames, transcoding and rendering on generated files of many encodings and photometrics."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.filewriter import dcmwrite
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
)

from dicomweb_nb import LocalServer, samples
from dicomweb_nb.server import rendering, transcode
from dicomweb_nb.server.frame_parts import frame_parts

ELE = str(ExplicitVRLittleEndian)


def _frames(path: Path, numbers: list[int], syntax: str) -> tuple[list[bytes], str]:
    with open(path, "rb") as fh:
        parts, served = frame_parts(fh, numbers, syntax)
        return [b"".join(p.chunks()) for p in parts], served


def _instance(path: Path, syntax: str) -> tuple[bytes | None, str]:
    with open(path, "rb") as fh:
        return transcode.instance_bytes(fh, syntax)


def _render(path: Path, frame: int, media_type: str, quality: int = 100) -> bytes:
    with open(path, "rb") as fh:
        return rendering.render(fh, frame, media_type, quality)


def _write(ds: Dataset, path: Path, syntax: str = ELE) -> Path:
    ds.file_meta.TransferSyntaxUID = syntax
    if syntax == ExplicitVRBigEndian:
        ds.PixelData = ds.pixel_array_le.astype(">u2").tobytes()  # type: ignore[attr-defined]
        dcmwrite(
            path,
            ds,
            implicit_vr=False,
            little_endian=False,
            force_encoding=True,
        )
    else:
        ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    base = samples.multiframe_dataset(frames=5, rows=64, columns=64)
    native = base.pixel_array.copy()
    out = {"native": _write(base, tmp_path / "native.dcm")}
    implicit = samples.multiframe_dataset(frames=5, rows=64, columns=64)
    out["implicit"] = _write(implicit, tmp_path / "implicit.dcm", ImplicitVRLittleEndian)
    big = samples.multiframe_dataset(frames=5, rows=64, columns=64)
    big.pixel_array_le = native  # type: ignore[attr-defined]
    out["big"] = _write(big, tmp_path / "big.dcm", ExplicitVRBigEndian)
    for name, syntax in (("rle", RLELossless), ("j2k", JPEG2000Lossless)):
        samples.compressed(base, syntax).save_as(tmp_path / f"{name}.dcm", enforce_file_format=True)
        out[name] = tmp_path / f"{name}.dcm"
    return out


def _first_pixel(frame: bytes) -> int:
    return int(np.frombuffer(frame[:2], "<u2")[0])


def test_frames_as_stored_are_exact_slices(files: dict[str, Path]) -> None:
    ds = pydicom.dcmread(files["native"])
    data, syntax = _frames(files["native"], [2, 5], "*")
    assert syntax == ELE
    size = 64 * 64 * 2
    assert data == [ds.PixelData[size : 2 * size], ds.PixelData[4 * size : 5 * size]]
    rle, syntax = _frames(files["rle"], [3], "*")
    assert syntax == RLELossless and rle[0] != data[0]


@pytest.mark.parametrize("source", ["native", "implicit", "big", "rle", "j2k"])
def test_frames_to_explicit_le_equal_the_native_bytes(files: dict[str, Path], source: str) -> None:
    expected = pydicom.dcmread(files["native"]).PixelData
    size = 64 * 64 * 2
    data, syntax = _frames(files[source], [1, 4], ELE)
    assert syntax == ELE
    assert data == [expected[:size], expected[3 * size : 4 * size]]


def test_frame_to_jpeg2000_round_trips(files: dict[str, Path]) -> None:
    [codestream], syntax = _frames(files["native"], [4], str(JPEG2000Lossless))
    assert syntax == JPEG2000Lossless
    decoded = get_decoder(JPEG2000Lossless).as_array(
        encapsulate([codestream]),
        rows=64,
        columns=64,
        samples_per_pixel=1,
        bits_allocated=16,
        bits_stored=16,
        pixel_representation=0,
        photometric_interpretation="MONOCHROME2",
        number_of_frames=1,
    )[0]
    assert np.array_equal(decoded, pydicom.dcmread(files["native"]).pixel_array[3])


@pytest.mark.parametrize("source", ["implicit", "big", "rle", "j2k"])
def test_instance_transcoded_to_explicit_le(files: dict[str, Path], source: str) -> None:
    data, syntax = _instance(files[source], ELE)
    assert syntax == ELE and data is not None
    assert data[:128] == bytes(128) and data[128:132] == b"DICM"
    ds = pydicom.dcmread(io.BytesIO(data))
    assert ds.file_meta.TransferSyntaxUID == ELE
    assert np.array_equal(ds.pixel_array, pydicom.dcmread(files["native"]).pixel_array)
    assert ds.SOPInstanceUID == pydicom.dcmread(files[source]).SOPInstanceUID


def test_instance_as_stored_and_to_jpeg2000(files: dict[str, Path]) -> None:
    assert _instance(files["rle"], "*") == (None, RLELossless)
    assert _instance(files["native"], ELE) == (None, ELE)
    data, syntax = _instance(files["native"], str(JPEG2000Lossless))
    assert syntax == JPEG2000Lossless and data is not None
    ds = pydicom.dcmread(io.BytesIO(data))
    assert np.array_equal(ds.pixel_array, pydicom.dcmread(files["native"]).pixel_array)


def test_errors(files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(transcode.FrameError, match="6"):
        _frames(files["native"], [6], "*")
    with pytest.raises(transcode.TranscodeError, match=re.escape("1.2.840.10008.1.2.4.50")):
        _instance(files["native"], "1.2.840.10008.1.2.4.50")
    ds = samples.tutorial_dataset("red-triangle.dcm")
    del ds.PixelData
    empty = _write(ds, tmp_path / "no-pixels.dcm")
    with pytest.raises(transcode.FrameError, match="no pixel data"):
        _frames(empty, [1], "*")
    with pytest.raises(transcode.FrameError):
        _render(empty, 1, "image/png")


def _gray(values: np.ndarray, **attrs: object) -> Dataset:
    ds = samples.multiframe_dataset(frames=1, rows=values.shape[0], columns=values.shape[1])
    del ds.NumberOfFrames
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.PixelData = values.astype("<u2").tobytes()
    return ds


def _png(path: Path, frame: int = 1) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(_render(path, frame, "image/png"))))


def test_render_window(tmp_path: Path) -> None:
    values = np.array([[0, 1000, 1040], [1080, 2000, 500]])
    ds = _gray(values, RescaleIntercept=-1024, RescaleSlope=1, WindowCenter=16, WindowWidth=80)
    image = _png(_write(ds, tmp_path / "w.dcm"))
    # HU = stored - 1024: -1024 and -24 are below the window (0), 16 is its centre, 56 and up above.
    assert image[0, 0] == 0 and image[0, 1] == 0
    assert abs(int(image[0, 2]) - 128) <= 2
    assert image[1, 0] == 255 and image[1, 1] == 255
    ds.PhotometricInterpretation = "MONOCHROME1"
    inverted = _png(_write(ds, tmp_path / "m1.dcm"))
    assert inverted[0, 0] == 255 and inverted[1, 1] == 0


def test_render_without_window_uses_min_max(tmp_path: Path) -> None:
    ds = _gray(np.array([[100, 200], [300, 100]]))
    image = _png(_write(ds, tmp_path / "minmax.dcm"))
    assert image.tolist() == [[0, 128], [255, 0]]


def test_render_colour_palette_and_quality(tmp_path: Path) -> None:
    path = _write(samples.tutorial_dataset("green-square.dcm"), tmp_path / "rgb.dcm")
    image = _png(path)
    assert tuple(image[489, 492]) == samples.COLOURS["green-square.dcm"]
    low = _render(path, 1, "image/jpeg", quality=10)
    high = _render(path, 1, "image/jpeg", quality=100)
    assert low[:2] == b"\xff\xd8" and len(low) < len(high)
    ds = _gray(np.array([[0, 1], [2, 3]]))
    ds.BitsStored = 8
    ds.PhotometricInterpretation = "PALETTE COLOR"
    lut = [0, 1000, 30000, 65535]
    for colour, entries in (("Red", lut), ("Green", lut[::-1]), ("Blue", [0, 0, 0, 0])):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [4, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", np.array(entries, "<u2").tobytes())
    palette = _png(_write(ds, tmp_path / "palette.dcm"))
    assert palette.shape == (2, 2, 3)
    assert tuple(palette[1, 1]) == (255, 0, 0)
    assert tuple(palette[0, 0]) == (0, 255, 0)


def test_render_cache_keeps_to_its_budget() -> None:
    from dicomweb_nb.server.rendering import RenderCache

    cache = RenderCache(budget=10)
    cache.put((1, 1, "image/png", 100), b"aaaa")
    cache.put((2, 1, "image/png", 100), b"bbbb")
    assert cache.get((1, 1, "image/png", 100)) == b"aaaa"  # now the most recent
    cache.put((3, 1, "image/png", 100), b"cccc")  # 12 bytes: the least recent (2) goes
    assert cache.get((2, 1, "image/png", 100)) is None
    assert cache.get((1, 1, "image/png", 100)) == b"aaaa"
    cache.put((4, 1, "image/png", 100), b"x" * 11)  # larger than the budget: not kept
    assert cache.get((4, 1, "image/png", 100)) is None


def test_a_copy_stored_again_is_rendered_anew(server: LocalServer) -> None:
    import requests

    from .helpers import stow

    ds = samples.tutorial_dataset("red-triangle.dcm")
    url = (
        f"{server.url}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"
        f"/instances/{ds.SOPInstanceUID}/rendered"
    )
    assert stow(server.url, [samples.to_bytes(ds)]).status_code == 200
    first = requests.get(url, headers={"Accept": "image/png"})
    assert requests.get(url, headers={"Accept": "image/png"}).content == first.content
    assert (
        Image.open(io.BytesIO(first.content)).getpixel((492, 489))
        == samples.COLOURS["red-triangle.dcm"]
    )
    # The same UIDs stored again with other pixels: the cached picture of the old copy is not used.
    requests.delete(f"{server.url}/studies/{ds.StudyInstanceUID}").raise_for_status()
    ds.PixelData = bytes(len(ds.PixelData))
    assert stow(server.url, [samples.to_bytes(ds)]).status_code == 200
    again = requests.get(url, headers={"Accept": "image/png"})
    assert Image.open(io.BytesIO(again.content)).getpixel((492, 489)) == (0, 0, 0)
