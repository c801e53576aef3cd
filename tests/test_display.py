"""display: what each photometric interpretation looks like, windowing values, layouts."""

from __future__ import annotations

import copy
import glob
import os
import random
import warnings

import numpy as np
import pydicom
import pytest
from matplotlib.figure import Figure
from pydicom.pixels import convert_color_space
from pydicom.uid import JPEG2000Lossless, RLELossless

from dicomweb_nb import samples
from dicomweb_nb.display import decode_frames, show, show_frames, show_series


def _image(fig: Figure, index: int = 0):  # type: ignore[no-untyped-def]
    return [im for ax in fig.axes for im in ax.get_images()][index]


def _shown(fig: Figure, index: int = 0) -> np.ndarray:
    """What is on screen: RGBA in 0..1 after the norm and colour map."""
    image = _image(fig, index)
    data = image.get_array()
    if data.ndim == 3:
        return np.asarray(data, float) / 255.0
    return np.asarray(image.cmap(image.norm(data)))[..., :3]


@pytest.mark.parametrize("name", samples.TUTORIAL_FILES)
def test_tutorial_colours(name: str) -> None:
    fig = show(samples.tutorial_dataset(name))
    pixels = _image(fig).get_array()
    assert tuple(pixels[489, 492]) == samples.COLOURS[name]
    assert tuple(pixels[5, 5]) == samples.BACKGROUND
    assert fig.get_size_inches()[0] == pytest.approx(6.0)
    assert not fig.axes[0].axison
    assert fig.get_suptitle() == "Anony Mous · OT · #" + str(
        samples.tutorial_dataset(name).InstanceNumber
    )


def _gray(values: np.ndarray, **attrs: object) -> pydicom.Dataset:
    ds = samples.multiframe_dataset(frames=1, rows=values.shape[0], columns=values.shape[1])
    del ds.NumberOfFrames
    signed = values.min() < 0
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = values.astype("<i2" if signed else "<u2").tobytes()
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


def test_window_from_data_and_given() -> None:
    # Stored values with intercept -1024: HU -1024, -24, 16, 56, 976.
    ds = _gray(
        np.array([[0, 1000, 1040, 1080, 2000]]),
        RescaleIntercept=-1024,
        RescaleSlope=1,
        WindowCenter=16,
        WindowWidth=80,
    )
    shown = _shown(show(ds))[0, :, 0]
    assert shown[0] == 0 and shown[1] == 0  # below the window: black
    assert abs(shown[2] - 0.5) < 0.02  # the centre: mid grey
    assert shown[3] == 1 and shown[4] == 1  # above: white
    wide = _shown(show(ds, window=(0, 4000)))[0, :, 0]
    assert 0.2 < wide[0] < wide[1] < wide[2] < wide[4] < 0.8


def test_min_max_without_window_and_colorbar() -> None:
    fig = show(_gray(np.array([[100, 200], [300, 100]])), colorbar=True)
    shown = _shown(fig)[..., 0]
    assert shown[0, 0] == 0 and shown[1, 0] == 1 and abs(shown[0, 1] - 0.5) < 0.01
    assert len(fig.axes) == 2  # the image and its colour bar


def test_monochrome1_is_inverted_and_signed_pixels() -> None:
    ds = _gray(np.array([[-500, 0, 500]]), PhotometricInterpretation="MONOCHROME1")
    shown = _shown(show(ds))[0, :, 0]
    assert shown[0] == 1 and shown[2] == 0  # low values white, high black


@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
@pytest.mark.filterwarnings("ignore:Applying a VOI LUT on a float input:UserWarning")
def test_invert_shows_the_negative_without_touching_the_data(photometric: str) -> None:
    values = np.array([[-500, -100, 0], [100, 250, 500]])
    ds = _gray(values, PhotometricInterpretation=photometric)
    normal = _shown(show(ds))
    negative = _shown(show(ds, invert=True))
    np.testing.assert_allclose(negative, 1 - normal)
    assert ds.PhotometricInterpretation == photometric
    # MONOCHROME1 is already shown inverted: inverting it shows it as MONOCHROME2 would.
    other = "MONOCHROME1" if photometric == "MONOCHROME2" else "MONOCHROME2"
    np.testing.assert_allclose(
        negative, _shown(show(_gray(values, PhotometricInterpretation=other)))
    )
    # With a non-linear VOI LUT too.
    lut = pydicom.Dataset()
    lut.LUTDescriptor = [4, -500, 16]
    lut.LUTData = [0, 100, 4000, 65535]
    ds.VOILUTSequence = [lut]
    np.testing.assert_allclose(_shown(show(ds, invert=True)), 1 - _shown(show(ds)))


def test_invert_leaves_colour_alone() -> None:
    ds = samples.tutorial_dataset("red-triangle.dcm")
    np.testing.assert_array_equal(_shown(show(ds, invert=True)), _shown(show(ds)))


def test_rgb_planar_configuration_1() -> None:
    ds = samples.tutorial_dataset("green-square.dcm")
    rgb = ds.pixel_array
    ds.PlanarConfiguration = 1
    ds.PixelData = np.ascontiguousarray(rgb.transpose(2, 0, 1)).tobytes()
    assert tuple(_image(show(ds)).get_array()[489, 492]) == samples.COLOURS["green-square.dcm"]


def test_ybr_full_and_422_are_converted() -> None:
    base = samples.tutorial_dataset("blue-circle.dcm")
    rgb = base.pixel_array
    full = copy.deepcopy(base)
    full.PhotometricInterpretation = "YBR_FULL"
    full.PixelData = convert_color_space(rgb, "RGB", "YBR_FULL").tobytes()
    shown = _image(show(full)).get_array().astype(int)
    assert np.abs(shown[489, 492] - np.array(samples.COLOURS["blue-circle.dcm"])).max() <= 2
    # YBR_FULL_422: two Ys then one Cb and Cr per pair of pixels (columns made even).
    ybr = convert_color_space(rgb[:, :984], "RGB", "YBR_FULL").astype(np.uint8)
    pairs = ybr.reshape(979, 492, 2, 3)
    packed = np.concatenate([pairs[:, :, 0, :1], pairs[:, :, 1, :1], pairs[:, :, 0, 1:]], axis=2)
    sub = copy.deepcopy(base)
    sub.Columns = 984
    sub.PhotometricInterpretation = "YBR_FULL_422"
    sub.PixelData = packed.tobytes()
    shown = _image(show(sub)).get_array().astype(int)
    assert np.abs(shown[489, 492] - np.array(samples.COLOURS["blue-circle.dcm"])).max() <= 3


def test_palette_color() -> None:
    ds = _gray(np.array([[0, 1], [2, 3]]), BitsStored=8, PhotometricInterpretation="PALETTE COLOR")
    lut = [0, 1000, 30000, 65535]
    for colour, entries in (("Red", lut), ("Green", lut[::-1]), ("Blue", [0, 0, 0, 0])):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [4, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", np.array(entries, "<u2").tobytes())
    pixels = _image(show(ds)).get_array()
    assert tuple(pixels[1, 1]) == (255, 0, 0) and tuple(pixels[0, 0]) == (0, 255, 0)


@pytest.mark.parametrize("syntax", [None, RLELossless, JPEG2000Lossless])
def test_multiframe_frame_and_montage(syntax: str | None) -> None:
    ds = samples.multiframe_dataset(frames=6)
    if syntax:
        ds = samples.compressed(ds, syntax)
    fig = show(ds, frame=4)
    assert _image(fig).get_array()[0, 0] == 400
    assert fig.get_suptitle().endswith("frame 4/6")
    montage = show(ds, montage=True)
    assert [int(_image(montage, k).get_array()[0, 0]) for k in range(6)] == [
        100 * (k + 1) for k in range(6)
    ]
    with pytest.raises(ValueError, match="Frame 7"):
        show(ds, frame=7)


def test_series_thumbnails_in_order() -> None:
    datasets = list(samples.synthetic_datasets(1, 1, 5, rows=32, columns=32))
    random.Random(1).shuffle(datasets)
    fig = show_series(datasets, columns=3)
    titles = [ax.get_title() for ax in fig.axes if ax.get_images()]
    assert titles == ["#1", "#2", "#3", "#4", "#5"]
    assert "5 images" in fig.get_suptitle()


def test_show_frames_from_wado_bytes() -> None:
    ds = samples.multiframe_dataset(frames=3)
    meta = ds.to_json_dict(bulk_data_threshold=1, bulk_data_element_handler=lambda _e: "http://x")
    size = 64 * 64 * 2
    frames = [ds.PixelData[size : 2 * size], ds.PixelData[2 * size :]]
    fig = show_frames(frames, meta)
    assert [int(_image(fig, k).get_array()[0, 0]) for k in range(2)] == [200, 300]
    [decoded] = decode_frames([ds.PixelData[:size]], ds)
    assert decoded.shape == (64, 64) and decoded[0, 0] == 100


def _pydicom_test_files() -> list[str]:
    folder = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
    return sorted(glob.glob(os.path.join(folder, "*.dcm")))


def test_pydicom_bundled_files_render() -> None:
    rendered = 0
    for path in _pydicom_test_files():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(path)
                if "PixelData" not in ds:
                    continue
                ds.pixel_array  # noqa: B018 - files pydicom itself cannot decode are not ours to show
            except Exception:
                continue
            fig = show(ds)
        assert isinstance(fig, Figure), path
        rendered += 1
    assert rendered >= 20


def test_figures_show_in_ipython_without_global_set_up() -> None:
    import subprocess
    import sys

    # A fresh interpreter: importing the display layer must not touch IPython's formatters,
    # and a figure still formats as a PNG through a plain DisplayFormatter.
    code = (
        "from IPython.core.formatters import DisplayFormatter\n"
        "import dicomweb_nb.display as d\n"
        "from dicomweb_nb import samples\n"
        "fig = d.show(samples.tutorial_dataset('blue-circle.dcm'))\n"
        "data, _ = DisplayFormatter().format(fig)\n"
        "print(data['image/png'][:8].hex(), len(data['image/png']) > 1000)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert out == ["89504e470d0a1a0a", "True"]


def test_chinese_names_and_descriptions_are_drawn_not_boxes() -> None:
    from dicomweb_nb._fonts import cjk_family

    if cjk_family() is None:
        if os.environ.get("CI"):
            pytest.fail("no CJK font: .ci/run must install fonts-noto-cjk")
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    ds = next(samples.synthetic_datasets(1, 1, 1, rows=16, columns=16, seed=3))
    ds.PatientName = "Wang^Xiaoming=王^小明"
    ds.SeriesDescription = "膝关节 T1 轴位"
    fig = show(ds)
    assert fig.get_suptitle() == "Wang, Xiaoming 王小明 · MR · 膝关节 T1 轴位 · #1"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        png = fig._repr_png_()  # type: ignore[attr-defined]
        show_series([ds])._repr_png_()  # type: ignore[attr-defined]
    assert png[:4] == b"\x89PNG"
    import matplotlib

    # Nothing global changed: the rc family list is what it was.
    assert cjk_family() not in matplotlib.rcParams["font.family"]
