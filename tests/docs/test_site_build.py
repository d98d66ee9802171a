"""The course site builds strictly and publishes the course files from where they live."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

from grader.course.labgen import generate_lab
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


def _code_blocks(html: str) -> dict[str, str]:
    """Each titled code block of a page: its title -> the code as text."""
    blocks = {}
    for match in re.finditer(
        r'<span class="filename">(?P<title>[^<]*)</span>.*?<code>(?P<code>.*?)</code>', html, re.S
    ):
        code = unescape(re.sub(r"<[^>]+>", "", match["code"]))
        blocks[unescape(match["title"])] = code
    return blocks


def test_day_pages_show_each_labs_generated_solution(site: Path, tmp_path: Path) -> None:
    """Day 1's folds show exactly lab01's answer: no marker text, no later lab's code."""
    html = (site / "days/day01/index.html").read_text(encoding="utf-8")
    assert not re.search(r"\b(?:BEGIN|STUB|END|FILE)\s+(?:LAB\d+|CAPSTONE)\b", html, re.I)
    lab01 = tmp_path / "lab01"
    generate_lab(ROOT / "solutions", "lab01", "solution", lab01)
    blocks = _code_blocks(html)
    for title in ("api/health.py", "api/views.py", "api/urls.py", "config/urls.py"):
        assert blocks[title] == (lab01 / title).read_text(encoding="utf-8"), title
    for title in ("config/settings/dev.py", "config/settings/prod.py"):
        assert blocks[title] == (lab01 / title).read_text(encoding="utf-8"), title


def _small_course(root: Path, page: str) -> None:
    files = {
        "mkdocs.yml": (
            "site_name: t\n"
            f"hooks: [{ROOT / 'docs/hooks/course_files.py'}]\n"
            "markdown_extensions:\n"
            "  - pymdownx.superfences\n"
            "  - pymdownx.snippets: {base_path: ['.'], check_paths: true}\n"
        ),
        "docs/index.md": page,
        "solutions/labs.toml": 'labs = ["lab01", "lab02"]\n',
        "solutions/app.py": (
            "VALUE = 1\n# BEGIN LAB01\nANSWER = 42\n# STUB LAB01\n# ANSWER = None\n# END LAB01\n"
            '# BEGIN LAB02\nLATER = "lab02 only"\n# END LAB02\n'
        ),
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")


def _build(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(root / "site")],
        cwd=root,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_hook_generates_the_solutions_pages_include(tmp_path: Path) -> None:
    _small_course(tmp_path, '# Home\n\n```python\n--8<-- "lab01/app.py"\n```\n')
    build = _build(tmp_path)
    assert build.returncode == 0, build.stdout + build.stderr
    html = (tmp_path / "site/index.html").read_text(encoding="utf-8")
    assert "ANSWER" in html
    assert "LATER" not in html  # no later lab's code
    assert "LAB0" not in html  # no marker
    cache = tmp_path / ".cache/docs-solutions"
    (first,) = cache.iterdir()
    assert sorted(p.name for p in first.iterdir()) == ["lab01"]  # only what pages include

    again = _build(tmp_path)  # unchanged sources: the tree is reused, not regenerated
    assert again.returncode == 0, again.stderr
    assert "generated lab01" not in again.stderr
    assert list(cache.iterdir()) == [first]

    app = tmp_path / "solutions/app.py"
    app.write_text(app.read_text().replace("ANSWER = 42", "ANSWER = 43"))
    changed = _build(tmp_path)
    assert changed.returncode == 0, changed.stderr
    html = (tmp_path / "site/index.html").read_text(encoding="utf-8")
    assert "ANSWER = 43" in unescape(re.sub(r"<[^>]+>", "", html))
    assert [p.name for p in cache.iterdir()] != [first.name]  # the old tree is gone


def test_hook_fails_the_build_on_broken_markers_or_without_solutions(tmp_path: Path) -> None:
    _small_course(tmp_path, '# Home\n\n```python\n--8<-- "lab01/app.py"\n```\n')
    app = tmp_path / "solutions/app.py"
    app.write_text(app.read_text().replace("# END LAB02\n", ""))
    broken = _build(tmp_path)
    assert broken.returncode != 0
    assert "cannot generate the labs' solutions" in broken.stderr

    (tmp_path / "solutions/labs.toml").unlink()  # like the learners' edition: no solutions
    missing = _build(tmp_path)
    assert missing.returncode != 0
    assert "lab01/app.py" in missing.stderr


_NAV_LINK = re.compile(
    r'<a href="(?P<href>[^"]*)" class="md-nav__link">\s*<span class="md-ellipsis">\s*'
    r"(?P<text>.*?)\s*</span>",
    re.S,
)


def _nav_links(html: str) -> dict[str, str]:
    """The primary navigation's links of a built page: address -> the text shown."""
    return {m["href"]: unescape(" ".join(m["text"].split())) for m in _NAV_LINK.finditer(html)}


def test_lab_navigation_shows_each_labs_title(site: Path) -> None:
    nav = _nav_links((site / "index.html").read_text(encoding="utf-8"))
    labs = sorted(p.parent.name for p in ROOT.glob("labs/lab*/README.md"))
    assert len(labs) >= 7
    for lab in labs:
        title = load_rubric(ROOT / "labs" / lab / "rubric.toml").title.split(": ")[0]
        assert nav[f"labs/{lab}/"] == f"Lab {lab.removeprefix('lab')} · {title}", nav


def test_hook_names_handouts_and_adds_published_cohort_pages_to_the_nav(tmp_path: Path) -> None:
    files = {
        "mkdocs.yml": (
            "site_name: t\n"
            "theme: {name: material}\n"
            f"hooks: [{ROOT / 'docs/hooks/course_files.py'}]\n"
            "validation: {omitted_files: warn, unrecognized_links: warn, anchors: warn}\n"
            "nav:\n"
            "  - index.md\n"
            "  - Labs: [labs/lab01/README.md, {Own title: labs/lab02/README.md}]\n"
            "  - Assessments: [assessments.md, docs-listed.md]\n"
        ),
        "docs/index.md": "# Home\n",
        "docs/docs-listed.md": "# Listed\n",
        # What `cohort publish --site-page docs/cohort-lab01.md` leaves behind.
        "docs/cohort-lab01.md": "# Cohort results: lab01\n",
        "assessments.md": "# Assessments\n",
        "labs/lab01/README.md": "# Lab 01 — long heading\n",
        "labs/lab01/rubric.toml": 'lab = "lab01"\ntitle = "First steps: apps, settings"\n',
        "labs/lab02/README.md": "# Lab 02\n",
        "labs/lab02/rubric.toml": 'lab = "lab02"\ntitle = "Second"\n',
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    build = _build(tmp_path)
    assert build.returncode == 0, build.stdout + build.stderr  # strict: no "not in the nav"
    nav = _nav_links((tmp_path / "site/index.html").read_text(encoding="utf-8"))
    assert nav["labs/lab01/"] == "Lab 01 · First steps"
    assert nav["labs/lab02/"] == "Own title"  # an entry's own title wins
    assert nav["cohort-lab01/"] == "Cohort results: lab01"
    # In the Assessments section, after what it listed already.
    assert list(nav).index("cohort-lab01/") == list(nav).index("docs-listed/") + 1


_LOCAL_LINK = re.compile(r'\b(?:href|src)="(?P<url>[^"#][^"]*)"')


@pytest.fixture(scope="module")
def site_under_a_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built as for a GitHub Pages project site: SITE_URL ends in /blogcraft/."""
    site_dir = tmp_path_factory.mktemp("site-under-a-path")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site_dir)],
        cwd=ROOT,
        env={
            **os.environ,
            "NO_MKDOCS_2_WARNING": "1",
            "SITE_URL": "https://example.org/blogcraft/",
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return site_dir


def test_404_page_links_work_under_a_sub_path(site_under_a_path: Path) -> None:
    """404.html is served at any missing address (/blogcraft/a/b/c), so its links must be
    absolute and start with the site's own path; a root-absolute /assets/... would miss."""
    html = (site_under_a_path / "404.html").read_text(encoding="utf-8")
    urls = [m["url"] for m in _LOCAL_LINK.finditer(html)]
    local = [url for url in urls if not url.startswith(("https://", "http://", "data:"))]
    assert len(local) > 20  # the stylesheets, scripts and the whole navigation
    wrong = [url for url in local if not url.startswith("/blogcraft/")]
    assert wrong == []
    # Every one of them names a file of the built site.
    for url in local:
        path = url.removeprefix("/blogcraft/").split("?")[0]
        target = site_under_a_path / path
        assert (target / "index.html" if not path or path.endswith("/") else target).exists(), url
