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


def test_hook_publishes_course_files_and_fixes_their_links(tmp_path: Path) -> None:
    """A small course built with the real hook: pages, link rewriting, nav for unwritten labs."""
    files = {
        "mkdocs.yml": (
            "site_name: t\n"
            f"hooks: [{ROOT / 'docs/hooks/course_files.py'}]\n"
            "markdown_extensions: [md_in_html]\n"
            "validation: {omitted_files: warn, unrecognized_links: warn, anchors: warn}\n"
            "nav:\n"
            "  - index.md\n"
            "  - curriculum.md\n"
            "  - Labs: [{Lab 01: labs/lab01/README.md}, {Lab 02: labs/lab02/README.md}]\n"
            "  - guide/extra.md\n"
        ),
        "docs/index.md": "# Home\n\n[Lab 01](labs/lab01/README.md#goal)\n",
        "docs/guide/extra.md": "# Extra\n",
        "curriculum.md": (
            "# Curriculum\n\n"
            "[lab one](labs/lab01/README.md#goal), [the folder](labs/lab01/), "
            "[extra](docs/guide/extra.md), [`app.py`](labs/lab01/starter/app.py)\n\n"
            "```\n[kept](labs/lab01/starter/app.py)\n```\n"
        ),
        "labs/lab01/README.md": (
            "# Lab 01\n\n## Goal\n\nEdit [the app](starter/app.py) in [`starter/`](starter/).\n\n"
            "<details><summary>Hint</summary>\n\nUse **bold**.\n\n</details>\n"
        ),
        "labs/lab01/starter/app.py": "x = 1\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    site_dir = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site_dir)],
        cwd=tmp_path,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert "labs/lab02/README.md is not written yet" in build.stderr

    curriculum = (site_dir / "curriculum/index.html").read_text(encoding="utf-8")
    assert 'href="../labs/lab01/#goal"' in curriculum
    assert 'href="../labs/lab01/"' in curriculum  # a lab folder links to its handout
    assert 'href="../guide/extra/"' in curriculum  # docs/ is the site's root
    assert "<code>labs/lab01/starter/app.py</code>" in curriculum
    assert "[kept](labs/lab01/starter/app.py)" in curriculum  # code blocks are left alone

    lab = (site_dir / "labs/lab01/index.html").read_text(encoding="utf-8")
    assert "the app (<code>labs/lab01/starter/app.py</code>)" in lab
    assert "<code>labs/lab01/starter/</code>" in lab
    assert "<strong>bold</strong>" in lab  # Markdown inside <details> is rendered
