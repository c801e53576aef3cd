"""The protocol core, tested directly (no server): media types, multipart, reasons, JSON, frames."""

from __future__ import annotations

import os

import pytest
from pydicom.dataset import Dataset
from requests_toolbelt.multipart.decoder import MultipartDecoder

from dicomweb_nb.protocol import dicomjson, frames, media, multipart, status
from dicomweb_nb.protocol.uids import is_valid_uid


@pytest.mark.parametrize(
    ("text", "mime", "params"),
    [
        ("application/dicom", "application/dicom", {}),
        (
            'multipart/related; type="application/dicom"; boundary=abc',
            "multipart/related",
            {"type": "application/dicom", "boundary": "abc"},
        ),
        (
            "Multipart/Related; TYPE=application/dicom;",
            "multipart/related",
            {"type": "application/dicom"},
        ),
        # Orthanc nests the transfer syntax inside the quoted type.
        (
            'multipart/related; type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"; boundary=x',
            "multipart/related",
            {
                "type": "application/octet-stream",
                "transfer-syntax": "1.2.840.10008.1.2.1",
                "boundary": "x",
            },
        ),
        ('a/b; q="0.5"; x = " y "', "a/b", {"q": "0.5", "x": "y"}),
        ("", "", {}),
    ],
)
def test_parse_media_type(text: str, mime: str, params: dict[str, str]) -> None:
    parsed = media.parse_media_type(text)
    assert parsed.mime == mime
    assert parsed.params == params


def test_parse_accept_orders_by_quality_then_position() -> None:
    ranges = media.parse_accept(
        'image/png;q=0.2, multipart/related; type="a,b", image/jpeg;q=0.9, */*;q=x'
    )
    assert [r.mime for r in ranges] == ["multipart/related", "*/*", "image/jpeg", "image/png"]
    assert ranges[0].param("type") == "a,b"  # a comma inside quotes does not split
    assert media.parse_accept(None) == media.parse_accept("  ") == []


@pytest.mark.parametrize(
    ("accept", "ok"),
    [
        ("application/dicom+json", True),
        ("application/json", True),
        ("application/*", True),
        ("*/*", True),
        ("text/html, application/dicom+json;q=0.1", True),
        (None, False),  # the reference answers 406 without an Accept header
        ("application/dicom", False),
        ("", False),
    ],
)
def test_accepts_dicom_json(accept: str | None, ok: bool) -> None:
    assert media.accepts_dicom_json(accept) is ok


def _message(parts: list[tuple[str, bytes]], boundary: str) -> bytes:
    body = [
        multipart.BodyPart(ct, len(data), lambda data=data: [data])  # type: ignore[misc]
        for ct, data in parts
    ]
    encoded = b"".join(multipart.iter_message(body, boundary))
    assert multipart.message_length(body, boundary) == len(encoded)
    return encoded


def test_encoder_is_read_the_same_by_requests_toolbelt() -> None:
    payloads = [os.urandom(3000), b"", b"\r\n--not-the-boundary\r\n"]
    parts = [multipart.BodyPart("application/dicom", len(p), lambda p=p: [p]) for p in payloads]  # type: ignore[misc]
    content_type, length, body = multipart.encode(parts, "application/dicom")
    data = b"".join(body)
    assert length == len(data)
    assert content_type.startswith('multipart/related; type="application/dicom"; boundary=')
    decoded = MultipartDecoder(data, content_type)
    assert [p.content for p in decoded.parts] == payloads
    assert {p.headers[b"Content-Type"] for p in decoded.parts} == {b"application/dicom"}


def test_decoder_survives_every_split_of_the_body() -> None:
    boundary = "b0undary"
    payloads = [b"first\r\n--b0undar", b"\r\nsecond-part\r\n", b"x" * 50]
    body = _message([("application/dicom", p) for p in payloads], boundary)
    for size in (1, 2, 3, 7, len(boundary) + 4, 64, len(body)):
        chunks = [body[i : i + size] for i in range(0, len(body), size)]
        parts = list(multipart.iter_parts(chunks, boundary))
        assert [p.content for p in parts] == payloads, size
        assert [p.content_type for p in parts] == ["application/dicom"] * 3


def _decode(chunks: list[bytes], boundary: str, views: bool = False) -> list[tuple[object, bytes]]:
    decoder = multipart.StreamingDecoder(boundary)
    parts: list[tuple[object, bytes]] = []
    headers: object = None
    pieces: list[bytes] = []
    for chunk in chunks:
        for kind, value in decoder.feed(chunk, views=views):
            if kind == "headers":
                headers, pieces = value, []
            elif kind == "data":
                assert isinstance(value, bytes | memoryview) and len(value), "no empty pieces"
                if not views:
                    assert type(value) is bytes  # the server keeps pieces while more arrive
                pieces.append(bytes(value))
            else:
                parts.append((headers, b"".join(pieces)))
    decoder.close()
    return parts


@pytest.mark.parametrize("views", [False, True])
def test_decoder_survives_a_cut_at_every_position(views: bool) -> None:
    # Each delimiter, and each part's end that looks like the start of one, straddles the cut
    # at every offset; three cuts also split one delimiter in three.
    boundary = "b0undary"
    payloads = [b"\r\n--b0undar", b"", b"--b0undary\r", b"x\r\n-", b"\r"]
    body = b"preamble\r\n" + _message([("a/b", p) for p in payloads], boundary) + b"epilogue"
    expected = [({"content-type": "a/b"}, p) for p in payloads]
    for i in range(len(body) + 1):
        assert _decode([body[:i], body[i:]], boundary, views=views) == expected, i
        for j in range(i, min(i + 14, len(body)) + 1):
            chunks = [body[:i], body[i:j], body[j:]]
            assert _decode(chunks, boundary, views=views) == expected, (i, j)


def test_decoder_hands_on_a_chunk_of_content_uncopied() -> None:
    decoder = multipart.StreamingDecoder("zz")
    decoder.feed(b"--zz\r\nContent-Type: a/b\r\n\r\nstart")
    chunk = os.urandom(1 << 16).replace(b"\r", b"x")
    assert decoder.feed(chunk) == [("data", chunk)]
    assert decoder.feed(chunk)[0][1] is chunk
    # A chunk ending in what may begin a delimiter keeps only those bytes back.
    events = decoder.feed(chunk + b"\r\n-")
    assert events == [("data", chunk)]
    assert decoder.feed(b"-zz--") == [("end", None)]
    assert decoder.done


def test_iter_parts_copies_a_part_once_at_most() -> None:
    head = b"--zz\r\nContent-Type: a/b\r\n\r\n"
    whole = os.urandom(1000).replace(b"\r", b"x")
    chunks = [head, whole, b"\r\n--zz\r\n\r\nsmall\r\n--zz--"]
    parts = list(multipart.iter_parts(chunks, "zz"))
    assert parts[0].content is whole  # a part that is one chunk is that chunk
    assert parts[1].content == b"small"
    assert all(type(p.content) is bytes for p in parts)


def test_decoder_hands_out_views_on_request() -> None:
    decoder = multipart.StreamingDecoder("zz")
    events = decoder.feed(b"--zz\r\n\r\nfirst\r\n--zz\r\n\r\nsecond", views=True)
    assert [kind for kind, _ in events] == ["headers", "data", "end", "headers", "data"]
    assert isinstance(events[1][1], memoryview) and bytes(events[1][1]) == b"first"
    assert events[1][1].readonly
    assert isinstance(events[4][1], memoryview) and bytes(events[4][1]) == b"second"
    assert decoder.feed(bytearray(b"\r\n--zz--")) == [("end", None)]


def test_decoder_reads_headers_split_over_many_chunks() -> None:
    value = b"v" * (multipart.MAX_HEADER_BYTES - 200)
    padding = b" " * 3000
    body = b"--abc" + padding + b"\r\nX-Long: " + value + b"\r\n\r\nDATA\r\n--abc--"
    for size in (1, 7, 100, 4095, 4096, 4097, 9000, len(body)):
        chunks = [body[i : i + size] for i in range(0, len(body), size)]
        assert _decode(chunks, "abc") == [({"x-long": value.decode()}, b"DATA")], size


@pytest.mark.parametrize("size", [1, 100, 5000, 1 << 20])
def test_decoder_bounds_headers_whatever_the_chunks(size: int) -> None:
    too_long = [
        (b"--abc\r\nX-A: " + b"a" * 20000 + b"\r\n\r\nDATA\r\n--abc--", "headers are larger"),
        (b"--abc" + b" " * 20000 + b"\r\n\r\nDATA\r\n--abc--", "delimiter line is too long"),
    ]
    for body, message in too_long:
        chunks = [body[i : i + size] for i in range(0, len(body), size)]
        with pytest.raises(multipart.MultipartError, match=message):
            _decode(chunks, "abc")


def test_decoder_takes_a_preamble_transport_padding_and_no_final_crlf() -> None:
    body = (
        b"This is a preamble, which RFC 2046 allows.\r\n"
        b"--abc  \t\r\nContent-Type: application/dicom\r\nContent-Location: /x\r\n\r\nDATA"
        b"\r\n--abc\r\n\r\nNO-HEADERS\r\n--abc--"
    )
    parts = list(multipart.iter_parts([body], "abc"))
    assert [p.content for p in parts] == [b"DATA", b"NO-HEADERS"]
    assert parts[0].headers == {"content-type": "application/dicom", "content-location": "/x"}
    assert parts[1].content_type == ""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"--abc\r\nContent-Type: a/b\r\n\r\nDATA-WITHOUT-END",
            "ended before its closing boundary",
        ),
        (b"--abc\r\nContent-Type: a/b\r\n\r\nDATA\r\n--abc", "ended before its closing boundary"),
        (b"--abc\r\nno colon here\r\n\r\nDATA\r\n--abc--", "Malformed part header"),
        (b"--abc\r\n" + b"X-A: " + b"a" * 20000 + b"\r\n\r\n", "headers are larger"),
        (b"--abc\r\n" + b"X-A: b\r\n" * 40 + b"\r\nDATA\r\n--abc--", "more than 32 header lines"),
    ],
)
def test_decoder_refuses_broken_bodies(body: bytes, message: str) -> None:
    with pytest.raises(multipart.MultipartError, match=message):
        list(multipart.iter_parts([body], "abc"))


def test_decoder_bounds_the_boundary() -> None:
    with pytest.raises(multipart.MultipartError, match="1 to 256"):
        multipart.StreamingDecoder("x" * 257)
    with pytest.raises(multipart.MultipartError):
        multipart.StreamingDecoder("")
    multipart.StreamingDecoder("x" * 256)


def test_decoder_streams_a_large_part_without_holding_it() -> None:
    decoder = multipart.StreamingDecoder("zz")
    events = decoder.feed(b"--zz\r\nContent-Type: a/b\r\n\r\n")
    assert events == [("headers", {"content-type": "a/b"})]
    held = 0
    for _ in range(100):
        for kind, value in decoder.feed(b"\0" * 65536):
            assert kind == "data"
            held += len(value)  # type: ignore[arg-type]
    assert held >= 100 * 65536 - 16  # all but a delimiter-length tail is handed on at once
    assert decoder.in_part and not decoder.done


def test_one_wording_per_reason() -> None:
    assert (
        status.describe(status.ALREADY_EXISTS)
        == "already stored (same study, series and instance UIDs)"
    )
    assert status.describe(None) == ""
    assert status.describe(0xA7FF) == "reason code 43007 (0xA7FF)"


@pytest.mark.parametrize(
    ("attribute_id", "tag"),
    [
        ("PatientName", 0x00100010),
        ("00100010", 0x00100010),
        ("0020000d", 0x0020000D),
        ("patientname", None),  # keywords are case-sensitive (PS3.18 8.3.4.1)
        ("0010,0010", None),
        ("NotAKeyword", None),
    ],
)
def test_tag_of(attribute_id: str, tag: int | None) -> None:
    assert dicomjson.tag_of(attribute_id) == tag


def test_first_value_and_to_dataset() -> None:
    item = {
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^John"}]},
        "00280010": {"vr": "US", "Value": [512]},
        "00080050": {"vr": "SH"},
        "7FE00010": {"vr": "OW", "BulkDataURI": "http://elsewhere/bulk"},
    }
    assert dicomjson.first_value(item, 0x00100010) == "Doe^John"
    assert dicomjson.first_value(item, "00280010") == 512
    assert dicomjson.first_value(item, 0x00080050) is None
    assert dicomjson.first_value(item, 0x00080060) is None
    ds = dicomjson.to_dataset(item)
    assert str(ds.PatientName) == "Doe^John" and ds.Rows == 512
    assert ds.PixelData == b""  # bulk data is never fetched
    assert dicomjson.to_dataset(ds) is ds
    # The same answer as pydicom's own reader.
    assert ds.to_json_dict() == Dataset.from_json(item, lambda *_: b"").to_json_dict()


@pytest.mark.parametrize(
    ("value", "count"), [(None, 1), ("", 1), ("5", 5), ("0", 1), ("-3", 1), ("x", 1)]
)
def test_number_of_frames_from_json(value: str | None, count: int) -> None:
    item = (
        {}
        if value is None
        else {"00280008": {"vr": "IS", "Value": [value]} if value else {"vr": "IS"}}
    )
    assert frames.number_of_frames(item) == count


def test_number_of_frames_from_a_dataset() -> None:
    ds = Dataset()
    assert frames.number_of_frames(ds) == 1
    ds.NumberOfFrames = 7
    assert frames.number_of_frames(ds) == 7
    ds.NumberOfFrames = None
    assert frames.number_of_frames(ds) == 1


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("1.2.840.10008.1.2.1", True),
        ("1.2.840.10008.1.2.1 ", True),  # padding
        ("1.2.840.10008.1.2.1\x00", True),
        ("1..2", True),  # laxer than PS3.5, as the reference
        ("1" * 64, True),
        ("1" * 65, False),
        ("", False),
        ("1.2.", False),
        ("..", False),
        ("../../x", False),
        ("/etc/x", False),
        ("1.2\n", False),
        ("1.2\\3", False),  # two values
    ],
)
def test_uid_rule(value: str, valid: bool) -> None:
    # One rule for both ends; whatever passes is also safe as a file or folder name.
    assert is_valid_uid(value) is valid
    if valid:
        assert "/" not in value and value.strip(" \x00") not in (".", "..")
