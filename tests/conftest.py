from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from dicomweb_nb import LocalServer
from dicomweb_nb.samples import write_tutorial_samples


@pytest.fixture(scope="session")
def tutorial_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tutorial")
    write_tutorial_samples(folder)
    return folder


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "data") as srv:
        yield srv


@pytest.fixture()
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="session")
def orthanc_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from .orthanc import start_orthanc

    yield from start_orthanc(tmp_path_factory.mktemp("orthanc"))


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    # One JupyterLab for every browser test (starting one takes most of a test's time).
    from .lab import start_lab

    yield from start_lab(tmp_path_factory.mktemp("lab"))


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    # One Chromium per browser test module, closed at the module's end: Playwright's sync API
    # keeps an event loop running in the main thread while it is open, which would break every
    # later test that runs asyncio itself (and a second sync_playwright).
    from .lab import CHROMIUM, FLAGS, needs

    needs(Path(CHROMIUM).exists(), "chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Markers by what a test needs, so .ci/run can run the rest against the lowest versions.
    for item in items:
        if "orthanc_url" in getattr(item, "fixturenames", ()) or "[orthanc" in item.nodeid:
            item.add_marker(pytest.mark.orthanc)
        if item.path.name.startswith("test_browser"):
            item.add_marker(pytest.mark.browser)
