"""The course site builds strictly and publishes the course files from where they live."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[2]
HANDOUT = ROOT / "labs/lab01/README.md"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site once into a temporary folder; fail with MkDocs' own output if it breaks."""
    site_dir = tmp_path_factory.mktemp("site")
    # Material prints an end-of-life banner on every build unless told not to.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site_dir)],
        cwd=ROOT,  # snippets' base_path is relative to the working directory
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return site_dir


def test_top_level_pages_are_published(site: Path) -> None:
    for page in ("index.html", "curriculum/index.html", "assessments/index.html"):
        assert (site / page).is_file(), page
    assert (site / "resources/index.html").is_file()
    # The hook is configuration, not content.
    assert not (site / "hooks").exists()


def test_assessments_page_shows_the_generated_tables(site: Path) -> None:
    html = (site / "assessments/index.html").read_text(encoding="utf-8")
    rubric = load_rubric(ROOT / "labs/lab01/rubric.toml")
    for criterion in rubric.criteria:
        assert criterion.title in html
    assert f"<strong>{rubric.max_points}</strong>" in html


def test_lab01_page_shows_its_rubric_table(site: Path) -> None:
    if not HANDOUT.is_file():
        pytest.skip("labs/lab01/README.md is not written yet")
    page = site / "labs/lab01/index.html"
    assert page.is_file()
    html = page.read_text(encoding="utf-8")
    rubric = load_rubric(ROOT / "labs/lab01/rubric.toml")
    assert "<table>" in html
    for criterion in rubric.criteria:
        assert criterion.title in html
