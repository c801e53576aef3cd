"""Errors in Jupyter as one line with what to do; workshop checks that don't give answers away."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from dicomweb_nb import samples
from dicomweb_nb.teaching import CheckFailed, check_answer, digest, expect_status

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _run(cells: list[str], tmp_path: Path) -> list[dict[str, Any]]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    NotebookClient(
        nb,
        timeout=120,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    return [cell.outputs for cell in nb.cells]


def _error_lines(outputs: list[dict[str, Any]]) -> list[str]:
    [error] = [o for o in outputs if o["output_type"] == "error"]
    return [ANSI.sub("", line) for line in "\n".join(error["traceback"]).splitlines()]


def test_errors_in_a_notebook_are_one_line_with_what_to_do(tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9/v1"
    outputs = _run(
        [
            "%load_ext dicomweb_nb\n"
            "import requests\n"
            "from dicomweb_nb import DicomWebClient, LocalServer, samples\n"
            "server = LocalServer().start()\n"
            "blue = samples.to_bytes(samples.tutorial_dataset('blue-circle.dcm'))\n"
            "headers = {'Content-Type': 'application/dicom', 'Accept': 'application/dicom+json'}",
            f"DicomWebClient({dead!r}).search_for_studies()",
            "%tb",
            f"requests.get({dead!r} + '/studies')",
            "client_defined_further_down.search_for_studies()",
            "for _ in range(2):\n"
            "    response = requests.post(server.url + '/studies', blue, headers=headers)\n"
            "response.raise_for_status()",
            "from dicomweb_nb.teaching import check_answer\ncheck_answer('answer_1', ..., 'x')",
            "server.stop()",
        ],
        tmp_path,
    )
    client_error = _error_lines(outputs[1])
    assert len(client_error) == 1 and len(client_error[0]) < 400
    assert client_error[0].startswith("ConnectionFailed: GET http://127.0.0.1:9/v1/studies")
    assert "Is the server running" in client_error[0] and "%tb" in client_error[0]
    full = _error_lines(outputs[2])
    assert len(full) > 20 and any("ConnectionRefusedError" in line for line in full)
    raw = _error_lines(outputs[3])
    assert len(raw) == 1 and "server is stopped or the URL is wrong" in raw[0]
    name = _error_lines(outputs[4])
    assert len(name) == 1 and "client_defined_further_down" in name[0]
    assert "run the cells above in order" in name[0]
    conflict = _error_lines(outputs[5])
    assert len(conflict) == 1 and "answered 409 Conflict: already stored" in conflict[0]
    assert "run the cleanup cell" in conflict[0] and "00081198" not in conflict[0]
    missing = _error_lines(outputs[6])
    assert len(missing) == 1 and "write your answer in answer_1" in missing[0]


def test_check_answer_accepts_equivalent_forms_and_reveals_nothing() -> None:
    import numpy as np
    import pandas as pd

    expected = digest("answer_4", (237, 28, 36))
    assert check_answer("answer_4", (237, 28, 36), expected) == "✔ Correct!"
    assert check_answer("answer_4", np.array([237, 28, 36], np.uint8), expected)
    with pytest.raises(CheckFailed, match=r"answer_4 = \(1, 2, 3\) is not the answer \(R, G, B\)"):
        check_answer("answer_4", (1, 2, 3), expected, "R, G, B")
    series = pd.Series({"CT": 16, "MR": 4, "OT": 3})
    assert check_answer("answer_3", series, digest("answer_3", {"MR": 4, "OT": 3, "CT": 16}))
    assert digest("answer_1", 3) != digest("answer_2", 3)  # salted per exercise


def test_workshop_check_cells_do_not_compute_or_contain_the_answers() -> None:
    exercises = json.loads((ROOT / "notebooks/workshop/exercises.ipynb").read_text())
    checks = [
        "".join(c["source"])
        for c in exercises["cells"]
        if c["cell_type"] == "code" and "".join(c["source"]).startswith("check_answer(")
    ]
    assert len(checks) == 4
    for source in checks:
        for giveaway in ("client", "search_for", "samples.", "237", "== "):
            assert giveaway not in source, (giveaway, source)


def test_expect_status() -> None:
    class Response:
        status_code, reason, url = 404, "Not Found", "http://x/v1/studies/1"
        request = None

    with pytest.raises(CheckFailed, match="404 Not Found: it is not there"):
        expect_status(Response(), 200)
    assert expect_status(Response(), 404) is not None
    assert samples.STUDY_UID  # the module imports cleanly next to samples


def test_a_long_server_message_is_cut_but_the_hint_stays() -> None:
    from dicomweb_nb.client import NotFound

    error = NotFound(
        "GET http://x/v1/studies/1 -> 404 Not Found: " + "word " * 100 + "(check the UIDs)",
        status_code=404,
        url="http://x/v1/studies/1",
        detail="word " * 100,
    )
    [line] = error._render_traceback_()
    text = ANSI.sub("", line)
    assert (
        "\n" not in text
        and len(text) < 300
        and text.endswith("(check the UIDs)  (%tb: full traceback)")
    )
    assert len(error._render_traceback_()) > 0  # the second time (%tb): the full traceback


def test_notebooks_keep_test_markers_and_asserts_out_of_learners_code() -> None:
    notebooks = sorted((ROOT / "notebooks").rglob("*.ipynb"))
    assert len(notebooks) == 9  # 01 en/zh, 02–05, exercises, solutions, teacher
    for path in notebooks:
        for cell in json.loads(path.read_text())["cells"]:
            source = "".join(cell["source"])
            assert "NBVAL" not in source, path  # markers are cell tags, invisible to learners
            if cell["cell_type"] == "code" and re.search(r"^assert ", source, re.M):
                # The only asserts are in cells tagged for the tests, folded away.
                assert "test" in cell["metadata"].get("tags", []), (path, source)
                assert cell["metadata"]["jupyter"]["source_hidden"], (path, source)


def test_stored_notebooks_were_run_and_keep_their_figures() -> None:
    # The docs show the stored outputs, and nbval compares only cells that were run.
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        if path.name == "exercises.ipynb":
            continue  # handed out blank
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            assert cell["execution_count"] is not None, (path, cell["source"])
            if "".join(cell["source"]).rstrip().endswith("\nfig"):
                kinds = [set(o.get("data", {})) for o in cell["outputs"]]
                assert any("image/png" in k for k in kinds), (path, cell["source"])
