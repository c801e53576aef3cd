"""The server's pure modules, in process: negotiation, query parsing, STOW bodies, the error path.

Behaviour over the wire is tested in test_server_*.py; these pin each rule where it is written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import IO

import anyio
import pytest
from starlette.testclient import TestClient

from dicomweb_nb.protocol.multipart import BodyPart, iter_message
from dicomweb_nb.server import body_blocks, stow_body
from dicomweb_nb.server.app import create_app
from dicomweb_nb.server.errors import RequestError
from dicomweb_nb.server.index import Index
from dicomweb_nb.server.negotiation import ELE, J2K_LOSSLESS, Choice, choose, choose_rendered
from dicomweb_nb.server.query import QueryError, parse_query
from dicomweb_nb.server.routes import wado as wado_routes
from dicomweb_nb.server.stow_body import (
    BodyReceiver,
    ReceivedPart,
    UnwrittenPart,
    check_content_type,
)

OCTETS = "application/octet-stream"


@pytest.mark.parametrize(
    ("accept", "kind", "frames", "expected"),
    [
        (None, "bulk", 1, Choice(True, "application/dicom", "*")),
        ("*/*", "instance", 1, Choice(True, "application/dicom", "*")),
        (
            'multipart/related; type="application/dicom"',
            "bulk",
            1,
            Choice(True, "application/dicom", ELE),
        ),
        (
            "multipart/related; type=application/dicom; transfer-syntax=*",
            "bulk",
            1,
            Choice(True, "application/dicom", "*"),
        ),
        ("application/dicom", "instance", 1, Choice(False, "application/dicom", ELE)),
        (
            f"application/dicom; transfer-syntax={J2K_LOSSLESS}",
            "instance",
            1,
            Choice(False, "application/dicom", J2K_LOSSLESS),
        ),
        (
            'multipart/related; type="image/jp2"',
            "frames",
            2,
            Choice(True, "image/jp2", J2K_LOSSLESS),
        ),
        ('multipart/related; type="*/*"', "frames", 2, Choice(True, OCTETS, "*")),
        (OCTETS, "frames", 1, Choice(False, OCTETS, ELE)),
    ],
)
def test_choose(accept: str | None, kind: str, frames: int, expected: Choice) -> None:
    assert choose(accept, kind, frames) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("accept", "kind", "frames", "status"),
    [
        ("application/dicom", "bulk", 1, 406),  # a study is never single-part
        ("application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50", "instance", 1, 406),
        ("text/html", "instance", 1, 406),
        (OCTETS, "frames", 3, 400),  # one single-part body cannot hold three frames
    ],
)
def test_choose_refuses(accept: str, kind: str, frames: int, status: int) -> None:
    with pytest.raises(RequestError) as caught:
        choose(accept, kind, frames)  # type: ignore[arg-type]
    assert caught.value.status == status


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "image/jpeg"),
        ("", "image/jpeg"),
        ("image/png", "image/png"),
        ("image/jpeg", "image/jpeg"),
        # Beyond the reference, which answers 406 to these (docs/reference-server.md, WADO-RS):
        ("*/*", "image/jpeg"),  # PS3.18's default rendered type
        ("image/*", "image/jpeg"),
        ("image/png, image/jpeg", "image/png"),  # the first acceptable one
        ("image/gif, image/png;q=0.5", "image/png"),
        ("image/png;q=0, */*", "image/jpeg"),  # q=0: not acceptable
        # What Chromium sends for <img>
        ("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "image/jpeg"),
        ("application/jpeg", "image/jpeg"),  # the reference's Postman collection
        ("application/png", "image/png"),
    ],
)
def test_choose_rendered(accept: str | None, chosen: str) -> None:
    assert choose_rendered(accept) == chosen


@pytest.mark.parametrize("accept", ["image/gif", "application/dicom", "image/png;q=0"])
def test_choose_rendered_refuses_what_it_cannot_make(accept: str) -> None:
    with pytest.raises(RequestError) as caught:
        choose_rendered(accept)
    assert caught.value.status == 406


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ([("Nonsense", "x")], "Nonsense"),
        ([("Modality", "CT")], "Modality"),  # not searchable on /studies
        ([("PatientID", "")], "PatientID"),
        ([("PatientID", "a"), ("PatientID", "b")], "PatientID"),
        ([("StudyDate", "2020-01-01")], "StudyDate"),
        ([("limit", "0")], "limit"),
        ([("includefield", "all"), ("includefield", "PatientAge")], "includefield"),
    ],
)
def test_query_errors_name_the_parameter(params: list[tuple[str, str]], fragment: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("study", params, path={}, version="2")
    assert caught.value.status == 400
    assert fragment in str(caught.value)


def test_query_parses_filters_and_paging() -> None:
    query = parse_query(
        "study",
        [("PatientName", "doe*"), ("StudyDate", "20200101-"), ("limit", "5"), ("offset", "10")],
        path={},
        version="2",
    )
    assert (query.limit, query.offset) == (5, 10)
    assert [(f.attribute.keyword, f.kind) for f in query.filters] == [
        ("PatientName", "wildcard"),
        ("StudyDate", "range"),
    ]


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        (None, 415),
        ("multipart/form-data; boundary=x", 415),
        ("multipart/related", 415),  # no boundary
        ('multipart/related; type="application/json"; boundary=x', 415),
        ("multipart/related; boundary=x; start=<a>", 400),
        ("multipart/related; boundary=" + "b" * 257, 400),
    ],
)
def test_stow_content_type_refusals(content_type: str | None, status: int) -> None:
    with pytest.raises(RequestError) as caught:
        check_content_type(content_type)
    assert caught.value.status == status


def test_stow_content_types_taken() -> None:
    assert check_content_type("application/dicom") == (False, None)
    assert check_content_type("multipart/related; boundary=abc") == (True, "abc")
    assert check_content_type('multipart/related; type="application/dicom"; boundary="a b"') == (
        True,
        "a b",
    )


def _opener(folder: Path):  # type: ignore[no-untyped-def]
    counter = iter(range(1000))

    def open_part() -> tuple[IO[bytes], Path]:
        path = folder / f"part-{next(counter)}"
        return open(path, "wb"), path

    return open_part


def _receive(receiver: BodyReceiver, body: bytes, step: int) -> list[ReceivedPart]:
    async def run() -> list[ReceivedPart]:
        done: list[ReceivedPart] = []
        for i in range(0, len(body), step):  # delimiters split across chunks
            done += await receiver.feed(body[i : i + step])
        return done + await receiver.finish()

    return anyio.run(run)


def _content(part: ReceivedPart) -> bytes:
    assert not isinstance(part, UnwrittenPart), part
    return part.read_bytes() if isinstance(part, Path) else part


def test_body_receiver_hands_out_each_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small parts stay in memory; one over the spool size goes to its own temp file.
    monkeypatch.setattr(stow_body, "SPOOL_BYTES", 5000)
    monkeypatch.setattr(stow_body, "SPILL_BLOCK", 300)
    payloads = [b"A" * 1000, b"B\r\n--b" * 10, bytes(range(256)) * 40]
    parts = [BodyPart("application/dicom", len(p), lambda p=p: [p]) for p in payloads]  # type: ignore[misc]
    body = b"".join(iter_message(parts, "b0"))
    done = _receive(BodyReceiver("b0", _opener(tmp_path)), body, 7)
    assert [type(p) for p in done] == [bytes, bytes, type(tmp_path)]
    assert [_content(p) for p in done] == payloads
    # A single application/dicom body is one part, spilled the same way when it is large.
    [single] = _receive(BodyReceiver(None, _opener(tmp_path)), payloads[2], 999)
    assert isinstance(single, Path) and single.read_bytes() == payloads[2]


def test_body_receiver_refuses_other_part_types_and_truncation(tmp_path: Path) -> None:
    with pytest.raises(RequestError) as caught:
        _receive(
            BodyReceiver("b0", _opener(tmp_path)),
            b"--b0\r\nContent-Type: application/json\r\n\r\n{}",
            100,
        )
    assert caught.value.status == 415 and "Part 1" in str(caught.value)
    receiver = BodyReceiver("b0", _opener(tmp_path))
    with pytest.raises(RequestError) as caught:
        _receive(receiver, b"--b0\r\n\r\nDATA-WITHOUT-ITS-END", 100)
    assert caught.value.status == 400
    receiver.close()
    assert list(tmp_path.iterdir()) == []  # nothing of the half part is left


def test_unexpected_errors_answer_500_with_a_request_id_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A fault no real request can cause on demand: the index itself fails.
    def broken(_self: Index) -> dict[str, int]:
        raise RuntimeError(f"disk on fire at {tmp_path}/index.sqlite")

    monkeypatch.setattr(Index, "counts", broken)
    with (
        caplog.at_level(logging.ERROR, "dicomweb_nb.server"),
        TestClient(create_app(tmp_path), raise_server_exceptions=False) as client,
    ):
        response = client.get("/health/check")
    assert response.status_code == 500
    assert "request id" in response.text
    assert "disk on fire" not in response.text and str(tmp_path) not in response.text
    assert "RuntimeError" not in response.text
    request_id = response.text.split("request id ")[1].split(";")[0]
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)


def test_request_errors_are_plain_text(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path)) as client:
        response = client.get(
            "/v2/studies", params={"Nonsense": "1"}, headers={"Accept": "application/dicom+json"}
        )
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/plain")
        assert "Nonsense" in response.text
        refused = client.get("/v2/studies", headers={"Accept": "application/dicom"})
        assert refused.status_code == 406


@pytest.mark.parametrize("gather", [64, 100, 1 << 20])
def test_file_blocks_encode_as_iter_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gather: int
) -> None:
    # Files read straight into blocks: the same bytes as the generic encoder, whatever
    # the block size (heads and delimiters straddling blocks, files larger than a block).
    monkeypatch.setattr(body_blocks, "BLOCK", gather)
    sizes = [0, 1, 63, 64, 65, 200, 1000]
    stored = []
    for n, size in enumerate(sizes):
        path = tmp_path / f"f{n}"
        path.write_bytes(bytes((n * 7 + i) % 251 for i in range(size)))
        part = BodyPart("application/dicom", size, lambda p=path: [p.read_bytes()])  # type: ignore[misc]
        stored.append((part, open(path, "rb")))  # noqa: SIM115 (closed below)
    try:
        pieces = wado_routes._stored_message(stored, "b0")
        sent = b"".join(bytes(b) for b in body_blocks.blocks(pieces))  # the block is reused
    finally:
        for _, fh in stored:
            fh.close()
    assert sent == b"".join(iter_message([p for p, _ in stored], "b0"))
