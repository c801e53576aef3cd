"""Browser clients from another origin against the embedded server, in Debian's Chromium.

Two real clients, each served by a static file server on its own loopback port (its own origin),
talk to a LocalServer started with ``cors=`` that origin:

- OHIF 3.13 (the built viewer from the ``@ohif/app`` npm tarball, with the README's
  ``app-config.js``): the study list shows each study's instance count, a CT study opens, the
  viewport draws pixels (read back from its canvas), and a file uploaded from the study list is
  stored; every request OHIF made was answered without an error. Screenshots go to a temporary folder, or to docs/ for the README with
  ``UPDATE_SCREENSHOTS=1 pytest tests/test_browser_viewers.py``.
- dcmjs's ``dicomweb-client`` 0.11 (its UMD build from npm): the six searches, the three
  metadata calls, instance/series/study retrieve, frames (also ``image/jp2``), rendered, bulk data
  and store, against a server that also requires a bearer token.

The npm packages are installed or found in build/ by tests/browser/assets.py (cached in
build/npm-cache). Needs chromium, playwright and npm (.ci/run installs them).
"""

from __future__ import annotations

import base64
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from dicomweb_nb import LocalServer, samples
from dicomweb_nb.server.ohif import app_config

from .browser import assets, site
from .helpers import JSON, multipart, stow
from .lab import CHROMIUM
from .lab import needs as _needs

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "browser-secret"


@pytest.fixture(scope="module")
def installed() -> assets.Assets:
    _needs(Path(CHROMIUM).exists(), "chromium")
    _needs(assets.npm_available() or assets.cached(), "npm")
    pytest.importorskip("playwright.sync_api")
    started = time.monotonic()
    found = assets.ensure()
    print(f"browser clients ready in {time.monotonic() - started:.1f} s")
    return found


@pytest.fixture(scope="module")
def studies() -> list[Any]:
    # Two CT studies of two series of 10 slices (another engineer makes these a HU phantom).
    return list(samples.synthetic_datasets(2, 2, 10, rows=128, columns=128))


@pytest.fixture()
def browser(chromium: Any) -> Any:
    # The shared Chromium of tests/conftest.py: one sync Playwright at a time.
    return chromium


@pytest.fixture()
def shots(tmp_path: Path) -> Path:
    folder = ROOT / "docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(exist_ok=True)
    return folder


def _server_answers(page: Any, server: LocalServer) -> list[tuple[int, str, str]]:
    seen: list[tuple[int, str, str]] = []
    page.on(
        "response",
        lambda r: (
            seen.append((r.status, r.request.method, r.url))
            if r.url.startswith(server.base_url)
            else None
        ),
    )
    return seen


def _lit_pixels(page: Any) -> int:
    # Cornerstone draws each viewport into a 2D canvas: count the pixels that are not black.
    count: int = page.evaluate(
        """() => {
            const canvas = document.querySelector('canvas.cornerstone-canvas');
            if (!canvas || !canvas.width) return 0;
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let lit = 0;
            for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] > 60) lit++;
            return lit;
        }"""
    )
    return count


def _dismiss(page: Any, *names: str) -> None:
    # OHIF's first-visit notices cover the pictures; what they say is not under test.
    for name in names:
        button = page.get_by_role("button", name=name)
        if button.count():
            button.first.click()


def test_ohif_lists_and_draws_a_ct_study(
    installed: assets.Assets, studies: list[Any], browser: Any, shots: Path, tmp_path: Path
) -> None:
    files: dict[str, tuple[bytes, str]] = {}
    dist = installed.ohif_dist
    with (
        site.serve({"/": dist}, files, spa=dist / "index.html") as origin,
        LocalServer(tmp_path / "data", cors=origin, bulkdata_uris=True) as server,
    ):
        assert stow(server.url, [samples.to_bytes(ds) for ds in studies]).status_code == 200
        files["/app-config.js"] = (app_config(server.url).encode(), "text/javascript")
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        answers = _server_answers(page, server)
        try:
            started = time.monotonic()
            page.goto(f"{origin}/")
            for ds in (studies[0], studies[-1]):
                name = str(ds.PatientName).replace("^", ", ")
                row = page.locator("tbody tr", has_text=name)
                row.first.wait_for(timeout=60_000)
                # The instance count column: 2 series × 10 instances, not 0.
                assert row.first.locator("td").nth(5).inner_text().strip() == "20"
                assert "CT" in row.first.inner_text()
            print(f"study list in {time.monotonic() - started:.1f} s")
            _dismiss(page, "Confirm and hide")
            page.screenshot(path=str(shots / "ohif-study-list.png"))

            # Open the first study as a user does: select its row, then the Basic Viewer mode.
            study = studies[0].StudyInstanceUID
            started = time.monotonic()
            page.locator("tbody tr", has_text="Doe, John").first.click()
            page.get_by_role("button", name="Basic Viewer").first.click()
            page.wait_for_url(f"**/viewer?StudyInstanceUIDs={study}*", timeout=30_000)
            page.locator("canvas.cornerstone-canvas").first.wait_for(timeout=60_000)
            deadline = time.monotonic() + 60
            while _lit_pixels(page) < 1000 and time.monotonic() < deadline:
                time.sleep(0.25)
            lit = _lit_pixels(page)
            assert lit >= 1000, f"the viewport drew {lit} pixels"
            print(f"first image in {time.monotonic() - started:.1f} s ({lit} pixels lit)")
            _dismiss(page, "Skip all", "Confirm and hide")
            page.get_by_text("Axial 5mm").first.wait_for(timeout=30_000)
            time.sleep(1)  # thumbnails are fetched after the first image
            page.screenshot(path=str(shots / "ohif-viewer.png"))

            # Upload from the study list: STOW from the browser, through the preflight.
            upload = tmp_path / "upload.dcm"
            extra = samples.multiframe_dataset(frames=2)
            upload.write_bytes(samples.to_bytes(extra))
            page.goto(f"{origin}/")
            page.get_by_text("Upload").first.click()
            page.locator("input[type=file]").first.set_input_files(str(upload))
            page.get_by_text("1 file completed").wait_for(timeout=60_000)
            found = requests.get(
                f"{server.url}/studies", params={"StudyInstanceUID": extra.StudyInstanceUID}
            )
            assert found.status_code == 200
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            print("failure screenshot:", tmp_path / "failure.png")
            raise
        finally:
            page.close()
    # The study list's preview asks for a series-level rendered image first, which the reference
    # (and so the embedded server) does not have; OHIF then renders an instance. Nothing else
    # may be refused.
    refused = [
        a
        for a in answers
        if a[0] >= 400 and not (a[0] == 404 and "/rendered" in a[2] and "/instances/" not in a[2])
    ]
    assert not refused, refused
    calls = {(method, re.sub(r"\?.*", "", url)[len(server.url) :]) for _, method, url in answers}
    paths = {path for _, path in calls}
    # The study list, the series of the study, its metadata, pixels, thumbnails and the upload.
    assert ("GET", "/studies") in calls and ("POST", "/studies") in calls
    assert f"/studies/{study}/series" in paths
    assert any(p.endswith("/metadata") for p in paths)
    assert any("/frames/" in p or "/bulkdata/" in p for p in paths)
    assert any(p.endswith("/rendered") for p in paths)


# The whole dicomweb-client session runs in the page; it returns what it saw, as JSON.
CLIENT_SESSION = """
async ({url, token, study, series, sop, part10}) => {
  const client = new DICOMwebClient.api.DICOMwebClient({
    url, headers: {Authorization: `Bearer ${token}`},
  });
  const ids = {studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop};
  // Rendered answers come as one ArrayBuffer or, decoded as multipart, as a list of them.
  const bytes = (r) => Array.from(new Uint8Array(Array.isArray(r) ? r[0] : r).slice(0, 4));
  const text = (buffer, at, n) => String.fromCharCode(...new Uint8Array(buffer).slice(at, at + n));
  const out = {};
  out.searches = [
    (await client.searchForStudies()).length,
    (await client.searchForStudies({queryParams: {PatientName: 'doe', fuzzymatching: true}})).length,
    (await client.searchForSeries()).length,
    (await client.searchForSeries({studyInstanceUID: study})).length,
    (await client.searchForInstances()).length,
    (await client.searchForInstances({studyInstanceUID: study})).length,
    (await client.searchForInstances({studyInstanceUID: study, seriesInstanceUID: series})).length,
  ];
  out.counts = (await client.searchForStudies())[0]['00201208'].Value;
  const studyMeta = await client.retrieveStudyMetadata({studyInstanceUID: study});
  const seriesMeta = await client.retrieveSeriesMetadata({studyInstanceUID: study, seriesInstanceUID: series});
  const instanceMeta = await client.retrieveInstanceMetadata(ids);
  out.metadata = [studyMeta.length, seriesMeta.length, instanceMeta.length];
  const instance = await client.retrieveInstance(ids);
  out.instance = [instance.byteLength, text(instance, 128, 4)];
  out.series = (await client.retrieveSeries({studyInstanceUID: study, seriesInstanceUID: series})).length;
  out.study = (await client.retrieveStudy({studyInstanceUID: study})).length;
  const [frame] = await client.retrieveInstanceFrames({...ids, frameNumbers: [1]});
  out.frame = frame.byteLength;
  const [j2k] = await client.retrieveInstanceFrames({
    ...ids, frameNumbers: [1],
    mediaTypes: [{mediaType: 'image/jp2', transferSyntaxUID: '1.2.840.10008.1.2.4.90'}],
  });
  out.j2k = bytes(j2k);
  out.rendered = bytes(await client.retrieveInstanceRendered({...ids, mediaTypes: [{mediaType: 'image/jpeg'}]}));
  out.renderedPng = bytes(await client.retrieveInstanceRendered({...ids, mediaTypes: [{mediaType: 'image/png'}]}));
  out.renderedDefault = bytes(await client.retrieveInstanceRendered(ids));  // the XHR's */*
  const uri = instanceMeta[0]['7FE00010'].BulkDataURI;
  const [pixels] = await client.retrieveBulkData({BulkDataURI: uri});
  out.bulk = [uri, pixels.byteLength];
  const stored = Uint8Array.from(atob(part10), (c) => c.charCodeAt(0)).buffer;
  await client.storeInstances({datasets: [stored]});
  out.afterStore = (await client.searchForStudies()).length;
  return out;
}
"""


def test_dicomweb_client_from_another_origin(
    installed: assets.Assets, studies: list[Any], browser: Any, tmp_path: Path
) -> None:
    page_html = b"<!doctype html><title>dicomweb-client</title><script src='/dwc.js'></script>"
    files = {
        "/": (page_html, "text/html"),
        "/dwc.js": (installed.dicomweb_client_js.read_bytes(), "text/javascript"),
    }
    extra = samples.multiframe_dataset(frames=2)
    with (
        site.serve({}, files) as origin,
        LocalServer(tmp_path / "data", token=TOKEN, cors=origin, bulkdata_uris=True) as server,
    ):
        body, content_type = multipart([samples.to_bytes(ds) for ds in studies])
        stored = requests.post(
            f"{server.url}/studies",
            body,
            headers={**JSON, "Content-Type": content_type, "Authorization": f"Bearer {TOKEN}"},
        )
        assert stored.status_code == 200
        page = browser.new_page()
        answers = _server_answers(page, server)
        page.goto(f"{origin}/")
        ct = studies[0]
        out = page.evaluate(
            CLIENT_SESSION,
            {
                "url": server.url,
                "token": TOKEN,
                "study": ct.StudyInstanceUID,
                "series": ct.SeriesInstanceUID,
                "sop": ct.SOPInstanceUID,
                "part10": base64.b64encode(samples.to_bytes(extra)).decode(),
            },
        )
        page.close()
    assert out["searches"] == [2, 1, 4, 2, 40, 20, 10]
    assert out["counts"] == [20]  # without includefield
    assert out["metadata"] == [20, 10, 1]
    assert out["instance"][1] == "DICM" and out["instance"][0] > 128 * 128 * 2
    assert out["series"] == 10 and out["study"] == 20
    assert out["frame"] == 128 * 128 * 2
    assert out["j2k"] == [0xFF, 0x4F, 0xFF, 0x51]  # a JPEG 2000 codestream (SOC, SIZ)
    assert out["rendered"][:3] == [0xFF, 0xD8, 0xFF]
    assert out["renderedPng"] == [0x89, 0x50, 0x4E, 0x47]
    assert out["renderedDefault"][:3] == [0xFF, 0xD8, 0xFF]
    assert out["bulk"][0].startswith(server.url) and out["bulk"][1] == 128 * 128 * 2
    assert out["afterStore"] == 3
    # Every call carried Authorization, which is not a CORS-safelisted header: the browser sent
    # each only after its preflight passed (Playwright does not report preflights themselves).
    assert not [a for a in answers if a[0] >= 400], answers
