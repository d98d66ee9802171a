"""The learners' edition: built from the repository, free of answers, and self-checking.

The edition is built once per module from this very repository (with the files not committed
yet, so the test also covers work in progress) and then inspected without trusting the builder:
the leak checks here recompute what is secret on their own.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course.release.build import (
    EDITION_FILE,
    LATER,
    WITHHELD,
    ReleaseError,
    build_edition,
    parse_labs,
    prune_nav,
    withhold_solutions,
)
from grader.course.release.notebooks import strip_notebook
from grader.course.release.scan import collect_secrets, scan_edition
from grader.errors import UsageError
from grader.result import validate_result
from tests.instructor.conftest import LAB01, grader_cli
from tests.support import ROOT

MARKER = re.compile(
    r"\b(BEGIN|STUB|END|FILE) (LAB\d+|CAPSTONE)\b|\b(BEGIN|END) (SOLUTION|HIDDEN TESTS)\b"
)


@pytest.fixture(scope="module")
def edition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("release") / "learners"
    # Built without the builder's own scan, so that a leak fails the tests that look for it
    # (naming file and line) rather than every test of the module.
    build_edition(ROOT, dest, include_untracked=True, scan=False)
    return dest


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def _text_lines(root: Path) -> dict[str, list[str]]:
    out = {}
    for path in _files(root):
        try:
            out[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
    return out


def test_edition_keeps_the_rubric_and_leaves_out_answers(edition: Path) -> None:
    paths = {p.relative_to(edition).as_posix() for p in _files(edition)}
    assert not any(p.startswith("solutions/") for p in paths)
    assert not any(re.match(r"labs/[^/]+/hidden/", p) for p in paths)
    assert not any(re.match(r"mutants.*\.toml$", Path(p).name) for p in paths)
    assert not any(p.startswith(("tests/", "docs/authors/")) for p in paths)
    # Titles, points and feedback stay: the rubric is published byte for byte.
    assert (edition / "labs/lab01/rubric.toml").read_bytes() == (LAB01 / "rubric.toml").read_bytes()
    # The self-check's pristine copy of the public tests is the starter's tests/.
    public = sorted(p.name for p in (edition / "labs/lab01/public").iterdir())
    starter = sorted(p.name for p in (LAB01 / "starter/tests").iterdir() if p.is_file())
    assert public == starter
    assert json.loads((edition / EDITION_FILE).read_text())["edition"] == "learners"


def _secret_lines(origins: list[Path], given: set[str]) -> dict[str, list[tuple[str, int]]]:
    secret: dict[str, list[tuple[str, int]]] = {}
    for origin in origins:
        for rel, lines in _text_lines(origin).items():
            for number, line in enumerate(lines, 1):
                text = line.strip()
                if (
                    len(text) >= 20
                    and text not in given
                    and not text.startswith(("#", "import ", "from "))
                ):
                    secret.setdefault(text, []).append((f"{origin.name}/{rel}", number))
    return secret


def test_no_hidden_check_or_solution_only_code_reaches_the_edition(
    edition: Path, lab01_solution: Path
) -> None:
    """Recomputed independently of the scanner from lab01's generated solution and hidden
    checks: no long secret line and no block of three or more secret lines (each within three
    lines of the next, and neighbours in their source too) appears outside the course tooling."""
    given: set[str] = set()
    for starter in (ROOT / "labs").glob("*/starter"):
        given |= {line.strip() for lines in _text_lines(starter).values() for line in lines}
    for handout in (ROOT / "labs").glob("*/README.md"):
        text = handout.read_text(encoding="utf-8")
        given |= {line.strip() for line in text.splitlines()}
        given |= {span.strip() for span in re.findall(r"`([^`\n]+)`", text)}
    secret = _secret_lines([LAB01 / "hidden", lab01_solution], given)
    assert len(secret) > 20, "the check needs secret lines to look for"
    hidden_hashes = {hashlib.sha256(p.read_bytes()).hexdigest() for p in _files(LAB01 / "hidden")}
    leaks = []
    for rel, lines in _text_lines(edition).items():
        if hashlib.sha256((edition / rel).read_bytes()).hexdigest() in hidden_hashes:
            leaks.append(f"{rel}: a hidden check file")
        if rel.startswith("grader/") or rel in ("pyproject.toml", "noxfile.py", "noxw.py"):
            continue  # course tooling, reviewed code shared by both editions
        hits = [(n, line.strip()) for n, line in enumerate(lines, 1) if line.strip() in secret]
        runs: list[list[tuple[int, str]]] = []
        for n, text in hits:
            if (
                runs
                and n - runs[-1][-1][0] <= 3
                and any(
                    a[0] == b[0] and 0 < abs(a[1] - b[1]) <= 4
                    for a in secret[text]
                    for b in secret[runs[-1][-1][1]]
                )
            ):
                runs[-1].append((n, text))
            else:
                runs.append([(n, text)])
        for run in runs:
            leaks += [
                f"{rel}:{n}: {text!r} from {secret[text][0]}"
                for n, text in run
                if len(run) >= 3 or len(text) >= 60
            ]
    assert leaks == []


def test_no_marker_text_in_the_edition(edition: Path) -> None:
    found = []
    for rel, lines in _text_lines(edition).items():
        for number, line in enumerate(lines, 1):
            # Tooling may name the grammar in prose; a marker *line* there would be real code.
            text = line.strip().lstrip("#").strip() if rel.startswith("grader/") else line
            if MARKER.search(text) and (
                not rel.startswith("grader/") or line.strip().startswith("#")
            ):
                found.append(f"{rel}:{number}: {line.strip()}")
    assert found == []


def test_the_builders_own_scan_is_clean(edition: Path) -> None:
    assert scan_edition(edition, ROOT) == []


def _secret_block() -> str:
    """Three neighbouring lines of the newest lab's answers (no starter has them yet)."""
    by_file: dict[str, list[tuple[int, str]]] = {}
    for line, origins in collect_secrets(ROOT).lines.items():
        if any(kind != "solution" for kind, _rel, _number in origins):
            continue  # also in a hidden check: the scan would name that origin first
        for kind, rel, number in origins:
            if kind == "solution":
                by_file.setdefault(rel, []).append((number, line))
    for found in by_file.values():
        found.sort()
        for (n1, first), (_n2, second), (n3, third) in zip(
            found, found[1:], found[2:], strict=False
        ):
            if n3 - n1 <= 4:
                return f"{first}\n{second}\n{third}"
    raise AssertionError("the reference solution has no secret block to plant")


def _plant(edition: Path, dest: Path) -> Path:
    shutil.copytree(edition, dest)
    shutil.copy(LAB01 / "hidden" / "test_health.py", dest / "docs" / "extra_checks.py")
    with (dest / "docs" / "index.md").open("a") as fh:
        fh.write(f"\n```python\n{_secret_block()}\n```\n")
    with (dest / "labs" / "lab01" / "README.md").open("a") as fh:
        fh.write("\n<!-- BEGIN LAB01 -->\n")
    with (dest / "docs" / "glossary.md").open("a") as fh:
        fh.write('\n```python\n--8<-- "lab01/api/health.py"\n```\n')
    (dest / "solutions" / "api").mkdir(parents=True)
    (dest / "solutions" / "api" / "health.py").write_text("x = 1\n")
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"nbgrader": {"solution": True}},
                "source": ["answer = 42\n"],
                "outputs": [],
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (dest / "docs" / "workbook.ipynb").write_text(json.dumps(notebook))
    return dest


def test_scan_finds_each_kind_of_planted_leak(edition: Path, tmp_path: Path) -> None:
    planted = _plant(edition, tmp_path / "leaky")
    found = {(leak.path, leak.kind) for leak in scan_edition(planted, ROOT)}
    assert ("docs/extra_checks.py", "hidden-file") in found
    assert ("docs/index.md", "solution-line") in found
    assert ("labs/lab01/README.md", "marker") in found
    assert ("docs/glossary.md", "solution-include") in found
    assert ("solutions/api/health.py", "excluded-path") in found
    assert ("docs/workbook.ipynb", "notebook-answer") in found


def test_strip_notebook_removes_answers_and_outputs() -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["Write `mean`."]},
            {
                "cell_type": "code",
                "metadata": {"nbgrader": {"solution": True, "grade_id": "a"}},
                "source": ["def mean(xs):\n", "    return sum(xs) / len(xs)"],
                "outputs": [{"output_type": "stream", "text": "2.0"}],
                "execution_count": 3,
            },
            {
                "cell_type": "code",
                "metadata": {"tags": ["solution"]},
                "source": ["print(41 + 1)"],
                "outputs": [],
            },
            {
                "cell_type": "code",
                "metadata": {},
                "source": [
                    "def f():\n",
                    "    ### BEGIN SOLUTION\n",
                    "    return 'secret'\n",
                    "    ### END SOLUTION\n",
                    "assert True\n",
                    "### BEGIN HIDDEN TESTS\n",
                    "assert f() == 'secret'\n",
                    "### END HIDDEN TESTS",
                ],
                "outputs": [],
                "execution_count": 1,
            },
        ],
        "metadata": {"kernelspec": {"name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    stripped = json.loads(strip_notebook(json.dumps(notebook).encode()))
    text = json.dumps(stripped)
    assert "sum(xs)" not in text
    assert "41 + 1" not in text
    assert "secret" not in text
    assert len(stripped["cells"]) == 3  # the tagged answer cell is gone, the others stay
    assert stripped["cells"][1]["source"] == ["# YOUR CODE HERE\n", "raise NotImplementedError()"]
    assert stripped["cells"][1]["outputs"] == []
    assert stripped["cells"][1]["execution_count"] is None
    assert "    # YOUR CODE HERE\n" in stripped["cells"][2]["source"]
    assert "".join(stripped["cells"][2]["source"]).endswith("assert True")
    assert stripped["metadata"] == notebook["metadata"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=a", "-c", "user.email=a@example.org", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def _tiny_course(repo: Path) -> Path:
    """A minimal course repository: one lab, a reference solution, a notebook."""
    (repo / "solutions" / "app").mkdir(parents=True)
    (repo / "solutions" / "labs.toml").write_text('labs = ["lab01"]\n')
    (repo / "solutions" / "app" / "views.py").write_text(
        "def view():\n    # BEGIN LAB01\n    return compute_the_secret_answer_of_lab01()\n"
        "    # STUB LAB01\n    # raise NotImplementedError\n    # END LAB01\n"
    )
    (repo / "labs" / "lab01" / "hidden").mkdir(parents=True)
    (repo / "labs" / "lab01" / "starter" / "tests").mkdir(parents=True)
    (repo / "labs" / "lab01" / "rubric.toml").write_text('lab = "lab01"\n')
    (repo / "labs" / "lab01" / "hidden" / "test_x.py").write_text(
        "def test_x():\n"
        "    response = client.get('/api/v1/the-hidden-endpoint/')\n"
        "    assert response.status_code == 418, response.content\n"
        "    assert response.json() == hidden_expectation_nobody_may_see()\n"
    )
    (repo / "labs" / "lab01" / "starter" / "tests" / "test_public.py").write_text(
        "def test_public():\n    assert True\n"
    )
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"nbgrader": {"solution": True}},
                "source": ["answer = compute_the_secret_answer_of_lab01()"],
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (repo / "labs" / "lab01" / "workbook.ipynb").write_text(json.dumps(notebook))
    (repo / "notes.md").write_text("untracked notes\n")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    _git(repo, "add", "solutions", "labs")
    _git(repo, "commit", "-qm", "course")
    return repo


def test_release_of_a_small_course(tmp_path: Path) -> None:
    repo = _tiny_course(tmp_path / "course")
    built = build_edition(repo, tmp_path / "out")
    assert "labs/lab01/workbook.ipynb" in built.notebooks
    assert "secret_answer" not in (tmp_path / "out/labs/lab01/workbook.ipynb").read_text()
    assert (tmp_path / "out/labs/lab01/public/test_public.py").is_file()
    assert not (tmp_path / "out/notes.md").exists()  # untracked: not published
    assert not (tmp_path / "out/solutions").exists()
    assert "solutions/app/views.py" in built.excluded


def test_release_refuses_an_edition_that_leaks(tmp_path: Path) -> None:
    repo = _tiny_course(tmp_path / "course")
    (repo / "docs").mkdir()
    (repo / "docs" / "tips.md").write_text(
        "# Tips\n\n```python\nresponse = client.get('/api/v1/the-hidden-endpoint/')\n"
        "assert response.status_code == 418, response.content\n"
        "assert response.json() == hidden_expectation_nobody_may_see()\n```\n"
    )
    _git(repo, "add", "docs")
    _git(repo, "commit", "-qm", "a page quoting a hidden check")
    with pytest.raises(ReleaseError, match=r"docs/tips.md:4: hidden-line"):
        build_edition(repo, tmp_path / "out")


def test_prune_nav_drops_missing_pages_and_empty_sections() -> None:
    text = (
        "site_name: x\nnav:\n  - Home: index.md\n  - Authors:\n      - Markers: authors/m.md\n"
        "  - Guides:\n      - Keep: guides/k.md\n      - Gone: guides/g.md\n"
        "# a comment\ntheme:\n  name: material\n"
    )
    pruned = prune_nav(text, lambda page: page in ("authors/m.md", "guides/g.md"))
    assert "Authors" not in pruned
    assert "guides/g.md" not in pruned
    assert "      - Keep: guides/k.md\n" in pruned
    assert "theme:\n  name: material\n" in pruned


def test_the_learners_site_builds_strictly(edition: Path, tmp_path: Path) -> None:
    assert "authors/" not in (edition / "mkdocs.yml").read_text()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=edition,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_grade_in_the_edition_runs_the_public_checks(
    edition: Path, lab01_solution: Path, tmp_path: Path
) -> None:
    starter = grader_cli("grade", "lab01", cwd=edition, env={"COLUMNS": "400"})
    assert starter.returncode == 1, starter.stderr
    assert "decided by the official grading" in starter.stdout
    result = json.loads((edition / ".grader/results/lab01.json").read_text())
    validate_result(result)
    assert result["status"] == "graded"
    assert {c["status"] for c in result["criteria"]} == {"official_only"}
    assert result["public_checks"]["source"] == "labs/lab01/public"
    assert result["public_checks"]["failed"] > 0
    assert result["public_checks"]["passed"] == 0

    solved = grader_cli(
        "grade", "lab01", "--submission", str(lab01_solution), "--json", cwd=edition
    )
    assert solved.returncode == 0, solved.stderr
    document = json.loads(solved.stdout)
    public = document["public_checks"]
    assert public["failed"] == 0
    assert public["passed"] >= 10
    # Issue 20: the full solution's self-check wrote points: 0 with status graded. Nothing is
    # scored here: null points, and why; each criterion lists the public tests near it.
    validate_result(document)
    assert (document["score"]["points"], document["score"]["percent"]) == (None, None)
    assert "no hidden checks" in document["score"]["not_scored"]
    assert all(c["points"] is None for c in document["criteria"])
    near = {c["id"]: [t["outcome"] for t in c["tests"]] for c in document["criteria"]}
    assert len(near["settings-split"]) >= 4  # its four tests, one of them parametrized
    assert all(outcomes and set(outcomes) == {"passed"} for outcomes in near.values())
    assert "Public checks for this criterion: 0/4 pass." in starter.stdout  # the starter's rows
    assert "OFFICIAL" in starter.stdout

    # Deleting or weakening one's own tests changes nothing: the pristine copy runs.
    gutted = tmp_path / "gutted"
    shutil.copytree(ROOT / "labs/lab01/starter", gutted)
    shutil.rmtree(gutted / "tests")
    again = grader_cli("grade", "lab01", "--submission", str(gutted), "--json", cwd=edition)
    assert again.returncode == 1
    assert json.loads(again.stdout)["public_checks"]["failed"] == result["public_checks"]["failed"]


def test_every_public_entry_of_a_rubric_names_a_public_test() -> None:
    """A rubric's ``public`` (the self-check's map from criteria to public tests) names files and
    tests that exist in the lab's starter tests/, so a renamed test cannot empty a row."""
    import ast

    from grader.rubric import load_rubric

    checked = 0
    for rubric_file in sorted(ROOT.glob("labs/*/rubric.toml")):
        tests_dir = rubric_file.parent / "starter" / "tests"
        for criterion in load_rubric(rubric_file).criteria:
            for entry in criterion.public:
                file, _, name = entry.partition("::")
                path = tests_dir / file
                assert path.is_file(), f"{rubric_file}: {criterion.id}: no {path}"
                names = {
                    node.name
                    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                    if isinstance(node, ast.FunctionDef)
                }
                assert not name or name in names, f"{rubric_file}: {criterion.id}: no {entry}"
                checked += 1
    assert checked >= 14  # lab01 maps every criterion


def test_release_command_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "old.txt").write_text("old")
    done = grader_cli("release", str(tmp_path / "dest"))
    assert done.returncode == 2
    assert "must be an empty folder" in done.stderr


def test_the_edition_withholds_the_worked_solutions(edition: Path) -> None:
    """Day pages include lab answers (generated solutions) only in Solution folds; the edition
    keeps each fold's title and says where the answer is instead."""
    withheld = 0
    for page in sorted((edition / "docs").rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'--8<--\s+"(?:lab\d+|capstone)/', text), page
        withheld += text.count(WITHHELD)
    assert withheld > 0
    source = (ROOT / "docs/days/day01.md").read_text(encoding="utf-8")
    day01 = (edition / "docs/days/day01.md").read_text(encoding="utf-8")
    assert source.count('??? success "Solution"') == day01.count('??? success "Solution"')
    assert "## Hour 4: A health check, its tests and the grader" in day01


def test_withhold_solutions_replaces_only_folds_with_lab_answers() -> None:
    page = (
        "# Day\n\n"
        '!!! example "Challenge 1"\n\n'
        "    Do it.\n\n"
        '    ??? success "Solution"\n\n'
        "        The reference:\n\n"
        '        === "a.py"\n\n'
        '            ```python title="a.py"\n'
        '            --8<-- "lab01/api/a.py:2:9"\n'
        "            ```\n\n"
        "After the challenge.\n\n"
        '!!! example "Challenge 2"\n\n'
        '    ??? success "Solution"\n\n'
        "        Prose only, kept.\n\n"
        '```python\n--8<-- "labs/lab01/starter/api/a.py"\n```\n'
    )
    withheld = withhold_solutions(page)
    assert withheld == (
        "# Day\n\n"
        '!!! example "Challenge 1"\n\n'
        "    Do it.\n\n"
        '    ??? success "Solution"\n\n'
        f"        {WITHHELD}\n\n"
        "After the challenge.\n\n"
        '!!! example "Challenge 2"\n\n'
        '    ??? success "Solution"\n\n'
        "        Prose only, kept.\n\n"
        '```python\n--8<-- "labs/lab01/starter/api/a.py"\n```\n'
    )
    assert withhold_solutions(withheld) == withheld


def test_snippets_of_files_left_out_are_inlined_and_links_unlinked(tmp_path: Path) -> None:
    from grader.course.release.build import inline_snippets, unlink_excluded

    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "a.py").write_text("one\ntwo\nthree\nfour\n")
    page = (
        "Text\n"
        '    --8<-- "solutions/a.py:2:3,4:"\n'
        '--8<-- "templates/kept.py"\n'
        "See [the markers](authors/m.md#x) and [the grader](grader.md).\n"
    )
    inlined = inline_snippets(page, tmp_path, {"solutions/a.py"})
    assert "    two\n    three\n    four\n" in inlined
    assert '--8<-- "templates/kept.py"' in inlined  # published file: left to the site build
    unlinked = unlink_excluded(inlined, "docs/index.md", {"docs/authors/m.md"})
    assert "See the markers and [the grader](grader.md)." in unlinked


def test_strip_notebook_keeps_what_nbgrader_released() -> None:
    """A released notebook keeps each answer cell's signature and docstring around the stub;
    a solution region inside an answer cell becomes the stub in place."""
    released = {
        "cell_type": "code",
        "metadata": {"nbgrader": {"solution": True, "grade_id": "q1"}},
        "source": [
            "def q1():\n",
            '    """Posts by Ann."""\n',
            "    # YOUR CODE HERE\n",
            "    raise NotImplementedError()",
        ],
        "outputs": [],
    }
    source = {
        **released,
        "source": [
            "def q2():\n",
            "    ### BEGIN SOLUTION\n",
            "    return 'answer'\n",
            "    ### END SOLUTION\n",
        ],
    }
    notebook = {"cells": [released, source], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    cells = json.loads(strip_notebook(json.dumps(notebook).encode()))["cells"]
    assert "".join(cells[0]["source"]).startswith('def q1():\n    """Posts by Ann."""')
    assert "raise NotImplementedError()" in "".join(cells[0]["source"])
    second = "".join(cells[1]["source"])
    assert second.startswith("def q2():\n")
    assert "answer" not in second
    assert "raise NotImplementedError()" in second


# -- per-lab releases (issue 20) -------------------------------------------------------------


@pytest.fixture(scope="module")
def first_labs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An edition releasing lab01 and lab02 only, built without its own scan (as above)."""
    dest = tmp_path_factory.mktemp("release-labs") / "learners"
    build_edition(ROOT, dest, include_untracked=True, scan=False, labs=("lab01", "lab02"))
    return dest


def test_parse_labs_reads_ranges_lists_and_numbers() -> None:
    known = ["lab01", "lab02", "lab03", "lab04"]
    assert parse_labs("lab01..lab03", known) == ("lab01", "lab02", "lab03")
    assert parse_labs("1..2,4", known) == ("lab01", "lab02", "lab04")
    assert parse_labs("lab03", known) == ("lab03",)
    for bad, message in (("lab09", "No lab 'lab09'"), ("lab03..lab01", "comes after")):
        with pytest.raises(UsageError, match=message):
            parse_labs(bad, known)


def test_a_per_lab_release_holds_only_its_labs(first_labs: Path) -> None:
    """Issue 20: a release of every lab at once handed out lab01's answers in lab02's starter
    (and lab02's in lab03's), and templates/settings/*.py are the settings answers."""
    labs = sorted(p.name for p in (first_labs / "labs").iterdir() if p.is_dir())
    assert labs == ["lab01", "lab02"]
    assert not (first_labs / "docs" / "days" / "day03.md").exists()
    assert (first_labs / "docs" / "days" / "day02.md").is_file()
    assert not (first_labs / "templates" / "settings").exists()
    assert not (first_labs / "templates" / "copier" / "capstone").exists()
    assert LATER in (first_labs / "resources.md").read_text(encoding="utf-8")
    assert "labs/lab03/README.md" not in (first_labs / "mkdocs.yml").read_text()
    info = json.loads((first_labs / EDITION_FILE).read_text())
    assert info["labs"] == ["lab01", "lab02"]
    assert scan_edition(first_labs, ROOT, ("lab01", "lab02")) == []


def test_an_edition_releasing_the_capstone_carries_its_template(edition: Path) -> None:
    """The capstone's handout begins with `copier copy .../templates/copier/capstone`: the full
    edition (the capstone released) left the template out, so that command had nothing to copy."""
    handout = (edition / "labs" / "capstone" / "README.md").read_text(encoding="utf-8")
    assert "templates/copier/capstone" in handout
    template = edition / "templates" / "copier" / "capstone"
    assert (template / "copier.yml").is_file()
    assert (template / "template" / "capstone.toml.jinja").is_file()
    assert not (edition / "templates" / "copier" / "new-lab").exists()  # course authors' only


def test_the_scan_knows_what_a_lab_not_released_yet_answers(
    first_labs: Path, tmp_path: Path
) -> None:
    """A file answering a later lab is a leak in an edition that does not release that lab,
    though the full edition (where a later starter gives it away) may hold it."""
    planted = tmp_path / "planted"
    shutil.copytree(first_labs, planted)
    lab03 = ROOT / "labs" / "lab03" / "starter"  # lab03's starter: lab02's answers in
    answers = sorted(p for p in lab03.rglob("*.py") if "tests" not in p.parts)
    for path in answers:
        target = planted / "docs" / "copied" / path.relative_to(lab03)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    shutil.copytree(ROOT / "templates" / "settings", planted / "templates" / "settings")
    found = {leak.path for leak in scan_edition(planted, ROOT, ("lab01", "lab02"))}
    assert any(p.startswith("docs/copied/") for p in found)
    assert any(p.startswith("templates/settings/") for p in found)
    # Releasing every lab, lab03's starter is given: the same copies are no leak of an answer.
    everything = {leak.path for leak in scan_edition(planted, ROOT)}
    assert not any(p.startswith("docs/copied/") for p in everything)


@pytest.mark.slow
def test_the_next_lab_is_added_to_an_existing_edition(tmp_path: Path) -> None:
    dest = tmp_path / "edition"
    first = grader_cli("release", "--include-untracked", "--labs", "lab01", str(dest))
    assert first.returncode == 0, first.stderr
    (dest / ".git").mkdir()  # the edition's own repository, which an update keeps
    (dest / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    again = grader_cli("release", "--include-untracked", "--labs", "1..2", str(dest))
    assert again.returncode == 2
    assert "--update" in again.stderr
    added = grader_cli(
        "release", "--include-untracked", "--labs", "lab01..lab02", "--update", str(dest)
    )
    assert added.returncode == 0, added.stderr
    assert "(lab01, lab02)" in added.stdout
    assert (dest / "labs" / "lab02" / "README.md").is_file()
    assert (dest / ".git" / "HEAD").is_file()
    assert json.loads((dest / EDITION_FILE).read_text())["labs"] == ["lab01", "lab02"]
    stranger = tmp_path / "other"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine\n")
    refused = grader_cli("release", "--labs", "lab01", "--update", str(stranger))
    assert refused.returncode == 2
    assert "not a learners' edition" in refused.stderr
    assert (stranger / "notes.txt").is_file()


@pytest.mark.slow
def test_the_editions_readme_commands_work_there(tmp_path: Path) -> None:
    """Issue 20: the edition's README said `python3 noxw.py -s tests`, which failed there
    (`labgen: solutions/labs.toml: not found`), as did `nox -s labs`. Build a lab01 edition and
    run its README's commands as written (nox from this environment stands in for noxw.py,
    which would first install nox)."""
    import os

    dest = tmp_path / "learners"
    build_edition(ROOT, dest, include_untracked=True, labs=("lab01",))
    readme = (dest / "README.md").read_text(encoding="utf-8")
    assert "solutions/" not in readme
    block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert block is not None
    commands = [line.split() for line in block.group(1).splitlines() if line.strip()]
    assert [c[:3] for c in commands] == [["python3", "noxw.py", "-s"]] * 2
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTEST_ADDOPTS")}
    env.update(NO_COLOR="1", PWD=str(dest), COLUMNS="400")
    outputs = []
    for command in [*commands, ["python3", "noxw.py", "-s", "labs"]]:
        done = subprocess.run(
            [sys.executable, "-m", "nox", *command[2:]], cwd=dest, env=env,
            capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(done.stdout + done.stderr)
    grade, tests, labs = outputs
    assert "Public checks for this criterion:" in grade
    assert "Learners' edition OK: lab01 complete, every starter starts." in tests
    assert "has no solutions/" in labs
