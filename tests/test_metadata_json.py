"""The metadata JSON read from raw elements is the text pydicom's to_json_dict made before.

``metadata_json`` replaced ingest's ``json.dumps(ds.to_json_dict(), …)`` after deleting the dropped
and bulk data elements; the reference below is that code, kept as it was. Both run on the same
bytes read twice with ``dcmread(…, defer_size=1024)`` as ingest reads, and must agree on the text,
or on the failing element and pydicom's error, or on the exception. The corpus: every sample this
package generates, named edge cases of each VR in the three uncompressed transfer syntaxes, and
random datasets (hypothesis) with nested sequences, private tags, character sets, elements
already converted (as ``_validate`` leaves them) and dropped elements.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import struct
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pydicom
import pydicom.dataset
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom import config
from pydicom.datadict import DicomDictionary, dictionary_VR
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
)

from dicomweb_nb import samples
from dicomweb_nb._synthetic import file_dataset
from dicomweb_nb.protocol.status import VALIDATION_FAILED
from dicomweb_nb.server import ingest
from dicomweb_nb.server.attributes import INDEXED
from dicomweb_nb.server.ingest import InvalidInstance, parse_instance
from dicomweb_nb.server.metadata_json import (
    BULK_VRS,
    NOT_FINITE,
    UndecodableElement,
    metadata_json,
    text_values,
)

SYNTAXES = (ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian)

# --- the reference: ingest's code before metadata_json -------------------------------------------


def _strip_bulk(ds: Dataset) -> None:
    for tag in list(ds.keys()):
        raw = ds.get_item(tag, keep_deferred=True)
        vr = getattr(raw, "VR", None)
        if not vr:
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                vr = "UN"
        if vr in BULK_VRS or " or " in str(vr):
            del ds[tag]
        elif vr == "SQ":
            for item in ds[tag].value or []:
                _strip_bulk(item)


def _failing_element(ds: Dataset) -> int | None:
    for tag in list(ds.keys()):
        try:
            Dataset({tag: ds[tag]}).to_json_dict()
        except Exception:
            return int(tag)
    return None


def reference(ds: Dataset, dropped: set[int]) -> tuple[Any, ...]:
    try:
        for tag in dropped:
            if tag in ds:
                del ds[tag]
        _strip_bulk(ds)
        try:
            data = ds.to_json_dict()
        except Exception as exc:
            return ("undecodable", _failing_element(ds), type(exc).__name__, str(exc))
        for key, value in data.items():
            # pydicom's NaN and Infinity (DS "nan", "1e999") are not JSON: the element fails.
            try:
                json.dumps(value, allow_nan=False)
            except ValueError:
                return ("undecodable", int(key, 16), "ValueError", NOT_FINITE)
        return ("json", json.dumps(data, separators=(",", ":"), ensure_ascii=False))
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))


def fast(ds: Dataset, dropped: set[int]) -> tuple[Any, ...]:
    try:
        return ("json", metadata_json(ds, dropped))
    except UndecodableElement as exc:
        cause = exc.__cause__
        return ("undecodable", exc.tag, type(cause).__name__, str(cause))
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))


def outcomes(
    data: bytes, dropped: set[int] | None = None, touch: list[int] | None = None
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Both outcomes for the same bytes, each from its own read (pydicom's warnings ignored)."""
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for run in (reference, fast):
            ds = pydicom.dcmread(io.BytesIO(data), defer_size=1024)
            for tag in touch or []:  # converted before, as _validate converts what it reads
                with contextlib.suppress(Exception):
                    ds.get(tag)
            results.append(run(ds, set(dropped or ())))
    return results[0], results[1]


def assert_same(
    data: bytes, dropped: set[int] | None = None, touch: list[int] | None = None
) -> str:
    old, new = outcomes(data, dropped, touch)
    assert new == old
    return str(old[1])


def reference_strings(ds: Dataset, tag: int) -> list[str]:
    # ingest's _values before text_values: the converted element's values as strings.
    elem = ds.get(tag)
    if elem is None or elem.value is None or elem.value == "":
        return []
    value = elem.value
    items = list(value) if isinstance(value, list | tuple) or elem.VM > 1 else [value]
    return [str(v) for v in items]


def assert_same_texts(data: bytes) -> int:
    """text_values agrees with the converted values wherever it answers; how many it answered."""
    answered = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh = pydicom.dcmread(io.BytesIO(data), defer_size=1024)
        converted = pydicom.dcmread(io.BytesIO(data), defer_size=1024)
        for tag in list(fresh.keys()):
            texts = text_values(fresh, tag)
            if texts is not None:
                assert texts == reference_strings(converted, tag), f"{tag:08X}"
                answered += 1
        assert text_values(fresh, 0x00231234) == []  # absent
    return answered


# --- Part-10 bytes written element by element (pydicom's writer would convert or pad them) --------

Element = tuple[int, str, Any]  # (tag, VR, bytes) or (tag, "SQ", (items, undefined length))
_LONG_HEADER = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"}


def encode(elements: list[Element], syntax: str) -> bytes:
    little = syntax != ExplicitVRBigEndian
    order = "<" if little else ">"
    out = b""
    for tag, vr, value in elements:
        undefined = False
        if vr == "SQ":
            items, undefined = value
            value = b""
            for item, item_undefined in items:
                body = encode(item, syntax)
                length = 0xFFFFFFFF if item_undefined else len(body)
                value += struct.pack(order + "HHL", 0xFFFE, 0xE000, length) + body
                if item_undefined:
                    value += struct.pack(order + "HHL", 0xFFFE, 0xE00D, 0)
            if undefined:
                value += struct.pack(order + "HHL", 0xFFFE, 0xE0DD, 0)
        length = 0xFFFFFFFF if undefined else len(value)
        out += struct.pack(order + "HH", tag >> 16, tag & 0xFFFF)
        if syntax == ImplicitVRLittleEndian:
            out += struct.pack(order + "L", length)
        elif vr in _LONG_HEADER:
            out += vr.encode() + b"\0\0" + struct.pack(order + "L", length)
        else:
            out += vr.encode() + struct.pack(order + "H", length)
        out += value
    return out


def part10(elements: list[Element], syntax: str, charset: str | None = None) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    fp.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(fp, file_dataset("1.2.3", "1.2.3.4", syntax).file_meta)
    head: list[Element] = []
    if charset is not None:
        text = charset.encode() + (b" " if len(charset) % 2 else b"")
        head.append((0x00080005, "CS", text))
    return fp.getvalue() + encode(head + elements, syntax)


def _public_tags(vr: str) -> list[int]:
    # Tags whose dictionary VR is `vr`, so that implicit VR files read them with that VR (not
    # command or file meta elements).
    found = sorted(
        tag
        for tag, entry in DicomDictionary.items()
        if entry[0] == vr and tag >> 16 not in (0x0000, 0x0002, 0xFFFE) and tag & 0xFFFF
    )
    assert found, vr
    return found[:4]


VALUE_VRS = [
    *("AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "PN", "SH"),
    *("SL", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UR", "US", "UT", "UV"),
]
ALL_VRS = [*VALUE_VRS, "OB", "OW", "OF", "OD", "UN", "US or SS", "OB or OW"]
TAGS = {vr: _public_tags(vr) for vr in [*ALL_VRS, "SQ"]}
LUT_DESCRIPTOR = 0x00281101  # "US or SS"; pydicom adds 65536 to a negative first SS value
SLICE_THICKNESS, PIXEL_SPACING = 0x00180050, 0x00280030


def _explicit(vr: str) -> str:
    # An explicit file needs a VR of two letters: the first choice of an ambiguous one.
    return vr.split(" or ")[0]


def one(vr: str, value: bytes, syntax: str, charset: str | None = None) -> bytes:
    return part10([(TAGS[vr][0], _explicit(vr), value)], syntax, charset)


# --- the samples ---------------------------------------------------------------------------------


def _sample_datasets() -> Iterator[Dataset]:
    for name in samples.TUTORIAL_FILES:
        yield samples.tutorial_dataset(name)
    multi = samples.multiframe_dataset(3)
    yield multi
    # CT and MR of every region the phantom draws (the study picks region and modality).
    yield from samples.synthetic_datasets(4, 2, 1, rows=16, columns=16, seed=3)
    ct = next(samples.synthetic_datasets(1, 1, 1, seed=1))
    for syntax in (RLELossless, JPEG2000Lossless):
        yield samples.compressed(multi, syntax)
        yield samples.compressed(ct, syntax)


def test_every_sample_gives_the_same_json() -> None:
    count = 0
    for ds in _sample_datasets():
        text = assert_same(samples.to_bytes(ds))
        assert '"7FE00010"' not in text and '"00100010"' in text
        count += 1
    assert count == 16


def test_samples_in_the_other_syntaxes(tmp_path: Path) -> None:
    # Written by pydicom in implicit VR and big endian; read from a file, as ingest does.
    ds = next(samples.synthetic_datasets(1, 1, 1, rows=16, columns=16, seed=2))
    ds.ReferencedStudySequence = [Dataset(), Dataset()]
    ds.ReferencedStudySequence[0].ReferencedSOPInstanceUID = "1.2.3"
    ds.ReferencedStudySequence[1].ReferencedSOPClassUID = "1.2.4"
    ds.ReferencedStudySequence[1].WindowCenter = ["40", "1.5e2"]
    for syntax in (ImplicitVRLittleEndian, ExplicitVRBigEndian):
        ds.file_meta.TransferSyntaxUID = syntax
        ds.set_original_encoding(None, None)  # made here, not read: any encoding may be written
        path = tmp_path / f"{syntax.name}.dcm"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.save_as(path, enforce_file_format=True)
        assert '"00081110"' in assert_same(path.read_bytes())


def test_the_synthetic_ct_needs_no_element_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    # The instance the benchmark stores: every element is read from its bytes.
    ds = next(samples.synthetic_datasets(1, 1, 1, rows=512, columns=512, seed=5))
    data = samples.to_bytes(ds)
    converted: list[int] = []
    original = pydicom.dataset.convert_raw_data_element

    def spy(raw: Any, **kwargs: Any) -> Any:
        converted.append(int(raw.tag))
        return original(raw, **kwargs)

    read = pydicom.dcmread(io.BytesIO(data), defer_size=1024)
    monkeypatch.setattr(pydicom.dataset, "convert_raw_data_element", spy)
    text = metadata_json(read)
    assert json.loads(text)["00280030"] == {"vr": "DS", "Value": [0.4883, 0.4883]}
    # And the strings ingest checks and indexes.
    for attr in INDEXED:
        texts = text_values(read, attr.tag)
        assert texts is not None and len(texts) == 1, attr.keyword
    assert converted == []


# --- named edge cases of each VR -----------------------------------------------------------------

TEXT_CASES = [
    b"ABC",
    b"ABC ",
    b"ABC\x00",
    b" ABC  \x00 ",
    b"A\\B",
    b"A\\",
    b"\\",
    b"\\\\ ",
    b" A \\ B ",
    b"A\x00\\B\x00",
    b"  ",
    b"\x00",
    b"\t A\t",
    b"ODD",
    b"1.2.840.10008.1.2\x00",
    b"1.2.3\\ 4.5 \\",
]
NUMBER_CASES = [
    b"1.50",
    b" 7",
    b"+3",
    b"-0",
    b"1e3",
    b"1E-3 ",
    b".5",
    b"5.",
    b"007",
    b"1.5\\-2\\+3.25e1 ",
    b"1\\2\\3\x00",
    b" 1.5 \\ 2 ",
    b"  ",
    b"\x00\x00",
    b"12345678901234567",
    b"1.0",
    b"1.5",
    b"nan",
    b"inf",
    b"1e999",
    b"1_0",
    b"abc",
    b"1\\",
    b"1\\\\2",
    b"\t3",
    b"3\t",
    b"\x003",
]
PN_CASES = [
    b"Doe^John",
    b"Doe^John ",
    b"Doe^John=",
    b"Doe^John==",
    b"=Yamada^Tarou",
    b"Yamada^Tarou=\xe5\xb1\xb1\xe7\x94\xb0^\xe5\xa4\xaa\xe9\x83\x8e=\xe3\x82\x84\xe3\x81\xbe",
    b"A=B=C=D",
    b"Doe\\Roe^Richard",
    b"Doe\\",
    b"\\Doe",
    b"==",
    b"= ",
    b"  ",
    b"Doe \\Roe\x00",
    b"^",
]
BINARY_CASES = [b"\x01\x00", b"\xff\xff", b"\x01\x02\x03", b"\x00" * 8, bytes(range(16)), b"\x80"]


def _cases() -> Iterator[tuple[str, bytes]]:
    for vr in ("AE", "AS", "CS", "DA", "DT", "TM", "UI", "UR", "SH", "LO", "UC", "ST", "LT", "UT"):
        for value in TEXT_CASES:
            yield vr, value
    for vr in ("DS", "IS"):
        for value in NUMBER_CASES:
            yield vr, value
    for value in PN_CASES:
        yield "PN", value
    for vr in ("US", "SS", "UL", "SL", "FL", "FD", "UV", "SV", "AT"):
        for value in BINARY_CASES:
            yield vr, value
    for vr in VALUE_VRS:
        yield vr, b""


CASES = list(_cases())


@pytest.mark.parametrize("syntax", SYNTAXES, ids=["explicit", "implicit", "big-endian"])
def test_edge_cases_of_each_vr(syntax: str) -> None:
    # One dataset per case: a failing element must not hide the others.
    kinds = set()
    answered = 0
    for vr, value in CASES:
        data = one(vr, value, syntax, "ISO_IR 192")
        old, new = outcomes(data)
        assert new == old, (vr, value)
        kinds.add(old[0])
        answered += assert_same_texts(data)
    assert kinds == {"json", "undecodable"}
    assert answered > 250  # the charset itself and the text and PN cases


def test_the_fast_path_agrees_on_values_as_pydicom_reads_them() -> None:
    # Spot checks of what the rules above produce, so an agreement on nothing is noticed.
    def value(vr: str, data: bytes) -> Any:
        return json.loads(assert_same(one(vr, data, ExplicitVRLittleEndian)))[f"{TAGS[vr][0]:08X}"]

    assert value("DS", b" 1.50\\1e3 ") == {"vr": "DS", "Value": [1.5, 1000.0]}
    assert value("IS", b"+3\\ 7") == {"vr": "IS", "Value": [3, 7]}
    assert value("IS", b"1.5") == {"vr": "IS", "Value": [1]}  # pydicom truncates
    assert value("DS", b"  ") == {"vr": "DS"}
    assert value("CS", b"A\\") == {"vr": "CS", "Value": ["A", ""]}
    assert value("UI", b"1.2 \\ 3.4") == {"vr": "UI", "Value": ["1.2", "3.4"]}
    assert value("PN", b"=Yamada==") == {
        "vr": "PN",
        "Value": [{"Alphabetic": "", "Ideographic": "Yamada"}],
    }
    assert value("US", b"\x01\x00\x02\x00") == {"vr": "US", "Value": [1, 2]}
    assert value("AT", b"\x10\x00\x10\x00") == {"vr": "AT", "Value": ["00100010"]}
    assert value("UR", b"http://a/b\\c ") == {"vr": "UR", "Value": ["http://a/b\\c"]}


@pytest.mark.parametrize(
    ("charset", "codec"),
    [
        (None, "latin-1"),
        ("ISO_IR 100", "latin-1"),
        ("ISO_IR 192", "utf-8"),
        ("ISO_IR 144", "iso8859-5"),
        ("ISO 2022 IR 6\\ISO 2022 IR 87", "iso2022_jp"),
        ("GB18030", "gb18030"),
    ],
)
def test_character_sets(charset: str | None, codec: str) -> None:
    texts = ["Müller^Jürgen", "Иванов^Иван", "山田^太郎=やまだ", "Ærø \\ Øst "]
    elements: list[Element] = [(TAGS["UT"][0], "UT", b"\xff\xfe broken")]  # not valid UTF-8
    for i, text in enumerate(texts):
        data = text.encode(codec, errors="replace")
        elements += [(TAGS[vr][i], vr, data) for vr in ("PN", "LO", "SH", "UC")]
        elements.append((TAGS["LT"][i], "LT", data + b" "))
    elements.sort(key=lambda element: element[0])
    for syntax in SYNTAXES:
        assert_same(part10(elements, syntax, charset))
        assert_same_texts(part10(elements, syntax, charset))


def test_sequences_private_tags_and_bulk_data() -> None:
    item: list[Element] = [
        (TAGS["CS"][0], "CS", b"A\\B "),
        (TAGS["OB"][0], "OB", b"\x00\x01"),
        (TAGS["DS"][0], "DS", b"1.5 "),
    ]
    nested: list[Element] = [(TAGS["SQ"][1], "SQ", ([(item, False), (item, True)], True))]
    elements: list[Element] = [
        (0x00090010, "LO", b"ACME 1.0"),
        (0x00091001, "DS", b"2.5 "),
        (0x00091002, "OB", b"\x01\x02"),
        (0x00091003, "UN", b"\x01\x02"),
        (0x00091004, "SQ", ([(item, False)], False)),
        (TAGS["SQ"][0], "SQ", ([(item, True), ([], False), (nested, False)], False)),
        (TAGS["SQ"][2], "SQ", ([], True)),
        (TAGS["OW"][0], "OW", b"\x01\x02"),
        (LUT_DESCRIPTOR, "SS", struct.pack("<3h", -2, 0, 16)),
        (0x7FE00010, "OW", b"\x00" * 2048),
    ]
    for syntax in SYNTAXES:
        text = assert_same(part10(elements, syntax, "ISO_IR 192"))
        assert '"7FE00010"' not in text and f'"{TAGS["SQ"][0]:08X}"' in text


def test_long_values_read_later_and_elements_already_converted() -> None:
    elements: list[Element] = [
        (PIXEL_SPACING, "DS", b"\\".join([b"1.25"] * 300)),  # deferred: over 1024 bytes
        (TAGS["LT"][0], "LT", "Ünïcödé \\ ".encode() * 200),
        (TAGS["UT"][0], "UT", b"\x1b$B" * 400),  # an escape sequence: pydicom decodes it
        (TAGS["PN"][0], "PN", b"Doe^John\\Roe^Jane"),
        (TAGS["IS"][0], "IS", b"1\\2"),
        (TAGS["US"][0], "US", b"\x01\x00"),
        (TAGS["AT"][0], "AT", b"\x10\x00\x10\x00\x08\x00\x18\x00"),
    ]
    tags = [tag for tag, _, _ in elements]
    for syntax in SYNTAXES:
        data = part10(elements, syntax, "ISO_IR 192")
        assert_same(data)
        assert_same(data, touch=tags)
        assert_same(data, dropped={PIXEL_SPACING, TAGS["PN"][0]}, touch=tags[::2])


# --- errors --------------------------------------------------------------------------------------


def test_an_undecodable_element_is_named() -> None:
    data = part10(
        [
            (TAGS["CS"][0], "CS", b"OK"),
            (SLICE_THICKNESS, "DS", b"abc"),
            (TAGS["US"][1], "US", b"\x01"),
        ],
        ExplicitVRLittleEndian,
    )
    old, new = outcomes(data)
    assert new == old
    assert new[:2] == ("undecodable", SLICE_THICKNESS)
    assert "abc" in new[3]


def test_a_failure_inside_a_sequence_names_the_sequence() -> None:
    item: list[Element] = [(TAGS["IS"][0], "IS", b"x1")]
    sequence = TAGS["SQ"][0]
    data = part10([(sequence, "SQ", ([(item, False)], False))], ExplicitVRLittleEndian)
    old, new = outcomes(data)
    assert new == old
    assert new[:2] == ("undecodable", sequence)


def _slice_thickness_as(tmp_path: Path, value: bytes) -> Path:
    """A sample file whose SliceThickness "5.0 " is replaced by ``value`` (the same length)."""
    ds = next(samples.synthetic_datasets(1, 1, 1, rows=16, columns=16, seed=4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = samples.to_bytes(ds)
    assert data.count(b"5.0 ") == 1 and len(value) == len(b"5.0 ")
    path = tmp_path / "bad.dcm"
    path.write_bytes(data.replace(b"5.0 ", value))
    return path


def test_ingest_reports_the_failing_tag(tmp_path: Path) -> None:
    path = _slice_thickness_as(tmp_path, b"5.x ")
    with pytest.raises(InvalidInstance) as caught:
        parse_instance(path, "1")
    assert caught.value.reason == VALIDATION_FAILED
    assert str(caught.value).startswith("An element cannot be decoded ((0018,0050)): ")
    assert "5.x" in str(caught.value)


# --- pydicom settings the rules assume -----------------------------------------------------------


def _fix_separator() -> Callable[[], None]:
    from pydicom.hooks import hooks, raw_element_value, raw_element_value_fix_separator

    hooks.register_callback("raw_element_value", raw_element_value_fix_separator)
    hooks.register_kwargs("raw_element_kwargs", {"target_VRs": ("DS",), "separator": ":"})

    def undo() -> None:
        hooks.register_callback("raw_element_value", raw_element_value)
        hooks.register_kwargs("raw_element_kwargs", {})

    return undo


@pytest.mark.parametrize("setting", ["datetime_conversion", "use_IS_numpy", "separator hook"])
def test_other_pydicom_settings_are_left_to_pydicom(
    monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    undo: Callable[[], None] = lambda: None  # noqa: E731
    if setting == "separator hook":
        undo = _fix_separator()
    else:
        monkeypatch.setattr(config, setting, True)
    try:
        data = part10(
            [
                (TAGS["DA"][0], "DA", b"20240101"),
                (TAGS["DS"][0], "DS", b"1.5:2.5"),
                (TAGS["IS"][0], "IS", b"4\\5 "),
            ],
            ExplicitVRLittleEndian,
        )
        assert_same(data)
    finally:
        undo()


# --- random datasets -----------------------------------------------------------------------------

ALPHABET = "Az09 \x00\\=^.+-eE\té中\x1b"
NUMBER_TOKENS = [t.decode() for t in NUMBER_CASES] + ["", " "]
CHARSETS = {None: "latin-1", "ISO_IR 100": "latin-1", "ISO_IR 192": "utf-8", "GB18030": "gb18030"}


@st.composite
def values(draw: st.DrawFn, vr: str, codec: str) -> bytes:
    if vr in ("DS", "IS") and draw(st.booleans()):
        tokens = draw(st.lists(st.sampled_from(NUMBER_TOKENS), min_size=1, max_size=4))
        text = "\\".join(tokens) + draw(st.sampled_from(["", " ", "\x00"]))
        return text.encode("latin-1")
    if vr in ("PN",) and draw(st.booleans()):
        names = draw(
            st.lists(
                st.lists(st.sampled_from(["Doe^John", "", "山田^太郎", " ", "Ö"]), max_size=4),
                min_size=1,
                max_size=3,
            )
        )
        return "\\".join("=".join(groups) for groups in names).encode(codec, errors="replace")
    if vr in ("US", "SS", "UL", "SL", "FL", "FD", "UV", "SV", "AT") or draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=20))
    return draw(st.text(ALPHABET, max_size=16)).encode(codec, errors="replace")


@st.composite
def elements(draw: st.DrawFn, codec: str, depth: int = 0) -> list[Element]:
    chosen = draw(st.lists(st.sampled_from(ALL_VRS), max_size=8))
    out: list[Element] = []
    used: set[int] = set()
    for vr in chosen:
        tag = next((t for t in TAGS[vr] if t not in used), None)
        if tag is not None:
            used.add(tag)
            out.append((tag, _explicit(vr), draw(values(vr, codec))))
    if depth < 2 and draw(st.integers(0, 2)) == 0:
        items = draw(
            st.lists(st.tuples(elements(codec, depth + 1), st.booleans()), max_size=2),
        )
        out.append((TAGS["SQ"][depth], "SQ", (items, draw(st.booleans()))))
    if depth == 0 and draw(st.booleans()):
        private_vr = draw(st.sampled_from(["LO", "DS", "US", "UN", "OB", "PN"]))
        out += [
            (0x00090010, "LO", b"ACME"),
            (0x00091001, private_vr, draw(values(private_vr, codec))),
        ]
    if depth == 0 and draw(st.booleans()):
        out.append((LUT_DESCRIPTOR, "SS", draw(st.binary(max_size=6))))
    return sorted(out, key=lambda element: element[0])


@st.composite
def files(draw: st.DrawFn) -> tuple[bytes, set[int], list[int]]:
    syntax = draw(st.sampled_from(SYNTAXES))
    charset = draw(st.sampled_from(list(CHARSETS)))
    chosen = draw(elements(CHARSETS[charset]))
    tags = [tag for tag, _, _ in chosen]
    dropped = set(draw(st.lists(st.sampled_from(tags), max_size=2))) if tags else set()
    touch = draw(st.lists(st.sampled_from(tags), max_size=4)) if tags else []
    return part10(chosen, syntax, charset), dropped, touch


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(files())
def test_random_datasets(case: tuple[bytes, set[int], list[int]]) -> None:
    data, dropped, touch = case
    assert_same(data, dropped, touch)
    assert_same_texts(data)


# --- ingest with and without text_values -------------------------------------------------------

UID_CASES = [
    *(b"1.2.3", b"1.2.3\x00", b"1.2.3 ", b" 1.2.3", b"1.2.3\x00\t", b"1.2\\3.4", b"1.2.3\\"),
    *(b"", b"  ", b"\x00", b"abc", b"1..2", b"\t"),
]
BASE: dict[int, tuple[str, bytes]] = {
    0x00080016: ("UI", b"1.2.840.10008.5.1.4.1.1.7\x00"),
    0x00080018: ("UI", b"1.2.826.0.1.3680043.8.498.9"),
    0x00080020: ("DA", b"20240101"),
    0x00080050: ("SH", b"ACC1"),
    0x00080060: ("CS", b"OT"),
    0x00081030: ("LO", "Étude".encode()),
    0x00100010: ("PN", b"Doe^John"),
    0x00100020: ("LO", b"P1"),
    0x0020000D: ("UI", b"1.2.826.0.1.3680043.8.498.1\x00"),
    0x0020000E: ("UI", b"1.2.826.0.1.3680043.8.498.2\x00"),
}
VARIANTS: dict[int, list[bytes]] = {
    0x00080016: UID_CASES,
    0x00080018: UID_CASES,
    0x0020000D: UID_CASES,
    0x0020000E: UID_CASES[:6],
    0x00100020: [b"", b"  ", b"\t", b"A\\B", b"\\", b"P1\x00", b" P1 "],
    0x00100010: PN_CASES,
    0x00080020: [b"2024-01-01", b"20240230", b"", b"20240101\\20240102", b"2024010 "],
    0x00080060: [b"ct", b"C\\T", b"TOO LONG A MODALITY", b" CT", b"CT\x00"],
    0x00081030: ["Ünïcödé \\ two".encode(), b"x" * 70, b"\xff\xfe"],
}


def _ingest_outcome(path: Path, version: str) -> Any:
    try:
        return dataclasses.asdict(parse_instance(path, version))
    except InvalidInstance as exc:
        return (exc.reason, str(exc), exc.sop_class_uid, exc.sop_instance_uid)


def test_ingest_answers_the_same_with_and_without_text_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without text_values, ingest converts the elements as it always did.
    cases = [{tag: data} for tag, datas in VARIANTS.items() for data in datas]
    # The SOP UIDs as the failure reports them, padded oddly.
    cases += [
        {0x00080016: uid, 0x00080018: uid, 0x0020000D: b"abc"}
        for uid in (b"1.2.3\x00\t", b" 1.2.3", b"1.2\\3", b"")
    ]
    kinds = set()
    for number, changes in enumerate([{}, *cases]):
        elements = {**BASE, **{tag: (BASE[tag][0], data) for tag, data in changes.items()}}
        for syntax in SYNTAXES:
            path = tmp_path / f"{number}-{syntax.name}.dcm"
            path.write_bytes(
                part10(
                    [(t, vr, v) for t, (vr, v) in sorted(elements.items())], syntax, "ISO_IR 192"
                )
            )
            for version in ("1", "2"):
                fast = _ingest_outcome(path, version)
                with monkeypatch.context() as patch:
                    patch.setattr(ingest, "text_values", lambda _ds, _tag: None)
                    slow = _ingest_outcome(path, version)
                assert fast == slow, (changes, syntax.name, version)
                kinds.add(type(fast).__name__)
    assert kinds == {"dict", "tuple"}


@pytest.mark.parametrize("value", [b"nan ", b"-inf", b"inf "])
def test_numbers_json_cannot_carry_fail_the_instance(tmp_path: Path, value: bytes) -> None:
    # Served as NaN or Infinity they would make the whole study's metadata unreadable JSON.
    path = _slice_thickness_as(tmp_path, value)
    with pytest.raises(InvalidInstance) as caught:
        parse_instance(path, "1")
    assert caught.value.reason == VALIDATION_FAILED
    assert str(caught.value) == f"An element cannot be decoded ((0018,0050)): {NOT_FINITE}"
