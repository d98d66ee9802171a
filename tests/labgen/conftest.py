"""Shared fixtures: small reference projects built in ``tmp_path``, never the real solutions/."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

LABS = ("lab01", "lab02", "lab03", "capstone")
EXCLUDE = ("**/__pycache__/**", "**/*.pyc", "db.sqlite3", "staticfiles/**", ".env")

MakeSource = Callable[..., Path]


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    """Create ``files`` (relative path -> text or bytes) under ``root``."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")


def labs_toml(files_table: Mapping[str, str] | None = None, labs: tuple[str, ...] = LABS) -> str:
    """A labs.toml for ``labs`` with the test exclude patterns and the given ``[files]``."""
    lines = [
        "labs = [" + ", ".join(f'"{lab}"' for lab in labs) + "]",
        "exclude = [" + ", ".join(f'"{pattern}"' for pattern in EXCLUDE) + "]",
        "[files]",
    ]
    lines += [f'"{path}" = "{value}"' for path, value in (files_table or {}).items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def make_source(tmp_path: Path) -> MakeSource:
    """Build ``tmp_path/solutions`` from a dict of files plus an optional ``[files]`` table."""

    def make(
        files: Mapping[str, str | bytes], files_table: Mapping[str, str] | None = None
    ) -> Path:
        source = tmp_path / "solutions"
        source.mkdir()
        write_files(source, files)
        (source / "labs.toml").write_text(labs_toml(files_table), encoding="utf-8")
        return source

    return make
