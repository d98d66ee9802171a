"""The facilitator dashboard in a real browser: Debian's Chromium, driven by Playwright.

Both builds of the hand-made cohort (``test_dashboard.py``) are opened from disk, as a
facilitator opens the folder, with the network cut off: the page must load, draw every chart
(an SVG element with a real size on screen), show a row per learner in the private build and
none in the public one, and neither log an error nor ask the network for anything. Full-page
screenshots are saved in the test's temporary folder and copied to ``/tmp/browser-shots`` for
people to look at.

Without playwright or chromium the test skips and says why, except on CI (``CI=true``), where it
fails: `.ci/run` installs chromium and the `tests` session installs the `browser` extra.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.instructors.dashboard.build import build_dashboard
from grader.instructors.gradebook import Gradebook
from tests.instructor.test_dashboard import NOW, ROSTER, demo_gradebook
from tests.support import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS_FOR_PEOPLE = Path("/tmp/browser-shots")


def unavailable(reason: str) -> None:
    """Skip, or on CI fail: CI promises that the browser test really runs."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[browser]')")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def dashboards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("dashboard-browser")
    url = demo_gradebook(base / "gradebook.sqlite3")
    with Gradebook.open(url) as gradebook:
        private = build_dashboard(gradebook, base / "private", now=NOW, course_root=ROOT)
        public = build_dashboard(gradebook, base / "public", public=True, now=NOW, course_root=ROOT)
    return {"private": private.page, "public": public.page}


def open_page(browser: Any, page_file: Path) -> tuple[Any, list[str], list[str]]:
    """The page opened from disk; ``(page, errors, requests)``: console errors and uncaught
    exceptions, and every URL asked for other than the page itself."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    response = page.goto(page_file.as_uri(), wait_until="load")
    assert response is None or response.ok
    return page, errors, [u for u in requests if u != page_file.as_uri()]


def charts_on_screen(page: Any) -> list[dict[str, float]]:
    """The size each chart is drawn at; a chart that failed to render has none."""
    sizes = []
    for chart in page.locator("svg.chart").all():
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        assert box is not None
        sizes.append(box)
    return sizes


def screenshot(page: Any, dest: Path) -> Path:
    page.screenshot(path=str(dest), full_page=True)
    SHOTS_FOR_PEOPLE.mkdir(parents=True, exist_ok=True)
    shutil.copy(dest, SHOTS_FOR_PEOPLE / dest.name)
    return dest


def test_private_dashboard_renders_with_a_row_per_learner(
    browser: Any, dashboards: dict[str, Path], tmp_path: Path
) -> None:
    page, errors, requests = open_page(browser, dashboards["private"])
    assert page.title() == "Cohort dashboard"
    sizes = charts_on_screen(page)
    assert len(sizes) == 6
    assert all(box["width"] > 300 and box["height"] > 80 for box in sizes), sizes
    # The heatmap's text is text (searchable, scanned for privacy), not glyph outlines.
    assert page.locator("svg.chart text", has_text="Quillon Farrowmere").count() >= 1
    stuck = page.locator("#stuck tr[data-learner]")
    assert stuck.count() == 5
    assert stuck.first.is_visible()
    rows = page.locator("#learners tr[data-learner]")
    assert rows.count() == len(ROSTER)
    page.locator("#learners summary").click()  # the table of the heatmap's figures
    row = page.locator('#learners tr[data-learner="tm-kelderwick"]')
    assert row.is_visible()
    assert row.locator("td").nth(1).inner_text() == "85"
    shot = screenshot(page, tmp_path / "dashboard-private.png")
    assert shot.stat().st_size > 50_000
    assert errors == []
    assert requests == []


def test_public_dashboard_renders_without_learners(
    browser: Any, dashboards: dict[str, Path], tmp_path: Path
) -> None:
    page, errors, requests = open_page(browser, dashboards["public"])
    assert page.title() == "Cohort progress"
    sizes = charts_on_screen(page)
    assert len(sizes) == 3
    assert all(box["width"] > 300 for box in sizes), sizes
    assert page.locator("tr[data-learner]").count() == 0
    body = page.locator("body").inner_text()
    assert not [name for name in ROSTER.values() if name in body]
    shot = screenshot(page, tmp_path / "dashboard-public.png")
    assert shot.stat().st_size > 20_000
    assert errors == []
    assert requests == []
