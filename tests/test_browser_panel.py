"""The panel in a real browser: JupyterLab on loopback, Debian's Chromium driven by Playwright.

Runs the panel notebook's first cell, uploads, searches, picks an instance and checks that View
shows it; takes screenshots in a temporary folder. ``UPDATE_SCREENSHOTS=1 pytest
tests/test_browser_panel.py`` writes them to docs/ instead, to refresh the README's pictures on
purpose; a plain test run never touches tracked files. Needs chromium and playwright (.ci/run
installs both); the JupyterLab is the one all browser tests share (tests/lab.py).
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from .lab import Lab, open_notebook, shots_folder


def test_panel_renders_uploads_browses_and_views(lab: Lab, chromium: Any) -> None:
    page = chromium.new_page(viewport={"width": 1200, "height": 1300})
    try:
        _drive(page, lab)
    except Exception:
        # What the browser showed when it failed, for the CI log reader.
        page.screenshot(path=str(lab.work / "failure-panel.png"))
        print("failure screenshot:", lab.work / "failure-panel.png")
        raise
    finally:
        page.close()


def _tab(page: Any, title: str) -> Any:
    return page.locator(".jupyter-widgets .lm-TabBar-tab", has_text=title).first


def _drive(page: Any, lab: Lab) -> None:
    shots = shots_folder(lab.work)
    open_notebook(page, lab, "04_panel.ipynb")
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
    _tab(page, "Upload").click()
    page.locator(".jupyter-widgets button.jupyter-button", has_text="Upload").last.click()
    page.get_by_text("Done: 3 of 3 stored").wait_for(timeout=60_000)
    rows = page.locator(".jupyter-widgets table tr")
    assert rows.count() == 4  # the header and one row per file
    assert page.locator("td", has_text="stored").count() == 3
    page.screenshot(path=str(shots / "panel-upload.png"))
    _tab(page, "Browse").click()
    page.locator(".jupyter-widgets button.jupyter-button:visible", has_text="Search").click()
    page.get_by_text("1 studies found.").wait_for(timeout=60_000)
    headers = page.locator(".jupyter-widgets table:visible th").all_inner_texts()
    assert headers[0] == "Patient" and headers[-1] == "Study UID"
    panel = page.locator(".jp-OutputArea-output .widget-tab").first
    lists = page.locator(".widget-select select:visible")
    lists.nth(0).select_option(index=0)
    page.get_by_text("#1 · OT · 2 images").wait_for(timeout=60_000)
    lists.nth(1).select_option(label="#1 · OT · 2 images")
    expect(lists.nth(2).locator("option")).to_have_count(2, timeout=60_000)
    labels = lists.nth(2).locator("option").all_inner_texts()
    assert [label.replace("\xa0", " ").split(" · ")[0] for label in labels] == ["#1", "#2"]
    panel.screenshot(path=str(shots / "panel-browse.png"))
    lists.nth(2).select_option(index=0)
    # Picking an instance opens it in View.
    page.wait_for_function(
        "el => el.classList.contains('lm-mod-current')", arg=_tab(page, "View").element_handle()
    )
    page.locator(".jupyter-widgets img:visible").first.wait_for(timeout=60_000)
    page.get_by_text("Anony Mous · OT · #1", exact=False).first.wait_for(timeout=60_000)
    page.get_by_text("All 2 images of the series loaded.").wait_for(timeout=60_000)
    # The browser did not send the window back as a manual change (ranges and values go
    # together), and colour has no window to change.
    window = page.locator(".widget-dropdown select:visible").first
    assert window.input_value() == "from the image" and window.is_disabled()
    panel.screenshot(path=str(shots / "panel-view.png"))
