"""lab03 graded for real: nbgrader autogrades notebooks in the grader's hardened child.

The full rubric proofs of lab03 (solution, starter, every mutant, the earlier labs' rubrics) run
in tests/grader/test_rubric_proofs.py, which proves every lab with mutants, on SQLite and, when a
server answers (always on CI), on PostgreSQL. Grading a notebook costs seconds (nbgrader's start,
a kernel, migrations), so this module does not prove lab03 a second time: it grades the few
submissions that show what is particular to a notebook lab. On SQLite, full-text search is
reported as not gradable here with how to fix it, and every other criterion is graded; on
PostgreSQL every criterion is graded. Then what a learner can do to the notebook: edit a locked
check, delete one, loop forever.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from grader.course.labgen import generate_lab, load_config
from grader.course.mutants import apply_mutant, load_mutants
from grader.executors.notebook import add_source_notebooks
from grader.pipeline import GradeOptions, grade_submission
from grader.result import validate_result
from grader.rubric import load_rubric
from tests.support import ROOT, postgres_url

pytestmark = pytest.mark.slow

LAB03 = ROOT / "labs" / "lab03"
RUBRIC = load_rubric(LAB03 / "rubric.toml")
assert RUBRIC.notebook is not None
SOURCE = ROOT / "solutions" / RUBRIC.notebook
MUTANTS = {
    m.id: m
    for m in load_mutants(LAB03 / "hidden" / "mutants.toml", {c.id for c in RUBRIC.criteria})
}


def _by_id(result: dict) -> dict[str, dict]:
    return {c["id"]: c for c in result["criteria"]}


@pytest.fixture(scope="module")
def solution() -> Iterator[Path]:
    """lab03's generated solution with its answered notebook, as the proofs build it."""
    with tempfile.TemporaryDirectory(prefix="lab03-solution-") as tmp:
        tree = Path(tmp) / "solution"
        generate_lab(ROOT / "solutions", "lab03", "solution", tree)
        add_source_notebooks(ROOT, "lab03", tree, list(load_config(ROOT / "solutions").labs))
        yield tree


def _grade(tree: Path, **options: object) -> dict:
    result = grade_submission(LAB03, tree, GradeOptions(**options))
    validate_result(result)
    return result


def _mutant(solution: Path, tmp_path: Path, mutant_id: str) -> Path:
    tree = tmp_path / mutant_id
    shutil.copytree(solution, tree)
    apply_mutant(tree, MUTANTS[mutant_id])
    return tree


@pytest.fixture(scope="module")
def on_sqlite(solution: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("lab03-sqlite")
    results = {"solution": _grade(solution), "starter": _grade(LAB03 / "starter")}
    for mutant_id in ("n-plus-one", "filter-instead-of-exclude", "no-transaction"):
        results[mutant_id] = _grade(_mutant(solution, tmp, mutant_id))
    return results


def test_on_sqlite_full_text_search_is_not_gradable_and_the_rest_is_graded(on_sqlite):
    result = on_sqlite["solution"]
    assert result["status"] == "graded"
    criteria = _by_id(result)
    search = criteria.pop("full-text-search")
    assert search["status"] == "not_run"
    assert search["points"] == 0
    assert search["detail"].startswith("Not gradable here: it needs PostgreSQL")
    assert "--database postgres://" in search["detail"]
    assert "GRADER_DATABASE_URL" in search["detail"]
    assert all(c["status"] == "passed" for c in criteria.values())
    assert result["score"]["points"] == 85
    assert result["timings"]["nbgrader_generate"] > 0
    assert result["timings"]["nbgrader_autograde"] > 0


def test_the_starter_fails_every_criterion_saying_which_cell_to_answer(on_sqlite):
    starter = _by_id(on_sqlite["starter"])
    assert starter.pop("full-text-search")["status"] == "not_run"
    for cid, criterion in starter.items():
        assert criterion["status"] == "failed", cid
        cell = RUBRIC.criteria[[c.id for c in RUBRIC.criteria].index(cid)].checks[0][5:]
        assert criterion["detail"].startswith(f"cell {cell}: not answered yet"), criterion["detail"]
        assert "NotImplementedError" in criterion["detail"]
    assert on_sqlite["starter"]["score"]["points"] == 0


def test_mutants_lose_their_criterion_with_the_cell_and_expected_versus_got(on_sqlite):
    for mutant_id in ("n-plus-one", "filter-instead-of-exclude", "no-transaction"):
        failed = [c for c in on_sqlite[mutant_id]["criteria"] if c["status"] == "failed"]
        assert [c["id"] for c in failed] == list(MUTANTS[mutant_id].loses), mutant_id
    n_plus_one = _by_id(on_sqlite["n-plus-one"])["prefetch-related"]["detail"]
    assert n_plus_one.startswith("cell test_prefetch_related: ")
    assert "at most 4" in n_plus_one
    swapped = _by_id(on_sqlite["filter-instead-of-exclude"])["filter-exclude"]["detail"]
    assert swapped.startswith("cell test_filter_exclude: published_posts_in('django'): expected")
    assert "got ['testing-with-pytest']" in swapped
    assert "all or nothing" in _by_id(on_sqlite["no-transaction"])["transaction"]["detail"]
    for result in on_sqlite.values():
        assert all("Traceback" not in (c["detail"] or "") for c in result["criteria"])


@pytest.mark.postgres
def test_on_postgres_every_criterion_is_graded(solution: Path, tmp_path: Path):
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server here (CI requires one)")
    result = _grade(solution, database=url)
    assert result["environment"]["database"] == "postgresql"
    assert {c["status"] for c in result["criteria"]} == {"passed"}
    assert result["score"]["points"] == 100
    unweighted = _grade(_mutant(solution, tmp_path, "search-without-weights"), database=url)
    failed = [c for c in unweighted["criteria"] if c["status"] == "failed"]
    assert [c["id"] for c in failed] == ["full-text-search"]
    assert "should rank first" in failed[0]["detail"]


def _answered_project(tmp_path: Path) -> Path:
    """lab03's project with the answered notebook (the source notebook) in place."""
    project = tmp_path / "project"
    shutil.copytree(LAB03 / "starter", project)
    shutil.copyfile(SOURCE, project / RUBRIC.notebook)
    return project


def _edit_notebook(project: Path, edit) -> None:
    path = project / RUBRIC.notebook
    notebook = json.loads(path.read_text(encoding="utf-8"))
    edit(notebook["cells"])
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def test_locked_checks_are_restored_and_deleted_ones_put_back(tmp_path: Path):
    """A learner who rewrites a check to pass, or deletes one, is graded by the original."""
    project = _answered_project(tmp_path)

    def tamper(cells: list[dict]) -> None:
        by_id = {cell.get("id"): cell for cell in cells}
        by_id["filter_exclude"]["source"] = [
            "def published_posts_in(category_slug):\n",
            "    return Post.objects.none()\n",
        ]
        by_id["test_filter_exclude"]["source"] = ["print('ok: published_posts_in')\n"]
        cells.remove(by_id["test_q_objects"])
        cells.append(
            {
                "cell_type": "code",
                "metadata": {},
                "source": ["x = 1\n"],
                "outputs": [],
                "execution_count": None,
                "id": "mine",
            }
        )

    _edit_notebook(project, tamper)
    result = grade_submission(LAB03, project, GradeOptions())
    validate_result(result)
    criteria = _by_id(result)
    assert criteria["filter-exclude"]["status"] == "failed"
    assert criteria["filter-exclude"]["detail"].startswith(
        "cell test_filter_exclude: published_posts_in('django'): expected"
    )
    assert criteria["q-objects"]["status"] == "passed"  # the deleted check was put back
    assert result["integrity"]["reported_checks"] == len(RUBRIC.criteria)


def test_a_notebook_that_never_finishes_times_out_and_leaves_no_kernel_behind(tmp_path: Path):
    project = _answered_project(tmp_path)

    def loop(cells: list[dict]) -> None:
        cell = next(c for c in cells if c.get("id") == "filter_exclude")
        cell["source"] = ["import time\n", "while True:\n", "    time.sleep(0.1)\n"]

    _edit_notebook(project, loop)
    work = tmp_path / "work"
    result = grade_submission(LAB03, project, GradeOptions(timeout=20, keep_workdir=work))
    assert result["status"] == "timeout"
    assert "20 seconds" in result["message"]
    leftovers = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(work) in cmdline:
            leftovers.append(cmdline)
    assert leftovers == []
