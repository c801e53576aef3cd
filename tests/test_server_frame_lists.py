"""Frame lists: bounded like the reference, repeats answered, frames made as they are sent.

``…/frames/1,1,1,…`` with 6,000 numbers (a 12 KB URL) on a 512×512 image took the server to 3 GB:
every frame was read into memory before the first byte went out. What the reference does
(microsoft/dicom-server at eeefbe4d7):

- src/Microsoft.Health.Dicom.Api/Features/ModelBinders/CsvModelBinder.T.cs (IntArrayModelBinder):
  splits on commas and parses every number; no length limit, no de-duplication;
- src/Microsoft.Health.Dicom.Core/Messages/Retrieve/RetrieveRequestValidator.cs (ValidateFrames):
  only refuses an empty list and negative numbers;
- RetrieveResourceService.GetFrameResourceAsync answers one part per number asked, repeats too.

So repeats stay (one part per mention, as the reference and our client's count check expect), and
the length is bounded by what can reach the reference at all: Kestrel's 8 KB request line (its
default MaxRequestLineSize; Program.cs changes only MaxRequestBodySize) lets about 4,000 numbers
through. Beyond 4,096 numbers: 400. docs/reference-server.md says the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import BinaryIO

import pytest
import requests
from starlette.testclient import TestClient

from dicomweb_nb import LocalServer, samples
from dicomweb_nb.protocol.media import parse_media_type
from dicomweb_nb.protocol.multipart import iter_parts
from dicomweb_nb.server import frame_parts
from dicomweb_nb.server.app import create_app

from .helpers import JSON, multipart, stow

MULTI = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'


def _url(base: str, ds: object) -> str:
    return (
        f"{base}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"  # type: ignore[attr-defined]
        f"/instances/{ds.SOPInstanceUID}"  # type: ignore[attr-defined]
    )


def _frame_ids(r: requests.Response) -> list[int]:
    boundary = parse_media_type(r.headers["content-type"]).param("boundary") or ""
    return [
        int.from_bytes(p.content[:2], "little") // 100 for p in iter_parts([r.content], boundary)
    ]


def test_repeats_are_answered_and_the_list_is_bounded(server: LocalServer) -> None:
    ds = samples.multiframe_dataset(frames=3, rows=8, columns=8)
    assert stow(server.url, [samples.to_bytes(ds)]).status_code == 200
    url = f"{_url(server.url, ds)}/frames"
    r = requests.get(f"{url}/2,1,2,2", headers={"Accept": MULTI})
    assert r.status_code == 200
    assert _frame_ids(r) == [2, 1, 2, 2]  # one part per number asked, in order, as the reference
    most = frame_parts.MAX_FRAME_NUMBERS
    assert most == 4096
    r = requests.get(f"{url}/{','.join(['3'] * most)}", headers={"Accept": MULTI})
    assert r.status_code == 200 and _frame_ids(r) == [3] * most
    r = requests.get(f"{url}/{','.join(['3'] * (most + 1))}", headers={"Accept": MULTI})
    assert r.status_code == 400
    assert r.text == (
        f"The frame list names {most + 1} frames; at most {most} can be retrieved in one request."
    )


def test_frames_are_made_while_the_answer_is_sent(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 4,096 frames of 512 KB: 2 GB if made up front. Read 1 MB of the answer and count how many
    # frames the server has read by then: only what socket buffers can hold ahead of the reader.
    ds = next(samples.synthetic_datasets(1, 1, 1, rows=512, columns=512))
    assert stow(server.url, [samples.to_bytes(ds)]).status_code == 200
    made = 0
    original = frame_parts._native_chunks

    def counting(fh: BinaryIO, offset: int, length: int) -> Iterator[bytes]:
        nonlocal made
        made += 1
        yield from original(fh, offset, length)

    monkeypatch.setattr(frame_parts, "_native_chunks", counting)
    target = f"{_url(server.url, ds)}/frames/{','.join(['1'] * 4096)}"
    with requests.get(target, headers={"Accept": MULTI}, stream=True, timeout=60) as r:
        assert r.status_code == 200
        assert int(r.headers["content-length"]) > 4096 * 512 * 512 * 2
        got = 0
        for chunk in r.iter_content(64 * 1024):
            got += len(chunk)
            if got >= 1 << 20:
                break
        assert made < 200, made  # generous: socket buffers, never thousands


def test_frames_are_made_off_the_event_loop(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reading and decoding block; Starlette iterates sync bodies in its thread pool, where no
    # event loop runs. A frame made on the loop's thread would find one.
    ds = samples.multiframe_dataset(frames=3, rows=8, columns=8)
    threads_with_a_loop: list[bool] = []
    original = frame_parts._native_chunks

    def checking(fh: BinaryIO, offset: int, length: int) -> Iterator[bytes]:
        try:
            asyncio.get_running_loop()
            threads_with_a_loop.append(True)
        except RuntimeError:
            threads_with_a_loop.append(False)
        yield from original(fh, offset, length)

    monkeypatch.setattr(frame_parts, "_native_chunks", checking)
    with TestClient(create_app(tmp_path)) as client:  # type: ignore[arg-type]
        body, content_type = multipart([samples.to_bytes(ds)])
        stored = client.post(
            "/v1/studies", content=body, headers={**JSON, "Content-Type": content_type}
        )
        assert stored.status_code == 200
        r = client.get(f"{_url('/v1', ds)}/frames/1,2,3", headers={"Accept": MULTI})
        assert r.status_code == 200
    assert threads_with_a_loop == [False, False, False]
