"""Every notebook, run in JupyterLab in Chromium as a learner would: Run All, then no error output
(but the exercise checks, which must fail in one line before an answer is written), every figure
drawn, every widget rendered. Screenshots of notebooks 01 and 03 for the README (docs/ only with
UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from .lab import Lab, errors, image_count, open_notebook, run_all, shots_folder, stored_image_count

NOTEBOOKS = [
    "01_dicomweb_standard_apis.ipynb",
    "zh/01_dicomweb_standard_apis.ipynb",
    "02_exploring_with_dataframes.ipynb",
    "03_viewing_images.ipynb",
    "04_panel.ipynb",
    "05_viewing_in_ohif.ipynb",
    "workshop/exercises.ipynb",
    "workshop/solutions.ipynb",
    "workshop/teacher.ipynb",
]
# What to photograph for the README: the page scrolled to the first cell whose source has
# this text (01: a raw call and the client's one-call version), or that cell alone (03).
SHOTS = {
    "01_dicomweb_standard_apis.ipynb": ("notebook-01.png", "rawfile = (path_to_dicoms_dir", "page"),
    "03_viewing_images.ipynb": ("notebook-03.png", "fig = show(slice_, colorbar=True)", "cell"),
}


def _shutdown_kernels(lab: Lab) -> None:
    sessions = requests.get(f"{lab.base}/api/sessions?token={lab.token}", timeout=10).json()
    for session in sessions:
        requests.delete(f"{lab.base}/api/sessions/{session['id']}?token={lab.token}", timeout=30)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab(notebook: str, lab: Lab, chromium: Any) -> None:
    page = chromium.new_page(viewport={"width": 1200, "height": 1000})
    try:
        open_notebook(page, lab, notebook)
        cells = run_all(page)
        assert errors(cells) == [], errors(cells)
        images = image_count(cells)
        assert images == stored_image_count(notebook)  # every figure drawn again
        assert page.locator(".jp-OutputArea-output img").count() >= images  # and on the page
        assert page.get_by_text("Error displaying widget").count() == 0
        if notebook in ("03_viewing_images.ipynb", "04_panel.ipynb"):
            page.locator(".jupyter-widgets img").first.wait_for(timeout=60_000)
        if notebook == "workshop/exercises.ipynb":
            checks = [c for c in cells if "raises-exception" in c["tags"]]
            assert len(checks) == 4
            for cell in checks:
                [error] = [o for o in cell["outputs"] if o["output_type"] == "error"]
                text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error["traceback"]))
                assert len(text.splitlines()) == 1 and "write your answer in answer_" in text
        if notebook in SHOTS:
            name, marker, what = SHOTS[notebook]
            cell = page.locator(".jp-CodeCell", has_text=marker).first
            path = str(shots_folder(lab.work) / name)
            if what == "cell":
                cell.scroll_into_view_if_needed()
                cell.screenshot(path=path)
            else:
                cell.evaluate("el => el.scrollIntoView({block: 'start'})")
                page.screenshot(path=path)
    except Exception:
        page.screenshot(path=str(lab.work / f"failure-{notebook.replace('/', '-')}.png"))
        print("failure screenshot in", lab.work)
        raise
    finally:
        page.close()
        _shutdown_kernels(lab)
