"""templates/: the copier templates render into projects that work, and the samples stay true.

- The capstone template is rendered with copier's Python API for several sets of answers; each
  result must pass `manage.py check`, `makemigrations --check`, ruff (with the generated
  project's own configuration), and its own tests under coverage with the 90% gate, run in a
  subprocess with this interpreter. The PostgreSQL variant runs against the course's test server.
- The configuration samples (settings, logging, env file, container files) are the capstone
  rendered with its default answers: a test fails when they differ.
- The new-lab template renders into a temporary course whose rubric loads with the grader's own
  loader, whose checks exist, whose mutants load and whose marker examples parse.
- Container files are validated statically: this machine (and the course's CI) has no Docker
  engine, so the Dockerfile is parsed instruction by instruction and the compose file is checked
  as YAML structure. Where a `docker compose` client exists, its own `config` check runs too.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.course.docs_sync import render_text
from grader.course.labgen import markers
from grader.course.mutants import load_mutants
from grader.rubric import load_rubric
from tests.support import ROOT, postgres_url

copier = pytest.importorskip("copier", reason="copier is in the `authoring` extra")

TEMPLATES = ROOT / "templates"
CAPSTONE = TEMPLATES / "copier" / "capstone"
NEW_LAB = TEMPLATES / "copier" / "new-lab"

# The capstone rendered with its default answers is the source of these samples.
SAMPLES = {
    "settings/__init__.py": "config/settings/__init__.py",
    "settings/base.py": "config/settings/base.py",
    "settings/dev.py": "config/settings/dev.py",
    "settings/test.py": "config/settings/test.py",
    "settings/prod.py": "config/settings/prod.py",
    "logging/observability.py": "config/observability.py",
    "env.example": ".env.example",
    "docker/Dockerfile": "Dockerfile",
    "docker/compose.yaml": "compose.yaml",
}

VARIANTS: dict[str, dict[str, Any]] = {
    "defaults-postgres-celery": {},
    "sqlite-inline-two-word-resource": {
        "database": "sqlite",
        "background_tasks": False,
        "docker": False,
        "github_ci": False,
        "app_name": "library",
        "resource": "reading_list",
        "project_name": "My Reading-List API",
    },
    "sqlite-celery-docker": {
        "database": "sqlite",
        "resource": "bookmark",
        "app_name": "aardvark",  # sorts before `accounts`: the generated imports must still sort
        "python_version": "3.12",
        "github_ci": False,
    },
}


def render(template: Path, dest: Path, **answers: Any) -> Path:
    """Render ``template`` into ``dest`` non-interactively, the way the docs tell people to."""
    copier.run_copy(str(template), dest, data=answers, defaults=True, unsafe=True, quiet=True)
    return dest


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that would steer Django or the database."""
    drop = ("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_", "PYTEST_ADDOPTS", "COVERAGE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def run(project: Path, *args: str, env: dict[str, str], timeout: int = 300) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"`{' '.join(args)}` failed in {project}:\n{output[-6000:]}"
    return output


# ---------------------------------------------------------------------------------------------
# The capstone template


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The capstone rendered once per variant and module."""
    cache: dict[str, Path] = {}

    def get(variant: str) -> Path:
        if variant not in cache:
            dest = tmp_path_factory.mktemp(variant) / "project"
            cache[variant] = render(CAPSTONE, dest, **VARIANTS[variant])
        return cache[variant]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_capstone_project_checks_lints_and_passes_its_own_tests(
    rendered: Callable[[str], Path], variant: str
) -> None:
    project = rendered(variant)
    extra: dict[str, str] = {}
    if VARIANTS[variant].get("database", "postgres") == "postgres":
        server = postgres_url()
        if server is None:
            pytest.skip("no PostgreSQL server for the postgres variant")
        # A database name of its own: the test runner creates test_<name> and drops it after,
        # so parallel runs never share a test database.
        extra["DATABASE_URL"] = f"{server.rsplit('/', 1)[0]}/capstone_{uuid.uuid4().hex[:8]}"
    env = clean_env(**extra)
    run(project, "manage.py", "check", "--fail-level", "WARNING", env=env)
    run(project, "manage.py", "makemigrations", "--check", "--dry-run", env=env)
    run(project, "-m", "ruff", "check", "--no-cache", ".", env=env)
    run(project, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider", env=env)
    report = run(project, "-m", "coverage", "report", env=env)  # fails under the 90% gate
    assert "TOTAL" in report


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_capstone_files_follow_the_answers(rendered: Callable[[str], Path], variant: str) -> None:
    answers = {"background_tasks": True, "docker": True, "github_ci": True, "database": "postgres"}
    answers |= VARIANTS[variant]
    project = rendered(variant)
    app = answers.get("app_name", "blog")
    celery_files = [project / "config/celery.py", project / app / "tasks.py"]
    assert all(f.is_file() for f in celery_files) == answers["background_tasks"]
    assert any(f.is_file() for f in celery_files) == answers["background_tasks"]
    assert (project / "Dockerfile").is_file() == answers["docker"]
    assert (project / "compose.yaml").is_file() == answers["docker"]
    assert (project / ".dockerignore").is_file() == answers["docker"]
    assert (project / ".github/workflows/ci.yml").is_file() == answers["github_ci"]
    requirements = (project / "requirements.txt").read_text()
    assert ("psycopg" in requirements) == (answers["database"] == "postgres")
    assert ("celery" in requirements) == answers["background_tasks"]

    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    # An absolute source path, so that `copier update` works from inside the project.
    assert Path(recorded["_src_path"]).is_absolute()
    for key, value in VARIANTS[variant].items():
        assert recorded[key] == value
    # No template syntax survives rendering (in the files copier wrote, not in the caches and
    # coverage data the other tests leave behind).
    written = [p for p in project.rglob("*") if p.is_file() and not p.name.startswith(".coverage")]
    for path in written:
        if "__pycache__" in path.parts or ".ruff_cache" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        assert "{%" not in text, path
        assert "{{" not in text or path.name == "ci.yml", path  # ${{ github.sha }} is GitHub's


def test_capstone_refuses_answers_that_would_break_the_project(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="resource"):
        render(CAPSTONE, tmp_path / "a", resource="class")
    with pytest.raises(ValueError, match="app_name"):
        render(CAPSTONE, tmp_path / "b", app_name="accounts")
    with pytest.raises(ValueError, match="project_slug"):
        render(CAPSTONE, tmp_path / "c", project_slug="Not A Slug")


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_samples_are_the_capstone_with_default_answers(
    rendered: Callable[[str], Path], sample: str
) -> None:
    generated = rendered("defaults-postgres-celery") / SAMPLES[sample]
    assert (TEMPLATES / sample).read_text() == generated.read_text(), (
        f"templates/{sample} differs from {SAMPLES[sample]} in the capstone template rendered "
        "with its default answers; change the template, render it with --defaults and copy the "
        "file over (templates/copier/capstone/README.md)"
    )


def settings_variables(settings_dir: Path) -> set[str]:
    found: set[str] = set()
    for module in settings_dir.glob("*.py"):
        found |= set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", module.read_text()))
    return found


def documented_variables(env_file: Path) -> set[str]:
    """Names in an env file, set or shown commented out (``# NAME=value``)."""
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", env_file.read_text(), re.MULTILINE))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variable_the_settings_read_is_in_the_env_file(
    rendered: Callable[[str], Path], variant: str
) -> None:
    project = rendered(variant)
    used = settings_variables(project / "config/settings")
    assert "DATABASE_URL" in used
    missing = used - documented_variables(project / ".env.example")
    assert not missing, f".env.example does not mention {sorted(missing)}"
    assert settings_variables(TEMPLATES / "settings") <= documented_variables(
        TEMPLATES / "env.example"
    )


# ---------------------------------------------------------------------------------------------
# Container files, validated statically

DOCKERFILE_INSTRUCTIONS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}  # fmt: skip


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword, arguments.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def check_dockerfile(project: Path, *, has_context: bool = True) -> dict[str, Any]:
    """Parse ``project/Dockerfile`` and check it; ``has_context``: COPY sources must exist."""
    text = (project / "Dockerfile").read_text()
    assert text.startswith("# syntax=docker/dockerfile:1"), "parser directive first"
    instructions = dockerfile_instructions(text)
    keywords = [keyword for keyword, _ in instructions]
    unknown = set(keywords) - DOCKERFILE_INSTRUCTIONS
    assert not unknown, f"not Dockerfile instructions: {unknown}"
    assert all(k.isupper() for k in keywords)
    assert keywords[0] == "FROM"
    stages = [arguments.split() for keyword, arguments in instructions if keyword == "FROM"]
    assert len(stages) >= 2, "build in one stage, run from another (multi-stage)"
    for image, *_alias in stages:
        assert re.fullmatch(r"python:3\.\d+-slim", image), f"pin the base image's version: {image}"
    for keyword, arguments in instructions:
        if keyword == "COPY" and has_context and "--from=" not in arguments:
            *sources, _dest = [word for word in arguments.split() if not word.startswith("--")]
            for source in sources:
                assert source == "." or (project / source).exists(), f"COPY {source}: missing"
        if keyword in ("CMD", "ENTRYPOINT"):
            assert isinstance(json.loads(arguments), list), f"{keyword} in exec (JSON) form"
        if keyword == "HEALTHCHECK":
            command = arguments.split(" CMD ", 1)[1]
            probe = json.loads(command)
            assert "/api/health/live/" in " ".join(probe)
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users, "the Dockerfile sets no USER: the service would run as root"
    assert users[-1] not in ("root", "0"), "the service must not run as root"
    assert keywords.index("USER") < keywords.index("CMD")
    exposed = [arguments for keyword, arguments in instructions if keyword == "EXPOSE"]
    return {"exposed": exposed, "cmd": json.loads(dict(instructions)["CMD"])}


def check_compose(project: Path, answers: dict[str, Any]) -> None:
    compose = yaml.safe_load((project / "compose.yaml").read_text())  # merges `<<: *app`
    services: dict[str, Any] = compose["services"]
    expected = {"migrate", "web"}
    expected |= {"db"} if answers["database"] == "postgres" else set()
    expected |= {"worker", "redis"} if answers["background_tasks"] else set()
    assert set(services) == expected
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        assert "build" in service or "image" in service, name
        image = service.get("image", "")
        assert not image or re.fullmatch(r"[a-z0-9.-]+:[0-9][\w.-]*", image), f"pin {image}"
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert condition["condition"] in (
                "service_started", "service_healthy", "service_completed_successfully",
            )  # fmt: skip
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in declared_volumes, f"undeclared volume {volume}"
    web = services["web"]
    assert web["ports"] == ["8000:8000"]
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"][:3] == ["python", "manage.py", "migrate"]
    environment = web["environment"]
    assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
    assert environment["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?"), "required"
    database = environment["DATABASE_URL"]
    if answers["database"] == "postgres":
        assert "@db:5432/" in database
    else:
        assert database.startswith("sqlite:////data/")
    if answers["background_tasks"]:
        assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
        assert services["worker"]["command"][:3] == ["celery", "-A", "config"]


@pytest.mark.parametrize("variant", [v for v in VARIANTS if VARIANTS[v].get("docker", True)])
def test_container_files_are_well_formed(rendered: Callable[[str], Path], variant: str) -> None:
    answers = {"database": "postgres", "background_tasks": True} | VARIANTS[variant]
    project = rendered(variant)
    dockerfile = check_dockerfile(project)
    assert dockerfile["exposed"] == ["8000"]
    assert dockerfile["cmd"][:2] == ["gunicorn", "config.wsgi:application"]
    check_compose(project, answers)
    ignored = (project / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored
    assert ".git" in ignored
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        done = subprocess.run(
            [docker, "compose", "config", "--quiet"],
            cwd=project,
            env={**os.environ, "DJANGO_SECRET_KEY": "x"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr


def test_the_container_samples_are_well_formed() -> None:
    # The sample sits alone in templates/docker/, without the project it builds.
    check_dockerfile(TEMPLATES / "docker", has_context=False)
    check_compose(TEMPLATES / "docker", {"database": "postgres", "background_tasks": True})


# ---------------------------------------------------------------------------------------------
# CI workflows, validated statically


def workflow(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as the boolean true.
    data["on"] = data.pop(True, data.get("on"))
    return data


def run_steps(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_the_learner_ci_workflow_tests_and_grades_the_lab() -> None:
    flow = workflow(TEMPLATES / "github/workflows/ci.yml")
    assert {"push", "pull_request", "workflow_dispatch"} <= set(flow["on"])
    default_lab = flow["on"]["workflow_dispatch"]["inputs"]["lab"]["default"]
    assert (ROOT / "labs" / default_lab / "rubric.toml").is_file()
    assert f"|| '{default_lab}'" in flow["env"]["LAB"]
    (job,) = flow["jobs"].values()
    assert job["services"]["postgres"]["image"].startswith("postgres:")
    assert job["services"]["redis"]["image"].startswith("redis:7")
    assert job["env"]["DATABASE_URL"].startswith("postgres://")
    uses = [step.get("uses", "") for step in job["steps"]]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    test_step = next(s for s in job["steps"] if "pytest" in s.get("run", ""))
    assert test_step["working-directory"] == "labs/${{ env.LAB }}/starter"
    grade = [r for r in run_steps(job) if "nox -s grade" in r]
    assert grade
    assert "$LAB" in grade[0]
    install = next(r for r in run_steps(job) if "pip install" in r)
    assert ".[lab]" in install
    assert "nox" in install


@pytest.mark.parametrize("variant", [v for v in VARIANTS if VARIANTS[v].get("github_ci", True)])
def test_the_capstone_ci_workflow_matches_the_answers(
    rendered: Callable[[str], Path], variant: str
) -> None:
    answers = {"database": "postgres", "background_tasks": True, "docker": True}
    answers |= VARIANTS[variant]
    flow = workflow(rendered(variant) / ".github/workflows/ci.yml")
    job = flow["jobs"]["test"]
    services = set(job.get("services", {}))
    assert ("postgres" in services) == (answers["database"] == "postgres")
    assert ("redis" in services) == answers["background_tasks"]
    commands = "\n".join(run_steps(job))
    for needed in ("ruff check", "makemigrations --check", "check --deploy", "coverage report"):
        assert needed in commands
    # The deployment check needs a database URL whichever database was chosen.
    assert "DATABASE_URL" in job["env"] or "DATABASE_URL=" in job["env"]["DEPLOY_CHECK_ENV"]
    assert ("image" in flow["jobs"]) == answers["docker"]


# ---------------------------------------------------------------------------------------------
# The new-lab template


def slug(heading: str) -> str:
    """The anchor Python-Markdown's toc extension gives a heading (its default slugify)."""
    text = re.sub(r"[^\w\s-]", "", heading.lower()).strip()
    return re.sub(r"[-\s]+", "-", text)


@pytest.fixture(scope="module")
def new_lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary course root with one lab scaffolded by the template."""
    course = tmp_path_factory.mktemp("course")
    render(
        NEW_LAB,
        course,
        lab="lab03",
        title='Querysets: Q, F and "N+1"',
        outcome=2,
        topic="post_search",
        endpoint="/api/v1/posts/",
    )
    return course / "labs" / "lab03"


def test_new_lab_rubric_loads_and_names_existing_checks(new_lab: Path) -> None:
    rubric = load_rubric(new_lab / "rubric.toml")
    assert rubric.lab == "lab03"
    assert rubric.title == 'Querysets: Q, F and "N+1"'
    assert rubric.max_points == 100
    assert {c.outcome for c in rubric.criteria} == {2}
    defined: dict[str, set[str]] = {}
    for module in rubric.hidden_dir.glob("test_*.py"):
        tree = ast.parse(module.read_text())
        defined[module.name] = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    for check in rubric.check_ids:
        file, _, test = check.partition("::")
        assert test in defined.get(file, set()), f"{check} is not defined in hidden/"
    anchors = {
        slug(line.lstrip("#").strip())
        for line in (new_lab / "README.md").read_text().splitlines()
        if line.startswith("## ")
    }
    for criterion in rubric.criteria:
        assert criterion.see is not None
        assert criterion.see.partition("#")[2] in anchors, criterion.see


def test_new_lab_mutants_load_against_the_rubric(new_lab: Path) -> None:
    rubric = load_rubric(new_lab / "rubric.toml")
    mutants = load_mutants(new_lab / "hidden/mutants.toml", {c.id for c in rubric.criteria})
    assert mutants
    assert all(m.edits and m.loses for m in mutants)


def test_new_lab_handout_gets_its_rubric_table(new_lab: Path) -> None:
    course = new_lab.parent.parent
    handout = new_lab / "README.md"
    filled = render_text(handout.read_text(), handout, course)
    rubric = load_rubric(new_lab / "rubric.toml")
    for criterion in rubric.criteria:
        assert f"| {criterion.title} | {criterion.points} | 2 · Relational data |" in filled
    assert "See [this step](#step-1-build-it)." in filled
    assert "| **Total** | **100** | | |" in filled
    assert "begins where lab02 left off" in " ".join(filled.split())


def test_new_lab_marker_examples_parse_with_the_lab_generator(new_lab: Path) -> None:
    notes = (new_lab / "hidden/AUTHORING.md").read_text()
    blocks = re.findall(r"```(python|html)\n(.*?)```", notes, re.DOTALL)
    assert len(blocks) >= 4
    labs = ["lab01", "lab02", "lab03", "lab04"]
    for number, (language, code) in enumerate(blocks):
        marked = markers.parse(code, f"example{number}.{language}")
        starter = markers.render(marked, "lab03", "starter", labs)
        solution = markers.render(marked, "lab03", "solution", labs)
        later = markers.render(marked, "lab04", "starter", labs)
        assert solution is not None
        assert later is not None
        assert "LAB03" not in solution + later  # marker lines never reach a generated file
        if marked.directive is not None and marked.directive.solution:
            assert starter is None  # the learner writes this file in lab03
        else:
            assert starter is not None
    first = markers.render(markers.parse(blocks[0][1], "views.py"), "lab03", "starter", labs)
    assert first is not None
    assert "# TODO(lab03)" in first
    assert "is_valid" not in first
    compile(first, "views.py", "exec")


def test_new_lab_refuses_a_malformed_lab_id(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lab"):
        render(NEW_LAB, tmp_path, lab="lab3", title="x")
