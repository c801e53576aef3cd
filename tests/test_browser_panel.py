"""The panel in a real browser: JupyterLab on loopback, Debian's Chromium driven by Playwright.

Runs the panel notebook, clicks Upload, checks the result rows and takes screenshots in a
temporary folder. ``UPDATE_SCREENSHOTS=1 pytest tests/test_browser_panel.py`` writes them to
docs/ instead, to refresh the README's pictures on purpose; a plain test run never touches
tracked files. Needs chromium and playwright (.ci/run installs both).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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


def _needs(ok: bool, what: str) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing: .ci/run must install it")
        pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    _needs(Path(CHROMIUM).exists(), "chromium")
    _needs(shutil.which("jupyter") is not None, "jupyterlab")
    work = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "notebooks" / "04_panel.ipynb", work / "panel.ipynb")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(8)
    # A private settings folder: no "get notified about news?" toast over the screenshots.
    settings = work / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(work / "lab-settings")}
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
            f"--ServerApp.root_dir={work}",
            "--LabApp.news_url=",
            "--allow-root",
            "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(work / "lab.log", "wb"),  # noqa: SIM115 - kept open while the server runs
        cwd=work,
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
        yield f"{base}/lab/tree/panel.ipynb?token={token}", work
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_panel_renders_and_uploads(lab: tuple[str, Path]) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    url, work = lab
    shots = ROOT / "docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else work / "shots"
    shots.mkdir(exist_ok=True)
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        try:
            _drive(page, url, shots)
        except Exception:
            # What the browser showed when it failed, for the CI log reader.
            page.screenshot(path=str(lab[1] / "failure.png"))
            print("failure screenshot:", lab[1] / "failure.png")
            raise
        finally:
            browser.close()


def _drive(page: Any, url: str, shots: Path) -> None:
    page.goto(url)
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    # Run the cell that builds and shows the panel. A key press that lands while JupyterLab is
    # still wiring the kernel is sometimes dropped, so it is pressed again if nothing happens.
    for _ in range(4):
        page.locator(".jp-CodeCell .jp-InputArea-editor").first.click()
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_selector(".jupyter-widgets", timeout=20_000)
            break
        except Exception:
            continue
    page.get_by_text("✔ DICOMweb", exact=False).first.wait_for(timeout=60_000)
    page.screenshot(path=str(shots / "panel-server.png"))
    page.get_by_role("tab", name="Upload").first.click()
    page.locator(".jupyter-widgets button.jupyter-button", has_text="Upload").first.click()
    page.get_by_text("Done: 3 of 3 stored").wait_for(timeout=60_000)
    rows = page.locator(".jupyter-widgets table tr")
    assert rows.count() == 4  # the header and one row per file
    assert page.locator("td", has_text="stored").count() == 3
    page.screenshot(path=str(shots / "panel-upload.png"))
