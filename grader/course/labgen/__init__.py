"""The lab generator: every lab's starter and solution, derived from the one reference project.

``solutions/`` is a runnable Django project whose comments mark which lab each piece of code
belongs to (grammar: ``docs/authors/lab-markers.md``); ``solutions/labs.toml`` lists the labs in
teaching order. The contract:

- :func:`generate_lab` writes one lab's ``"starter"`` or ``"solution"`` tree into an empty folder:
  earlier labs' code in full, this lab's code as stubs (starter) or in full (solution), later
  labs' code absent. Binary files are copied unchanged, file modes are kept.
- :func:`check_starters` lists how the committed ``labs/<lab>/starter/`` folders differ from what
  the generator would write now (empty list: all fresh); :func:`write_starters` rewrites them.
- Malformed markers raise :class:`MarkerError`, whose ``str`` is ``path:line: message``; a bad
  labs.toml raises :class:`ConfigError`; an unknown lab raises ``ValueError``.

Command line: ``python -m grader.course.labgen starters [--check] [LAB ...]`` and
``python -m grader.course.labgen solution LAB DEST``.
"""

from __future__ import annotations

from grader.course.labgen.config import ConfigError, LabConfig, load_config
from grader.course.labgen.generate import generate_lab
from grader.course.labgen.markers import Kind, MarkerError
from grader.course.labgen.starters import check_starters, write_starters

__all__ = [
    "ConfigError",
    "Kind",
    "LabConfig",
    "MarkerError",
    "check_starters",
    "generate_lab",
    "load_config",
    "write_starters",
]
