"""A workshop as it happens: two participants run notebook 01 at the same time, each in their own
partition of one `dicomweb-nb serve --workshop`, and both see the tutorial's answers."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import requests

from .helpers import free_port, serve

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01_dicomweb_standard_apis.ipynb"


def _sanitizers() -> list[tuple[re.Pattern[str], str]]:
    config = configparser.ConfigParser()
    config.read(ROOT / "notebooks" / "nbval-sanitize.cfg")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


def _checked_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """The text of the cells nbval compares (tagged nbval-check-output), sanitized as nbval does."""
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "nbval-check-output" not in cell.metadata.get("tags", []):
            continue
        text = "".join(
            o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.outputs
        )
        for pattern, replacement in _sanitizers():
            text = pattern.sub(replacement, text)
        texts.append(text)
    return texts


def test_two_participants_run_the_tutorial_at_once(tmp_path: Path) -> None:
    port = free_port()
    proc = serve(tmp_path / "data", port, "--workshop", stdout=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                requests.get(f"http://127.0.0.1:{port}/health/check", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.05)
        expected = _checked_outputs(nbformat.read(NOTEBOOK, as_version=4))
        results: dict[str, nbformat.NotebookNode | BaseException] = {}

        # Two participants, two kernels, at once: each a `jupyter nbconvert --execute` of its own.
        runs = {}
        for name in ("alice", "bob"):
            env = {
                **os.environ,
                "DICOMWEB_URL": f"http://127.0.0.1:{port}/v1",
                "DICOMWEB_PARTITION": name,
            }
            runs[name] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "jupyter",
                    "nbconvert",
                    "--to",
                    "notebook",
                    "--execute",
                    "--ExecutePreprocessor.timeout=300",
                    f"--output-dir={tmp_path / name}",
                    str(NOTEBOOK),
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        results = {}
        for name, run in runs.items():
            out, _ = run.communicate(timeout=600)
            assert run.returncode == 0, f"{name}: {out[-3000:]}"
            results[name] = nbformat.read(tmp_path / name / NOTEBOOK.name, as_version=4)
        for name in ("alice", "bob"):
            result = results[name]
            # The same status codes and results as the stored notebook (ports and paths masked).
            assert _checked_outputs(result) == expected, name
        listed = requests.get(f"http://127.0.0.1:{port}/v1/partitions", timeout=30).json()
        assert {p["partitionName"] for p in listed} >= {"alice", "bob"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(autouse=True)
def _no_stray_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DICOMWEB_URL", "DICOMWEB_TOKEN", "DICOMWEB_PARTITION"):
        monkeypatch.delenv(name, raising=False)
