"""The README's OHIF configuration is the one tests/test_browser_viewers.py runs the viewer with."""

from __future__ import annotations

from pathlib import Path

from dicomweb_nb.server.ohif import app_config

ROOT = Path(__file__).resolve().parent.parent


def test_readme_shows_the_tested_ohif_config() -> None:
    readme = (ROOT / "README.md").read_text()
    assert app_config("http://127.0.0.1:8080/v1") in readme, (
        "README.md's app-config.js differs from tests/browser/ohif.py: change both"
    )
