"""The course site in a real browser: headless Chromium, driven by Playwright.

The site is built with ``mkdocs build --strict`` into a temporary folder and served on
127.0.0.1 by the standard library's HTTP server. Debian's chromium (``/usr/bin/chromium``) is the
browser: Playwright is told its path, so nothing is downloaded. A learner's path is followed with
clicks, never typed URLs: home page → the Labs tab → the newest lab (lab07 once it exists,
otherwise the highest lab the site has) → a search that finds that lab → the Assessments and
Resources pages. Screenshots of each step are saved in the test's temporary folder and copied to
``/tmp/browser-shots`` for people to look at.

Without playwright or chromium the test skips and says why, except on CI (``CI=true``), where it
fails: `.ci/run` installs chromium and the `tests` session installs the `browser` extra.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.rubric import load_rubric
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
PREFERRED_LAB = "lab07"


def unavailable(reason: str) -> None:
    """Skip, or on CI fail: CI promises that the browser test really runs."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sync_api() -> Any:
    try:
        from playwright import sync_api
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[browser]')")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return sync_api


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site_dir = tmp_path_factory.mktemp("browser-site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site_dir)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return site_dir


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def target_lab(site: Path) -> str:
    """lab07 when the site has it, otherwise the highest-numbered lab page it has."""
    labs = sorted(p.parent.name for p in site.glob("labs/lab[0-9][0-9]/index.html"))
    assert labs, "the site has no lab pages"
    return PREFERRED_LAB if PREFERRED_LAB in labs else labs[-1]


def link_to(page: Any, selector: str, path: str) -> Any:
    """The first link matched by ``selector`` whose address, query and fragment aside, ends in
    ``path``.

    Links on a built site are relative (``../lab02/``), so they are compared after the browser
    has resolved them.
    """
    links = page.locator(selector)
    targets = [links.nth(i).evaluate("a => a.href") for i in range(links.count())]
    for index, href in enumerate(targets):
        if re.split(r"[?#]", href, maxsplit=1)[0].endswith(path):
            return links.nth(index)
    raise AssertionError(f"no link to {path} among {selector}: {targets}")


def placeholders(lab: str) -> list[tuple[str, str]]:
    """(criterion title, the words around a ``<placeholder>``) for each placeholder that a lab's
    rubric feedback writes as plain text (``Bearer <access>``, ``/api/posts/<id>/comments/``)."""
    found = []
    for criterion in load_rubric(ROOT / "labs" / lab / "rubric.toml").criteria:
        text = " ".join(re.sub(r"(`+).+?\1", " ", criterion.feedback).split())  # code aside
        words = re.finditer(r"(?:\S+ )?\S*<[\w-]+>\S*(?: \S+)?", text)
        found += [(criterion.title, m[0]) for m in words]
    return found


def assert_placeholders_shown(page: Any, labs: list[str]) -> int:
    """Each rubric placeholder of ``labs`` is in the rendered text of its criterion's row (a
    placeholder that reached the page as an HTML tag would be missing from it)."""
    count = 0
    for lab in labs:
        for title, words in placeholders(lab):
            rows = page.locator("article table tr", has_text=title).all_inner_texts()
            assert any(words in " ".join(row.split()) for row in rows), (lab, words, rows)
            count += 1
    return count


def test_a_learner_reaches_the_newest_lab_and_finds_it_by_search(
    sync_api: Any, site: Path, base_url: str, tmp_path: Path
) -> None:
    lab = target_lab(site)
    number = lab.removeprefix("lab")
    shots: list[Path] = []

    def shoot(page: Any, name: str) -> None:
        page.wait_for_timeout(400)  # let the header's title transition settle
        path = tmp_path / f"{len(shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(path))
        shots.append(path)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            # A guard against a page that hangs, not a speed requirement: on a loaded machine
            # Material's search index (a web worker) can hold typing up for many seconds.
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            page.goto(base_url)
            assert "BlogCraftAI" in page.title()
            shoot(page, "home")

            # The Labs tab, then the lab in the section's navigation.
            page.locator(".md-tabs").get_by_role("link", name="Labs", exact=True).click()
            page.wait_for_url(re.compile(r"/labs/lab\d\d/$"))
            if not page.url.endswith(f"/labs/{lab}/"):
                link_to(page, ".md-nav--primary a.md-nav__link", f"/labs/{lab}/").click()
            page.wait_for_url(re.compile(rf"/labs/{lab}/$"))
            heading = page.locator("article h1").first.inner_text()
            assert f"Lab {number}" in heading
            assert_placeholders_shown(page, [lab])
            shoot(page, lab)

            # Search for the lab by the words of its title, typed as a person types (Material
            # searches on key events), and open the result.
            title = heading.split("—", 1)[-1]
            query = " ".join(re.sub(r"[^\w\s]", " ", title).split())
            page.locator("label.md-search__icon, .md-search__input").first.click()
            page.locator("input.md-search__input").press_sequentially(query, delay=20)
            page.locator(".md-search-result__item a").first.wait_for()
            shoot(page, "search")
            link_to(page, ".md-search-result__item a", f"/labs/{lab}/").click()
            page.wait_for_url(re.compile(rf"/labs/{lab}/([?#].*)?$"))

            # The pages that hold the rubrics and the sample configuration.
            tabs = page.locator(".md-tabs")
            tabs.get_by_role("link", name="Assessments", exact=True).click()
            page.wait_for_url(re.compile(r"/assessments/$"))
            assert page.locator("article table").count() >= 4
            labs = sorted(p.parent.name for p in ROOT.glob("labs/lab*/rubric.toml"))
            assert assert_placeholders_shown(page, labs) >= 3  # lab05, lab06 and lab07 have some
            shoot(page, "assessments")
            page.locator(".md-nav--secondary a[href='#traceability-matrix']:visible").first.click()
            shoot(page, "traceability")
            tabs.get_by_role("link", name="Resources", exact=True).click()
            page.wait_for_url(re.compile(r"/resources/$"))
            assert page.locator("article pre code").count() >= 8  # the included samples
            shoot(page, "resources")
            assert not errors, errors
        finally:
            browser.close()

    SHOTS_FOR_PEOPLE.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        assert shot.stat().st_size > 10_000, f"{shot.name} looks blank"
        shutil.copy(shot, SHOTS_FOR_PEOPLE / shot.name)
