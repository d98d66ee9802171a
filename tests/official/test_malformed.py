"""The malformed-input corpus: each input gets a definite status and a sentence saying what to fix.

Inputs refused before any check runs (intake, staging, layout, syntax) behave the same in both
modes, so those cases run in local and official mode. Inputs that need the project to start
(settings, migrations, an import-time loop) run in official mode, where the sandbox starts it.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import textwrap
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader.errors import UsageError
from grader.pipeline import GradeOptions, grade_submission
from grader.result import validate_result
from tests.official.conftest import fingerprint
from tests.support import ROOT

pytestmark = pytest.mark.slow

LAB01 = ROOT / "labs" / "lab01"


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path, Path], Path]  # (solution copy, tmp) -> the path to grade
    status: str
    stage: str | None
    phrases: tuple[str, ...]


def _remove(tree: Path, rel: str) -> Path:
    (tree / rel).unlink()
    return tree


def _empty(tree: Path, tmp: Path) -> Path:
    empty = tmp / "empty"
    empty.mkdir()
    return empty


def _nested(tree: Path, tmp: Path) -> Path:
    outer = tmp / "outer"
    outer.mkdir()
    shutil.move(str(tree), outer / "myproject")
    (outer / "notes.py").write_text("# notes\n")
    return outer


def _syntax_error(tree: Path, tmp: Path) -> Path:
    (tree / "api" / "views.py").write_text("def broken(:\n    pass\n")
    return tree


def _null_bytes(tree: Path, tmp: Path) -> Path:
    (tree / "api" / "views.py").write_bytes(b"x = 1\x00\n")
    return tree


def _huge_file(tree: Path, tmp: Path) -> Path:
    with (tree / "data.bin").open("wb") as fh:
        fh.truncate(1024**3)  # sparse: 1 GiB on paper, nothing on disk
    return tree


def _many_files(tree: Path, tmp: Path) -> Path:
    folder = tree / "generated"
    folder.mkdir()
    for i in range(100_000):
        (folder / f"f{i}.txt").touch()
    return tree


def _system_link(tree: Path, tmp: Path) -> Path:
    (tree / "config" / "local_settings.py").symlink_to("/etc/passwd")
    return tree


def _non_utf8_name(tree: Path, tmp: Path) -> Path:
    with open(os.path.join(os.fsencode(tree / "api"), b"caf\xe9.py"), "w") as fh:
        fh.write("x = 1\n")
    return tree


def _zip(tree: Path, target: Path, extra: Callable[[zipfile.ZipFile], None] | None = None) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(tree.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(tree).as_posix())
        if extra:
            extra(zf)
    return target


def _zip_bomb_ratio(tree: Path, tmp: Path) -> Path:
    zeros = b"\0" * (9 * 1024 * 1024)

    def add(zf: zipfile.ZipFile) -> None:
        for i in range(4):
            zf.writestr(f"padding/zeros{i}.bin", zeros)

    return _zip(tree, tmp / "bomb.zip", add)


def _zip_bomb_size(tree: Path, tmp: Path) -> Path:
    target = tmp / "big.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manage.py", "print('hi')\n")
        with zf.open("zeros.bin", "w", force_zip64=True) as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(200):
                member.write(block)
    return target


def _zip_dotdot(tree: Path, tmp: Path) -> Path:
    return _zip(tree, tmp / "escape.zip", lambda zf: zf.writestr("../../evil.py", "x = 1\n"))


def _tar_absolute(tree: Path, tmp: Path) -> Path:
    target = tmp / "escape.tar.gz"
    with tarfile.open(target, "w:gz") as tf:
        tf.add(tree, arcname="project")
        data = b"x = 1\n"
        info = tarfile.TarInfo("/tmp/evil.py")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return target


def _tar_link(tree: Path, tmp: Path) -> Path:
    target = tmp / "link.tgz"
    with tarfile.open(target, "w:gz") as tf:
        tf.add(tree, arcname="project")
        info = tarfile.TarInfo("project/config/shadow")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/shadow"
        tf.addfile(info)
    return target


def _corrupt_zip(tree: Path, tmp: Path) -> Path:
    target = tmp / "broken.zip"
    target.write_bytes(b"PK\x03\x04" + os.urandom(2048))
    return target


def _another_project(tree: Path, tmp: Path) -> Path:
    other = tmp / "mysite"
    (other / "mysite").mkdir(parents=True)
    (other / "manage.py").write_text(
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n"
    )
    (other / "mysite" / "__init__.py").write_text("")
    (other / "mysite" / "settings.py").write_text("SECRET_KEY = 'x'\nINSTALLED_APPS = []\n")
    return other


CAUGHT_BEFORE_CHECKS = (
    Case("empty-folder", _empty, "error", "stage", ("no Python files",)),
    Case(
        "no-manage-py",
        lambda t, _: _remove(t, "manage.py"),
        "error",
        "stage",
        ("no manage.py at the top", "Grade the folder that holds manage.py"),
    ),
    Case("project-one-folder-down", _nested, "error", "stage", ("myproject/ has one",)),
    Case("syntax-error", _syntax_error, "error", "syntax", ("api/views.py, line 1", "Fix it")),
    Case(
        "null-bytes-in-source",
        _null_bytes,
        "error",
        "syntax",
        ("api/views.py", "null bytes", "Fix it"),
    ),
    Case("1-gib-file", _huge_file, "error", "stage", ("data.bin", "are not graded")),
    Case("100000-small-files", _many_files, "error", "stage", ("the limit is 2000", "Remove")),
    Case(
        "symlink-to-system-file",
        _system_link,
        "error",
        "stage",
        ("config/local_settings.py is a symbolic link to /etc/passwd", "Replace the link"),
    ),
    Case("non-utf8-file-name", _non_utf8_name, "error", "stage", ("not valid UTF-8", "Rename it")),
    Case("zip-bomb-ratio", _zip_bomb_ratio, "error", "stage", ("zip bomb", "was not unpacked")),
    Case("zip-bomb-size", _zip_bomb_size, "error", "stage", ("unpacks to 200 MiB", "not unpacked")),
    Case(
        "zip-with-dotdot-paths",
        _zip_dotdot,
        "error",
        "stage",
        ("unsafe path", "'../../evil.py'", "Make the archive again"),
    ),
    Case(
        "tar-with-absolute-path", _tar_absolute, "error", "stage", ("unsafe path", "/tmp/evil.py")
    ),
    Case("tar-with-symlink", _tar_link, "error", "stage", ("link or a device",)),
    Case("corrupt-zip", _corrupt_zip, "error", "stage", ("not a readable zip archive",)),
    Case(
        "another-project",
        _another_project,
        "error",
        "stage",
        ("config/settings/test.py is missing", "not the lab01 project"),
    ),
)


def _grade(mode: str, submission: Path, lab_dir: Path = LAB01, **options: Any) -> dict[str, Any]:
    result = grade_submission(lab_dir, submission, GradeOptions(mode=mode, **options))
    validate_result(result)
    return result


def _assert_learner_facing(result: dict[str, Any], case: Case) -> None:
    assert result["status"] == case.status, result["message"]
    assert result["error_stage"] == case.stage
    for phrase in case.phrases:
        assert phrase in result["message"], result["message"]
    assert "Traceback" not in result["message"]
    assert all(c["status"] == "not_run" for c in result["criteria"])
    assert result["score"]["points"] == 0


def test_the_corpus_is_big_enough() -> None:
    assert len(CAUGHT_BEFORE_CHECKS) + len(SANDBOX_CASES) >= 15


@pytest.mark.parametrize("mode", ["local", "official"])
@pytest.mark.parametrize("case", CAUGHT_BEFORE_CHECKS, ids=[c.id for c in CAUGHT_BEFORE_CHECKS])
def test_refused_before_any_check(
    case: Case, mode: str, solution_copy: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if mode == "official":
        request.getfixturevalue("official_available")
    submission = case.build(solution_copy, tmp_path)
    before = fingerprint(submission) if submission.is_dir() else submission.read_bytes()
    result = _grade(mode, submission)
    _assert_learner_facing(result, case)
    after = fingerprint(submission) if submission.is_dir() else submission.read_bytes()
    assert after == before, "grading changed the submission"


# --- inputs the sandbox must start to judge -------------------------------------------------------


@pytest.fixture
def lab_with_migrations(tmp_path: Path) -> Path:
    """lab01's rubric and checks, but building the database from the project's migrations."""
    lab = tmp_path / "course" / "lab01"
    lab.mkdir(parents=True)
    shutil.copytree(LAB01 / "hidden", lab / "hidden")
    rubric = (LAB01 / "rubric.toml").read_text()
    assert "migrations = false" in rubric
    (lab / "rubric.toml").write_text(rubric.replace("migrations = false", "migrations = true"))
    return lab


MODEL = textwrap.dedent(
    """
    from django.db import models


    class Post(models.Model):
        title = models.CharField(max_length=200)
    """
)
MIGRATION = textwrap.dedent(
    """
    from django.db import migrations, models


    def boom(apps, schema_editor):
        raise RuntimeError("data migration exploded")


    class Migration(migrations.Migration):
        initial = True
        dependencies = []
        operations = [
            migrations.CreateModel(
                name="Post",
                fields=[
                    ("id", models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    )),
                    ("title", models.CharField(max_length=200)),
                ],
            ),
            migrations.RunPython(boom),
        ]
    """
)


def _settings_raise(tree: Path) -> None:
    base = tree / "config" / "settings" / "base.py"
    base.write_text(base.read_text() + "\nTIME_ZONE = undefined_name\n")


def _missing_migration(tree: Path) -> None:
    (tree / "blog" / "models.py").write_text(MODEL)


def _raising_migration(tree: Path) -> None:
    (tree / "blog" / "models.py").write_text(MODEL)
    (tree / "blog" / "migrations" / "0001_initial.py").write_text(MIGRATION)


def _import_loop(tree: Path) -> None:
    apps = tree / "blog" / "apps.py"
    apps.write_text(apps.read_text() + "\nwhile True:\n    pass\n")


@dataclass(frozen=True)
class SandboxCase:
    id: str
    build: Callable[[Path], None]
    migrations: bool
    status: str
    stage: str
    phrases: tuple[str, ...]
    timeout: float | None = None


SANDBOX_CASES = (
    SandboxCase(
        "settings-raise",
        _settings_raise,
        False,
        "error",
        "settings",
        ("Django could not start", "NameError", "config/settings/base.py"),
    ),
    SandboxCase(
        "missing-migrations",
        _missing_migration,
        True,
        "error",
        "settings",
        ("no migration records", "blog: Create model Post", "makemigrations"),
    ),
    SandboxCase(
        "migration-raises",
        _raising_migration,
        True,
        "error",
        "settings",
        (
            "Building the database failed",
            "data migration exploded",
            "blog/migrations/0001_initial.py",
        ),
    ),
    SandboxCase(
        "import-time-infinite-loop",
        _import_loop,
        False,
        "timeout",
        "timeout",
        ("did not finish within 8 seconds", "endless loop"),
        timeout=8,
    ),
)


@pytest.mark.parametrize("case", SANDBOX_CASES, ids=[c.id for c in SANDBOX_CASES])
def test_refused_by_the_sandboxed_project(
    case: SandboxCase, official: Any, solution_copy: Path, lab_with_migrations: Path
) -> None:
    case.build(solution_copy)
    lab = lab_with_migrations if case.migrations else LAB01
    options = {"timeout": case.timeout} if case.timeout else {}
    result = official(solution_copy, lab_dir=lab, **options)
    assert result["status"] == case.status, result["message"]
    assert result["error_stage"] == case.stage
    for phrase in case.phrases:
        assert phrase in result["message"], result["message"]
    assert "Traceback" not in result["message"]


def test_the_migrations_variant_grades_a_sound_project(
    official: Any, solution_copy: Path, lab_with_migrations: Path
) -> None:
    """Control for the cases above: the same variant lab scores a project with sound
    migrations fully, so the refusals come from the defects, not from the variant."""
    _raising_migration(solution_copy)
    migration = solution_copy / "blog" / "migrations" / "0001_initial.py"
    migration.write_text(migration.read_text().replace("migrations.RunPython(boom),", ""))
    result = official(solution_copy, lab_dir=lab_with_migrations)
    assert result["status"] == "graded", result["message"]
    assert result["score"]["points"] == 100


@pytest.mark.parametrize("mode", ["local", "official"])
@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_a_sound_archive_is_graded(
    kind: str, mode: str, lab01_solution: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Archives are a supported way to submit: a project in one top folder scores fully."""
    if mode == "official":
        request.getfixturevalue("official_available")
    archive = tmp_path / f"submission.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(lab01_solution.rglob("*")):
                if path.is_file():
                    zf.write(path, "myproject/" + path.relative_to(lab01_solution).as_posix())
    else:
        with tarfile.open(archive, "w:gz") as tf:
            tf.add(lab01_solution, arcname="myproject")
    result = _grade(mode, archive)
    assert result["status"] == "graded", result["message"]
    assert result["score"]["points"] == 100
    assert result["submission"]["path"] == str(archive)


def test_a_file_that_is_no_archive_is_a_usage_error(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my project is elsewhere")
    with pytest.raises(UsageError, match=r"is a file; give the folder .* or a \.zip or \.tar\.gz"):
        grade_submission(LAB01, notes, GradeOptions())
