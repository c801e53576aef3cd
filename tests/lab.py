"""One JupyterLab for all browser tests, and how to run a notebook in it with Chromium.

JupyterLab runs on loopback over a temporary copy of ``notebooks/`` (the tests never change
the tracked notebooks), with a private settings folder: no news toast over the screenshots, and
every cell rendered (no windowing), so what the page shows is what a learner sees after Run All.
The app is exposed in the page (``expose_app_in_browser``) so a test can read the notebook
model: its outputs, error outputs and images.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def needs(ok: bool, what: str) -> None:
    """Skip (or, in CI, fail) when a tool the browser tests need is missing."""
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing: .ci/run must install it")
        pytest.skip(f"{what} is not installed")


def shots_folder(work: Path) -> Path:
    """Where screenshots go: docs/ with UPDATE_SCREENSHOTS=1, else a temporary folder."""
    shots = ROOT / "docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else work / "shots"
    shots.mkdir(exist_ok=True)
    return shots


@dataclass
class Lab:
    """A running JupyterLab: its base URL, token and working folder."""

    base: str
    token: str
    work: Path

    def url(self, notebook: str) -> str:
        """The URL that opens a notebook alone, in a fresh workspace of its own.

        JupyterLab reopens what the last page had open in the same workspace; a workspace per
        notebook keeps every test's page to its one notebook.
        """
        workspace = notebook.replace("/", "-").removesuffix(".ipynb")
        return f"{self.base}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={self.token}"


def start_lab(work: Path) -> Iterator[Lab]:
    """Run JupyterLab over a copy of the notebooks until the generator is closed."""
    needs(Path(CHROMIUM).exists(), "chromium")
    # Started as `python -m jupyter` of this interpreter, so it is looked for there, not on PATH
    # (CI's virtual environment is not activated).
    needs(importlib.util.find_spec("jupyterlab") is not None, "jupyterlab")
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    for name, values in SETTINGS.items():
        path = work / "lab-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(8)
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(work / "lab-settings"),
        # Kernels import this checkout, whatever is installed.
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("DICOMWEB_URL", None)  # notebook 01 starts its own embedded server
    log = open(work / "lab.log", "wb")  # noqa: SIM115 - kept open while the server runs
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={work / 'notebooks'}",
            "--LabApp.news_url=",
            "--LabApp.expose_app_in_browser=True",
            "--allow-root",
            "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
        cwd=work / "notebooks",
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/api/status?token={token}", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None:
                pytest.fail((work / "lab.log").read_text()[-2000:])
            time.sleep(0.2)
        else:
            pytest.fail((work / "lab.log").read_text()[-2000:])
        yield Lab(base, token, work)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def open_notebook(page: Any, lab: Lab, notebook: str) -> None:
    """Open a notebook and wait until its kernel is idle."""
    page.goto(lab.url(notebook))
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=30_000)
    # The kernel connected and the notebook shown: a Run All before that runs nothing.
    page.evaluate(
        """async () => {
            const panel = window.jupyterapp.shell.currentWidget;
            await panel.sessionContext.ready;
            await panel.revealed;
        }"""
    )
    page.wait_for_function(
        """() => {
            const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel;
            return kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
        }""",
        timeout=60_000,
    )


_MODEL = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  const out = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    const json = cell.toJSON();
    out.push({type: json.cell_type, tags: (json.metadata || {}).tags || [],
              count: json.execution_count === undefined ? null : json.execution_count,
              outputs: json.outputs || []});
  }
  return out;
}"""


def run_all(page: Any, timeout_s: float = 300) -> list[dict[str, Any]]:
    """Run every cell (Run ▸ Run All Cells) and return the cells as the notebook model has them.

    Waits until every code cell has an execution count and the kernel is idle.
    """
    run = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"
    page.evaluate(run)
    started = time.monotonic()
    tries = 1
    while time.monotonic() < started + timeout_s:
        cells = page.evaluate(_MODEL)
        code = [c for c in cells if c["type"] == "code"]
        busy = page.locator(".jp-InputPrompt", has_text="[*]").count()
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()
        if code and all(c["count"] is not None for c in code) and busy == 0 and idle:
            return list(cells)
        dropped = busy == 0 and all(c["count"] is None for c in code)
        if dropped and tries < 3 and time.monotonic() > started + 15 * tries:
            page.evaluate(run)  # the command was dropped: run it again
            tries += 1
        time.sleep(0.5)
    raise AssertionError("Run All did not finish in time")


def errors(cells: list[dict[str, Any]]) -> list[str]:
    """The error outputs of cells not tagged ``raises-exception``, as text."""
    found = []
    for cell in cells:
        if "raises-exception" in cell["tags"]:
            continue
        for output in cell["outputs"]:
            if output.get("output_type") == "error":
                found.append(f"{output.get('ename')}: {output.get('evalue')}")
    return found


def image_count(cells: list[dict[str, Any]]) -> int:
    """How many image outputs the cells have."""
    return sum(
        1
        for cell in cells
        for output in cell["outputs"]
        if "image/png" in (output.get("data") or {})
    )


def stored_image_count(notebook: str) -> int:
    """How many image outputs the tracked notebook has (what Run All must draw again)."""
    nb = json.loads((ROOT / "notebooks" / notebook).read_text())
    return image_count(
        [{"outputs": c.get("outputs", []), "tags": []} for c in nb["cells"] if "outputs" in c]
    )
