"""DICOM JSON to pandas: column order, dtypes, PN forms, dates, bulk data, the way back."""

from __future__ import annotations

import pandas as pd
import pytest

from dicomweb_nb import DicomWebClient, LocalServer, samples
from dicomweb_nb.tables import row_json, row_uids, to_dataframe

REFERENCE_SHAPES = [
    {
        "0020000D": {"vr": "UI", "Value": ["1.2.3"]},
        "00100010": {
            "vr": "PN",
            "Value": [
                {
                    "Alphabetic": "Wang^Xiaoming",
                    "Ideographic": "王^小明",
                    "Phonetic": "ワン^シャオミン",
                }
            ],
        },
        "00100020": {"vr": "LO", "Value": ["P3"]},
        "00080020": {"vr": "DA", "Value": ["20200922"]},
        "00080030": {"vr": "TM", "Value": ["120000.5"]},
        "00080050": {"vr": "SH"},  # present but empty
        "00080061": {"vr": "CS", "Value": ["CT", "MR"]},
        "00201208": {"vr": "IS", "Value": [3]},
        "00081032": {"vr": "SQ", "Value": [{}, {}]},
        "00091001": {"vr": "LO", "Value": ["private"]},
        "7FE00010": {"vr": "OW", "BulkDataURI": "http://server/bulk/1"},
        "00282000": {"vr": "OB", "InlineBinary": "AAECAw=="},
    },
    {
        "0020000D": {"vr": "UI", "Value": ["1.2.4"]},
        "00100010": {"vr": "PN", "Value": ["Doe^John"]},  # a bare string, as some servers send
        "00080020": {"vr": "DA", "Value": ["2020-09-22"]},  # invalid: NaT, not an error
        "00080030": {"vr": "TM", "Value": ["25"]},
        "00201208": {"vr": "IS", "Value": ["7"]},  # numbers as strings
    },
    {
        "0020000D": {"vr": "UI", "Value": ["1.2.5"]},
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": "^Anna^^^"}]},
    },
]


def test_column_order_and_dtypes_are_pinned() -> None:
    df = to_dataframe(REFERENCE_SHAPES)
    assert list(df.columns) == [
        "StudyInstanceUID",
        "PatientName",
        "PatientName_ideographic",
        "PatientName_phonetic",
        "PatientID",
        "StudyDate",
        "StudyTime",
        "AccessionNumber",
        "ModalitiesInStudy",
        "NumberOfStudyRelatedInstances",
        "ProcedureCodeSequence",
        "(0009,1001)",
        "ICCProfile",
        "PixelData",
    ]
    dtypes = {c: str(t) for c, t in df.dtypes.items()}
    assert dtypes["StudyDate"].startswith("datetime64")
    assert dtypes["StudyTime"].startswith("timedelta64")
    assert dtypes["NumberOfStudyRelatedInstances"] == "Int64"
    assert dtypes["ModalitiesInStudy"] == "object"
    # Text columns take pandas' own text dtype: object in pandas 2, "str" in pandas 3.
    text = "str" if PANDAS_MAJOR >= 3 else "object"
    assert dtypes["PatientName"] == dtypes["AccessionNumber"] == text


PANDAS_MAJOR = int(pd.__version__.split(".")[0])

# One valid value per VR family, with what it becomes and the dtype of its column.
VR_CASES = {
    "DA": ("20200922", pd.Timestamp("2020-09-22"), "datetime64[ns]"),
    "DT": ("20200922120000.5", pd.Timestamp("2020-09-22 12:00:00.5"), "datetime64[ns]"),
    "TM": ("114800", pd.Timedelta(hours=11, minutes=48), "timedelta64[ns]"),
    "IS": ("7", 7, "Int64"),
    "US": (512, 512, "Int64"),
    "DS": ("2.5", 2.5, "float64"),
    "FD": (0.25, 0.25, "float64"),
    "LO": ("text", "text", "str" if PANDAS_MAJOR >= 3 else "object"),
    "UI": ("1.2.3", "1.2.3", "str" if PANDAS_MAJOR >= 3 else "object"),
    "PN": ({"Alphabetic": "Doe^John"}, "Doe, John", "str" if PANDAS_MAJOR >= 3 else "object"),
}


@pytest.mark.parametrize("vr", sorted(VR_CASES))
@pytest.mark.parametrize("pattern", ["all-empty", "all-valid", "mixed", "absent-in-some"])
def test_every_vr_survives_empty_valid_and_mixed_columns(vr: str, pattern: str) -> None:
    raw, expected, dtype = VR_CASES[vr]
    empty = {"vr": vr}  # present without a Value, as servers send ContentTime or PatientBirthDate
    valid = {"vr": vr, "Value": [raw]}
    cells = {
        "all-empty": [empty, empty, empty],
        "all-valid": [valid, valid, valid],
        "mixed": [valid, empty, valid],
        "absent-in-some": [valid, None, empty],
    }[pattern]
    items = [
        {"0020000D": {"vr": "UI", "Value": [f"1.2.{n}"]}}
        | ({"00091010": cell} if cell is not None else {})
        for n, cell in enumerate(cells)
    ]
    df = to_dataframe(items)
    column = df["(0009,1010)"]
    # All-empty text columns have nothing to tell apart from text; all other dtypes are pinned.
    assert str(column.dtype) == dtype
    for cell, value in zip(cells, column, strict=True):
        if cell is not None and "Value" in cell:
            assert value == expected
        else:
            assert pd.isna(value)


def test_values() -> None:
    df = to_dataframe(REFERENCE_SHAPES)
    first, second, third = df.iloc[0], df.iloc[1], df.iloc[2]
    assert first["PatientName"] == "Wang, Xiaoming"
    assert first["PatientName_ideographic"] == "王, 小明"
    assert first["PatientName_phonetic"] == "ワン, シャオミン"
    assert second["PatientName"] == "Doe, John"
    assert third["PatientName"] == "Anna"  # empty components dropped
    assert first["StudyDate"] == pd.Timestamp("2020-09-22")
    assert pd.isna(second["StudyDate"])
    assert first["StudyTime"] == pd.Timedelta(hours=12, seconds=0.5)
    assert pd.isna(second["StudyTime"])
    assert list(df["NumberOfStudyRelatedInstances"].iloc[:2]) == [3, 7]
    assert first["ModalitiesInStudy"] == ["CT", "MR"]
    assert first["ProcedureCodeSequence"] == "2 items"
    assert first["PixelData"] == "http://server/bulk/1"
    assert first["ICCProfile"] == "<4 bytes inline>"
    assert pd.isna(first["AccessionNumber"])


def test_way_back_after_sorting() -> None:
    df = to_dataframe(REFERENCE_SHAPES).sort_values("StudyInstanceUID", ascending=False)
    label = df.index[0]
    assert row_uids(df, label) == {"study_instance_uid": "1.2.5"}
    assert row_json(df, label) is df.attrs["dicom_json"][2]


@pytest.fixture()
def client(server: LocalServer) -> DicomWebClient:
    client = DicomWebClient(server.url)
    client.store_instances([samples.tutorial_dataset(n) for n in samples.TUTORIAL_FILES])
    client.store_instances(list(samples.synthetic_datasets(2, 2, 2, rows=32, columns=32)))
    return client


def test_search_results_show_as_tables(client: DicomWebClient) -> None:
    studies = client.search_for_studies(fields=["StudyDescription", "ModalitiesInStudy"])
    df = studies.to_dataframe()
    assert len(df) == 3
    assert list(df.columns[:4]) == [
        "StudyInstanceUID",
        "PatientName",
        "PatientID",
        "PatientBirthDate",
    ]
    assert "<table" in studies._repr_html_()
    assert set(df["PatientName"]) == {"Anony Mous", "Doe, John", "Müller, Anna"}
    series = client.search_for_series(samples.STUDY_UID).to_dataframe()
    # The server leaves the study out of a search inside it; the client adds it from the path.
    assert list(series.columns[:3]) == ["StudyInstanceUID", "SeriesInstanceUID", "Modality"]
    instances = client.search_for_instances(samples.STUDY_UID).to_dataframe()
    assert list(instances.columns[:3]) == [
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "SOPInstanceUID",
    ]
    label = instances.index[instances["SOPInstanceUID"] == samples.INSTANCE_UID_RED][0]
    uids = row_uids(instances, label)
    assert client.retrieve_instance(**uids).ImageComments == "Fake DICOM - Red Triangle"
    assert "No study results" in client.search_for_studies({"PatientID": "none"})._repr_html_()


def test_metadata_is_a_per_instance_table(client: DicomWebClient) -> None:
    df = client.retrieve_study_metadata(samples.STUDY_UID).to_dataframe()
    assert len(df) == 3
    assert sorted(df["InstanceNumber"].tolist()) == [1, 1, 2]
    assert str(df["Rows"].dtype) == "Int64" and set(df["Rows"]) == {979}
    assert list(df["PixelSpacing"].iloc[0]) == [1.0, 1.0]
    assert set(df["ImageComments"]) == {
        "Fake DICOM - Green Square",
        "Fake DICOM - Red Triangle",
        "Fake DICOM - Blue Circle",
    }


def test_orthanc_results_tabulate(orthanc_url: str) -> None:
    client = DicomWebClient(orthanc_url)
    client.store_instances([samples.tutorial_dataset(n) for n in samples.TUTORIAL_FILES])
    df = client.search_for_studies({"PatientID": "ID1"}).to_dataframe()
    assert df.loc[0, "StudyInstanceUID"] == samples.STUDY_UID
    assert df.loc[0, "StudyDate"] == pd.Timestamp("2020-09-22")
    meta = client.retrieve_study_metadata(samples.STUDY_UID).to_dataframe()
    assert len(meta) == 3
    # Orthanc sends PixelData as a BulkDataURI: it is kept as the URI, never fetched.
    assert meta["PixelData"].str.startswith("http").all()
