"""``solutions/labs.toml``: the course's lab order, the paths never copied, the ``[files]`` table,
and the ``[generated]`` table of files a command writes into each generated tree.

The file is validated strictly (unknown keys, unknown labs in ``[files]``, ``[files]`` entries
naming files that do not exist) because a silently ignored typo would leak solution code into a
starter or drop a file from one.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from grader.course.labgen.markers import LAB_NAME, FileDirective

CONFIG_NAME = "labs.toml"
_KEYS = frozenset({"labs", "exclude", "keep", "files", "generated"})
_GENERATED_KEYS = frozenset({"lab", "command", "env"})


class ConfigError(ValueError):
    """labs.toml is missing or malformed; the message names the file."""


@dataclass(frozen=True)
class GeneratedFile:
    """A file the generator writes by running ``command`` in a generated tree (its stdout).

    ``directive`` says in which trees it exists, as a ``[files]`` entry does; ``command`` is run
    with the interpreter that runs the generator, in the tree, with ``env`` added to a minimal
    environment. The source folder's own copy (the newest lab's) is checked the same way.
    """

    path: str
    directive: FileDirective
    command: tuple[str, ...]
    env: Mapping[str, str]


@dataclass(frozen=True)
class LabConfig:
    """The parsed labs.toml.

    ``labs`` is the teaching order (lower case), ``exclude`` the glob patterns of paths relative
    to the source folder that are never copied, ``files`` maps a relative POSIX path to the
    directive its ``[files]`` entry stands for. ``keep`` holds glob patterns of paths, relative
    to a starter, that another tool writes into it (nbgrader's release of a lab's notebook):
    rewriting a starter carries them over instead of deleting them. A kept pattern must also be
    excluded, so the generator never writes such a path itself.
    """

    labs: tuple[str, ...]
    exclude: tuple[str, ...]
    files: Mapping[str, FileDirective]
    keep: tuple[str, ...] = ()
    generated: tuple[GeneratedFile, ...] = ()

    def is_kept(self, relative: str) -> bool:
        """Whether a POSIX path relative to a starter matches a ``keep`` pattern."""
        return any(_glob_regex(pattern).fullmatch(relative) for pattern in self.keep)

    def is_excluded(self, relative: str) -> bool:
        """Whether a POSIX path relative to the source folder matches an exclude pattern.

        A path is also excluded when one of its parent folders matches, so ``htmlcov`` and
        ``htmlcov/**`` both keep the whole folder out.
        """
        parts = relative.split("/")
        candidates = ["/".join(parts[: end + 1]) for end in range(len(parts))]
        return any(
            _glob_regex(pattern).fullmatch(candidate)
            for pattern in self.exclude
            for candidate in candidates
        )


def load_config(source: Path) -> LabConfig:
    """Read and validate ``source/labs.toml``; raises ConfigError (a ValueError) if it is bad."""
    path = source / CONFIG_NAME
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None

    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}")
    labs = _string_list(data.get("labs"), "labs", path)
    if not labs:
        raise ConfigError(f"{path}: 'labs' must list at least one lab")
    labs = [lab.lower() for lab in labs]
    for lab in labs:
        if not LAB_NAME.fullmatch(lab):
            raise ConfigError(f"{path}: {lab!r} is not a lab name (labNN or capstone)")
    if len(set(labs)) != len(labs):
        raise ConfigError(f"{path}: 'labs' lists a lab twice")
    exclude = _string_list(data.get("exclude", []), "exclude", path)
    files = _files_table(data.get("files", {}), labs, source, path)
    keep = _string_list(data.get("keep", []), "keep", path)
    generated = _generated_table(data.get("generated", {}), labs, path)
    config = LabConfig(tuple(labs), tuple(exclude), files, tuple(keep), generated)
    for entry in generated:
        if not config.is_excluded(entry.path):
            raise ConfigError(
                f"{path}: [generated] {entry.path!r} is not excluded too; the generator would "
                "copy the source folder's copy instead of writing each lab's own"
            )
    for pattern in keep:
        if not config.is_excluded(pattern):
            raise ConfigError(
                f"{path}: keep pattern {pattern!r} is not excluded too; the generator would write "
                "such files itself and then carry old copies over them"
            )
    return config


def _string_list(value: object, key: str, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{path}: {key!r} must be a list of strings")
    return [str(item) for item in value]


def _files_table(
    table: object, labs: list[str], source: Path, path: Path
) -> dict[str, FileDirective]:
    """``{"relative/path": "labNN" | "labNN solution"}`` -> directives, checked against the tree."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [files] must be a table")
    files: dict[str, FileDirective] = {}
    for relative, value in table.items():
        words = value.lower().split() if isinstance(value, str) else []
        if len(words) not in (1, 2) or (len(words) == 2 and words[1] != "solution"):
            raise ConfigError(f'{path}: [files] {relative!r} must be "labNN" or "labNN solution"')
        if words[0] not in labs:
            raise ConfigError(
                f"{path}: [files] {relative!r} names unknown lab {words[0]!r} "
                f"(known labs: {', '.join(labs)})"
            )
        if not (source / relative).is_file():
            raise ConfigError(f"{path}: [files] {relative!r} is not a file under {source}")
        files[relative] = FileDirective(words[0], len(words) == 2)
    return files


def _generated_table(table: object, labs: list[str], path: Path) -> tuple[GeneratedFile, ...]:
    """``{"file" = {lab = "labNN [solution]", command = [...], env = {...}}}``, checked."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [generated] must be a table")
    found: list[GeneratedFile] = []
    for relative, entry in table.items():
        where = f"{path}: [generated] {relative!r}"
        if not isinstance(entry, dict) or set(entry) - _GENERATED_KEYS or "command" not in entry:
            raise ConfigError(f"{where} must be a table of lab, command and env")
        words = str(entry.get("lab", "")).lower().split()
        if len(words) not in (1, 2) or (len(words) == 2 and words[1] != "solution"):
            raise ConfigError(f'{where}: lab must be "labNN" or "labNN solution"')
        if words[0] not in labs:
            raise ConfigError(f"{where} names unknown lab {words[0]!r}")
        command = _string_list(entry["command"], "command", path)
        env = entry.get("env", {})
        if not command or not isinstance(env, dict):
            raise ConfigError(f"{where}: command must be a non-empty list, env a table")
        found.append(
            GeneratedFile(
                relative,
                FileDirective(words[0], len(words) == 2),
                tuple(command),
                {str(k): str(v) for k, v in env.items()},
            )
        )
    return tuple(found)


@cache
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob over POSIX paths: ``*`` and ``?`` stay within one folder, ``**`` crosses folders.

    ``**/`` may match nothing, so ``**/*.pyc`` also matches ``x.pyc`` at the top.
    """
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        else:
            char = pattern[index]
            out.append("[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char))
            index += 1
    return re.compile("".join(out))
