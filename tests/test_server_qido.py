"""QIDO-RS on the embedded server: matching rules, returned attributes, paging and errors."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from dicomweb_nb.server.local import LocalServer

from .helpers import JSON, make_instance, stow

# Four studies with known attributes; study 1 has two series (CT and MR).
STUDIES = [
    dict(
        PatientName="Doe^John",
        PatientID="P1",
        StudyDate="20200115",
        AccessionNumber="ACC1",
        StudyDescription="CT Chest",
        ReferringPhysicianName="Smith^Anna",
        PatientBirthDate="19700101",
    ),
    dict(
        PatientName="Hall^Xavier^Tá",
        PatientID="P2",
        StudyDate="20210620",
        AccessionNumber="ACC2",
        StudyDescription="CT Head",
        ReferringPhysicianName="Jones^Bob",
        PatientBirthDate="19800505",
    ),
    dict(
        PatientName="Wang^Xiaoming=王^小明",
        PatientID="P3",
        StudyDate="20211231",
        AccessionNumber="ACC3",
        StudyDescription="MR Knee",
        ReferringPhysicianName="Smith^Anna",
        PatientBirthDate="19900909",
    ),
    dict(
        PatientName="Marsh^Mary",
        PatientID="P4",
        StudyDate="20230301",
        AccessionNumber="ACC4",
        StudyDescription="CT Abdomen",
        ReferringPhysicianName="Lee^Kim",
        PatientBirthDate="20000101",
    ),
]


def study_uid(i: int) -> str:
    return f"1.2.826.0.1.3680043.10.1.{i + 1}"


@pytest.fixture()
def loaded(server: LocalServer) -> LocalServer:
    parts = []
    for i, attrs in enumerate(STUDIES):
        for s, modality in enumerate(["CT", "MR"] if i == 0 else ["CT"]):
            for k in range(2):
                parts.append(
                    make_instance(
                        study_uid(i),
                        f"{study_uid(i)}.{s + 1}",
                        f"{study_uid(i)}.{s + 1}.{k + 1}",
                        Modality=modality,
                        ManufacturerModelName="Model-" + modality,
                        PerformedProcedureStepStartDate=attrs["StudyDate"],
                        InstanceNumber=k + 1,
                        **attrs,
                    )
                )
    assert stow(server.url, parts).status_code == 200
    return server


def qido(server: LocalServer, path: str, version: str = "1", **params: Any) -> requests.Response:
    return requests.get(f"{server.base_url}/v{version}{path}", params=params, headers=JSON)


def uids(response: requests.Response, tag: str = "0020000D") -> list[str]:
    if response.status_code == 204:
        return []
    assert response.status_code == 200, response.text
    return [item[tag]["Value"][0] for item in response.json()]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [3, 2, 1, 0]),
        ({"PatientID": "p2"}, [1]),  # case-insensitive
        ({"00100020": "P3"}, [2]),  # hex tag id
        ({"PatientName": "doe^john"}, [0]),
        ({"PatientName": "Hall^Xavier^Ta"}, [1]),  # accent-insensitive
        ({"PatientName": "王^小明"}, [2]),  # an ideographic group matches
        ({"PatientName": "jo do", "fuzzymatching": "true"}, [0]),
        ({"PatientName": "xia", "fuzzymatching": "true"}, [2]),
        ({"PatientName": "x", "fuzzymatching": "true"}, [2, 1]),
        ({"PatientName": "ohn", "fuzzymatching": "true"}, []),
        ({"PatientName": "Ma*"}, [3]),  # wildcard (a superset of the reference)
        ({"PatientName": "d?e^*"}, [0]),
        ({"StudyDate": "20210620"}, [1]),
        ({"StudyDate": "20210101-20211231"}, [2, 1]),
        ({"StudyDate": "20211231-"}, [3, 2]),
        ({"StudyDate": "-20200115"}, [0]),
        ({"PatientBirthDate": "19800505"}, [1]),
        ({"AccessionNumber": "acc4"}, [3]),
        ({"StudyDescription": "CT*"}, [3, 1, 0]),
        ({"ReferringPhysicianName": "Smith^Anna"}, [2, 0]),
        ({"ModalitiesInStudy": "MR"}, [0]),
        ({"StudyInstanceUID": f"{study_uid(0)},{study_uid(3)}"}, [3, 0]),  # UID list
        ({"StudyInstanceUID": f"{study_uid(1)}\\{study_uid(2)}"}, [2, 1]),
        ({"limit": "2"}, [3, 2]),
        ({"limit": "2", "offset": "2"}, [1, 0]),
        ({"offset": "10"}, []),
    ],
)
def test_study_matching(loaded: LocalServer, params: dict[str, str], expected: list[int]) -> None:
    assert uids(qido(loaded, "/studies", **params)) == [study_uid(i) for i in expected]


def test_no_match_is_204(loaded: LocalServer) -> None:
    r = qido(loaded, "/studies", PatientID="nobody")
    assert r.status_code == 204
    assert r.content == b""


def test_series_and_instance_routes(loaded: LocalServer) -> None:
    s0 = study_uid(0)
    assert len(uids(qido(loaded, "/series"), "0020000E")) == 5
    assert uids(qido(loaded, "/series", Modality="MR"), "0020000E") == [f"{s0}.2"]
    assert uids(qido(loaded, "/series", PatientID="P1"), "0020000E") == [f"{s0}.2", f"{s0}.1"]
    assert len(uids(qido(loaded, f"/studies/{s0}/series"), "0020000E")) == 2
    r = qido(loaded, f"/studies/{s0}/series", ManufacturerModelName="model-ct")
    assert uids(r, "0020000E") == [f"{s0}.1"]
    assert len(uids(qido(loaded, "/instances"), "00080018")) == 10
    assert len(uids(qido(loaded, f"/studies/{s0}/instances"), "00080018")) == 4
    r = qido(loaded, f"/studies/{s0}/series/{s0}.1/instances", SOPInstanceUID=f"{s0}.1.2")
    assert uids(r, "00080018") == [f"{s0}.1.2"]
    r = qido(loaded, "/instances", StudyDate="20230301", Modality="CT")
    assert len(uids(r, "00080018")) == 2


def test_returned_attributes_v1_and_v2(loaded: LocalServer) -> None:
    s0 = study_uid(0)
    [v1] = qido(loaded, "/studies", PatientID="P1").json()
    assert {"00080005", "00080020", "00100010", "00100020", "0020000D"} <= set(v1)
    # The counts and ModalitiesInStudy come without includefield (beyond the reference).
    assert v1["00080061"]["Value"] == ["CT", "MR"]
    assert v1["00201208"]["Value"] == [4] and v1["00201206"]["Value"] == [2]
    assert "00081030" not in v1  # StudyDescription is not a v1 default
    [v2] = qido(loaded, "/studies", version="2", PatientID="P1").json()
    assert "00081030" in v2 and "00080005" not in v2
    [all_] = qido(loaded, "/studies", PatientID="P1", includefield="all").json()
    assert all_["00081030"]["Value"] == ["CT Chest"]
    assert all_["00080061"]["Value"] == ["CT", "MR"]
    assert all_["00201208"]["Value"] == [4]
    assert all_["00201206"]["Value"] == [2]
    [counted] = qido(
        loaded, "/studies", PatientID="P1", includefield="NumberOfStudyRelatedInstances"
    ).json()
    assert counted["00201208"]["Value"] == [4]
    # /series carries the study's attributes; /studies/{s}/series does not.
    series = qido(
        loaded, "/series", PatientID="P1", includefield="NumberOfSeriesRelatedInstances"
    ).json()
    assert all("00100010" in item and item["00201209"]["Value"] == [2] for item in series)
    nested = qido(loaded, f"/studies/{s0}/series").json()
    assert all("00100010" not in item for item in nested)
    assert all(item["00201209"]["Value"] == [2] for item in nested)  # by default
    # Instances have no counts; the study's and series' stay where they were not asked for.
    [inst] = qido(
        loaded, f"/studies/{s0}/series/{s0}.1/instances", SOPInstanceUID=f"{s0}.1.2"
    ).json()
    assert not {"00080061", "00201206", "00201208", "00201209"} & set(inst)
    # /instances carries study and series attributes; the filter attribute is returned too.
    [inst] = qido(loaded, "/instances", SOPInstanceUID=f"{s0}.2.1").json()
    assert inst["00080060"]["Value"] == ["MR"]
    assert inst["00100020"]["Value"] == ["P1"]


def test_empty_attributes_are_omitted(server: LocalServer) -> None:
    raw = make_instance("1.2.3", "1.2.3.4", "1.2.3.4.5", AccessionNumber="", PatientBirthDate="")
    assert stow(server.url, [raw]).status_code == 200
    [study] = qido(server, "/studies").json()
    assert "00080050" not in study and "00100030" not in study
    assert study["00100010"]["Value"] == [{"Alphabetic": "Doe^John"}]
    # Metadata keeps them, as {"vr": ...} without a Value.
    [meta] = requests.get(f"{server.url}/studies/1.2.3/metadata", headers=JSON).json()
    assert meta["00080050"] == {"vr": "SH"}


def test_ohif_style_query(loaded: LocalServer) -> None:
    url = (
        f"{loaded.url}/studies?limit=25&offset=0&includefield=00081030%2C00080060"
        "&StudyDate=19521125-20210507"
    )
    r = requests.get(url, headers=JSON)
    assert r.status_code == 200
    assert [item["00081030"]["Value"][0] for item in r.json()] == ["CT Chest"]


@pytest.mark.parametrize(
    ("path", "params", "needle"),
    [
        ("/studies", {"Foo": "1"}, "Foo"),
        ("/studies", {"Modality": "CT"}, "Modality"),
        ("/studies", {"PatientName": ""}, "empty"),
        ("/studies", {"StudyDate": "2020-01-01"}, "yyyyMMdd"),
        ("/studies", {"StudyDate": "20201301"}, "valid date"),
        ("/studies", {"StudyDate": "-"}, "bounds"),
        ("/studies", {"StudyDate": "20210101-20200101"}, "after"),
        ("/studies", {"limit": "0"}, "limit"),
        ("/studies", {"limit": "201"}, "limit"),
        ("/studies", {"limit": "ten"}, "limit"),
        ("/studies", {"offset": "-1"}, "offset"),
        ("/studies", {"includefield": "all,PatientName"}, "all"),
        ("/studies", {"includefield": "NotAKeyword"}, "NotAKeyword"),
        ("/studies", {"fuzzymatching": "maybe"}, "fuzzymatching"),
        ("/studies", {"StudyInstanceUID": "abc"}, "abc"),
        ("/studies/1.2.3/series", {"PatientID": "P1"}, "PatientID"),
        ("/studies/1.2.3/series", {"StudyInstanceUID": "1.2.3"}, "StudyInstanceUID"),
        ("/studies/1.2.3/series/1.2.3.4/instances", {"Modality": "CT"}, "Modality"),
        ("/studies/bad-uid/series", {}, "bad-uid"),
    ],
)
def test_bad_queries_are_400(
    loaded: LocalServer, path: str, params: dict[str, str], needle: str
) -> None:
    r = qido(loaded, path, **params)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/plain")
    assert needle in r.text


def test_repeated_attribute_is_400(loaded: LocalServer) -> None:
    r = requests.get(f"{loaded.url}/studies?PatientID=P1&00100020=P2", headers=JSON)
    assert r.status_code == 400
    assert "more than once" in r.text


def test_accept_gate(loaded: LocalServer) -> None:
    url = f"{loaded.url}/studies"
    assert requests.get(url).status_code == 200  # requests sends */*
    for accept in ("application/json", "application/*", "application/dicom+json; q=0.9"):
        assert requests.get(url, headers={"Accept": accept}).status_code == 200, accept
    assert requests.get(url, headers={"Accept": "application/dicom"}).status_code == 406
    assert requests.get(url, headers={"Accept": None}).status_code == 406
