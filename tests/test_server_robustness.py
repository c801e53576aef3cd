"""Arbitrary input never gets a 500 and never leaves half-stored data (property-based)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicomweb_nb import samples
from dicomweb_nb.server.local import LocalServer

from .helpers import JSON, multipart

NAMES = st.sampled_from(
    [
        "PatientName",
        "PatientID",
        "StudyDate",
        "00100010",
        "Modality",
        "limit",
        "offset",
        "includefield",
        "fuzzymatching",
        "SOPInstanceUID",
        "StudyInstanceUID",
        "bogus",
        "",
    ]
)
VALUES = st.text(min_size=0, max_size=20)
SETTINGS = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with LocalServer(tmp_path_factory.mktemp("robust")) as server:
        body, content_type = multipart(
            [samples.to_bytes(samples.tutorial_dataset(n)) for n in samples.TUTORIAL_FILES]
        )
        r = requests.post(
            f"{server.url}/studies", body, headers={**JSON, "Content-Type": content_type}
        )
        assert r.status_code == 200
        yield server


@SETTINGS
@given(
    path=st.sampled_from(
        ["/studies", "/series", "/instances", f"/studies/{samples.STUDY_UID}/series"]
    ),
    params=st.lists(st.tuples(NAMES, VALUES), max_size=4),
)
def test_any_query_is_answered(
    loaded: LocalServer, path: str, params: list[tuple[str, str]]
) -> None:
    r = requests.get(f"{loaded.url}{path}", params=params, headers=JSON)
    assert r.status_code in (200, 204, 400), r.text
    if r.status_code == 200:
        assert isinstance(r.json(), list)


# Query values of any length, made of what matching treats specially: wildcards, PN separators,
# accents, and plain letters. Each must be answered (and quickly: the matcher is linear).
LONG_VALUES = st.text(alphabet="ab*?^=, éÄ-\\", min_size=0, max_size=3000)


@SETTINGS
@given(
    key=st.sampled_from(["PatientName", "PatientID", "StudyDescription", "ModalitiesInStudy"]),
    value=LONG_VALUES,
    fuzzy=st.booleans(),
)
def test_query_values_of_any_length_are_answered(
    loaded: LocalServer, key: str, value: str, fuzzy: bool
) -> None:
    params = {key: value, "fuzzymatching": "true" if fuzzy else "false"}
    r = requests.get(f"{loaded.url}/studies", params=params, headers=JSON, timeout=60)
    assert r.status_code in (200, 204, 400), r.text


@SETTINGS
@given(data=st.binary(max_size=600), cut=st.integers(min_value=0, max_value=5000))
def test_any_part_is_answered(loaded: LocalServer, data: bytes, cut: int) -> None:
    # Arbitrary bytes, and a real file cut short or with bytes spliced in.
    real = samples.to_bytes(samples.tutorial_dataset("red-triangle.dcm"))
    for part in (data, real[:cut] + data, real[:132] + data):
        body, content_type = multipart([part])
        r = requests.post(
            f"{loaded.url}/studies", body, headers={**JSON, "Content-Type": content_type}
        )
        assert r.status_code in (200, 202, 409), r.text
    r = requests.get(f"{loaded.url}/instances", headers=JSON)
    assert len(r.json()) == 3


@SETTINGS
@given(accept=st.text(max_size=60), frames=st.text(max_size=8))
def test_any_accept_and_frame_list(loaded: LocalServer, accept: str, frames: str) -> None:
    url = (
        f"{loaded.url}/studies/{samples.STUDY_UID}/series/{samples.SERIES_UID_BLUE}"
        f"/instances/{samples.INSTANCE_UID_BLUE}"
    )
    header = accept.encode("latin-1", "replace").decode("latin-1")
    headers = {"Accept": "".join(c for c in header if c.isprintable()).strip()}
    for target in (url, f"{url}/frames/{requests.utils.quote(frames) or '1'}", f"{url}/rendered"):
        r = requests.get(target, headers=headers)
        assert r.status_code in (200, 400, 404, 406), (target, r.status_code, r.text)


def test_no_temp_files_left(loaded: LocalServer) -> None:
    assert list((Path(loaded.data_dir or "") / "tmp").iterdir()) == []


@SETTINGS
@given(
    numbers=st.one_of(
        st.lists(st.integers(min_value=-2, max_value=3), max_size=40),
        # Long lists, up to past the 4,096 bound, of one number repeated.
        st.tuples(st.integers(0, 6000), st.integers(-1, 2)).map(lambda t: [t[1]] * t[0]),
    ),
    accept=st.sampled_from(
        [
            'multipart/related; type="application/octet-stream"; transfer-syntax=*',
            'multipart/related; type="application/octet-stream"',
            'multipart/related; type="image/jp2"',
            "application/octet-stream",
            "*/*",
        ]
    ),
)
def test_any_frame_list_is_answered(loaded: LocalServer, numbers: list[int], accept: str) -> None:
    url = (
        f"{loaded.url}/studies/{samples.STUDY_UID}/series/{samples.SERIES_UID_BLUE}"
        f"/instances/{samples.INSTANCE_UID_BLUE}/frames/{','.join(map(str, numbers))}"
    )
    # Headers only: a long list is gigabytes, and the answer's status is what is asserted.
    with requests.get(url, headers={"Accept": accept}, stream=True, timeout=60) as r:
        assert r.status_code in (200, 400, 404, 406), (len(numbers), r.status_code, r.text[:200])
