"""The leak scan: does a built learners' edition give away anything it must not?

:func:`scan_edition` compares the edition with the instructors' repository it was built from and
reports each :class:`Leak`:

``excluded-path``
    a file that a manifest rule keeps out (``solutions/``, ``labs/*/hidden/``, mutants, ...).
``hidden-file`` / ``solution-file``
    a file whose bytes equal a hidden check file or a reference-solution file that no starter
    has (renamed or moved, it is still the same file).
``hidden-line`` / ``solution-line``
    secret code (below) in a text file: a secret line of at least ``LONG_LINE`` characters, or
    a *block* of at least ``BLOCK_LINES`` secret lines, each within ``BLOCK_GAP`` lines of the
    next in the edition and within ``BLOCK_SPAN`` lines of it in one secret file: pasted code.
``marker``
    lab marker text (the generator's directives, nbgrader's solution and hidden-test region
    markers) anywhere in a text file.
``notebook-answer``
    a notebook cell still marked as an answer whose source is not the stub.
``solution-include``
    a Markdown page still including a lab's generated solution (``--8<-- "lab01/..."``); the
    build replaces the Solution folds that hold them (``build.withhold_solutions``).

*Secret lines* are the code lines (not comments or imports, at least ``MIN_DISTINCTIVE``
characters) of the hidden checks and of the reference solution with every lab's answers in (its
solution regions and ``FILE LABnn SOLUTION`` files), minus what learners are *given*: every line
of every starter (a later lab's starter holds the earlier labs' answers by design), and every line
and code span of the lab handouts, which are written for learners on purpose.

Why blocks and long lines rather than any single line: Django idioms
(``created_at = models.DateTimeField(auto_now_add=True)``, and even pairs of them such as a
``def post(self, request: Request) -> Response:`` followed by ``.is_valid(raise_exception=True)``)
occur in any course page about models or views and would drown real findings. Pasted answers
come as blocks of three lines or more, or as one long specific line.

Course tooling (:data:`TOOLING`: the grader package, the project files) is the same in both
editions and shares ordinary lines with the solution, so it is not scanned for secret lines; it
is still checked for excluded paths, copied files and marker *lines* (its documentation may
describe the marker grammar in prose).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from grader.course.labgen.markers import comment_text
from grader.course.release.manifest import EXCLUDED, exclusion, matches, unreleased_rules
from grader.course.release.notebooks import CODE_STUB, MARKDOWN_STUB, holds_stub, is_answer_cell

# Lab markers (docs/authors/lab-markers.md) and nbgrader's region markers. The patterns use \s+
# so that this file itself holds no marker text.
MARKER_TEXT = re.compile(
    r"\b(?:BEGIN|STUB|END|FILE)\s+(?i:lab\d+|capstone)\b"
    r"|\b(?:BEGIN|END)\s+(?:SOLUTION|HIDDEN\s+TESTS|MARK\s+SCHEME)\b"
)
MIN_DISTINCTIVE = 20
LONG_LINE = 60
BLOCK_LINES = 3
BLOCK_GAP = 3
BLOCK_SPAN = 4
TOOLING = ("grader/**", "pyproject.toml", "noxfile.py", "noxw.py")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
# An include of a lab's generated solution: the path starts with a lab's name (lab01/, capstone/).
LAB_SOLUTION_INCLUDE = re.compile(
    r"^[ \t]*-{1,}8<-{1,}[ \t]+[\"']?(?:lab\d+|capstone)/", re.IGNORECASE
)
_SKIP_DIRS = frozenset({".git", "__pycache__", ".nox", ".venv", "node_modules", "site"})

Origin = tuple[str, str, int]  # (kind, file, line)


@dataclass(frozen=True)
class Leak:
    """One finding: ``path`` in the edition, ``line`` (1-based; 0 = the whole file)."""

    path: str
    line: int
    kind: str
    detail: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.kind}: {self.detail}"


def distinctive(line: str) -> str | None:
    """``line`` stripped, if it is code specific enough to identify where it came from.

    None for short lines, lines without a word, comments (prose, not code) and imports.
    """
    text = line.strip()
    if len(text) < MIN_DISTINCTIVE or not re.search(r"[A-Za-z]{3}", text):
        return None
    if text.startswith(("#", "//", "<!--")):
        return None
    if text.startswith(("import ", "from ")) and " import " in f" {text} ":
        return None
    return text


def handout_given(markdown: str) -> set[str]:
    """What a handout gives learners: each distinctive line and each code span's content."""
    given = {d for raw in markdown.splitlines() if (d := distinctive(raw))}
    given |= {d for span in _CODE_SPAN.findall(markdown) if (d := distinctive(span))}
    return given


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not _SKIP_DIRS.intersection(path.relative_to(root).parts):
            yield path


def _text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Secrets:
    """What the instructors' repository knows that no learner may see."""

    lines: dict[str, tuple[Origin, ...]]  # secret line -> where it occurs
    files: dict[str, tuple[str, str]]  # sha256 of a file -> (kind, its path)


def _reference_solution(root: Path) -> dict[str, bytes]:
    """The reference project with every lab's answers in: the last lab's solution tree."""
    source = root / "solutions"
    if not (source / "labs.toml").is_file():
        return {}
    from grader.course.labgen.config import load_config
    from grader.course.labgen.generate import build_tree

    config = load_config(source)
    tree = build_tree(source, config, config.labs[-1], "solution")
    return {f"solutions/{rel}": out.data for rel, out in tree.items()}


def collect_secrets(root: Path, labs: Collection[str] | None = None) -> Secrets:
    """Secret lines and files of the instructors' repository at ``root``.

    ``labs``: the labs an edition releases (None: all). Only their starters and handouts count
    as given, so an answer that only a later lab's starter holds (lab01's settings are in
    lab02's starter) is secret until that lab is released.
    """
    given: set[str] = set()
    given_files: set[str] = set()
    for starter in sorted((root / "labs").glob("*/starter")):
        if labs is not None and starter.parent.name not in labs:
            continue
        for path in _files(starter):
            data = path.read_bytes()
            given_files.add(_digest(data))
            given.update(d for raw in (_text(path) or "").splitlines() if (d := distinctive(raw)))
    for handout in sorted((root / "labs").glob("*/README.md")):
        if labs is None or handout.parent.name in labs:
            given |= handout_given(handout.read_text(encoding="utf-8"))
    if labs is None:
        # An edition of every lab hands out templates/ whole (settings, logging, the capstone's
        # copier template): what they hold is given, like a starter. A per-lab edition leaves
        # them out (build.py), so there they give nothing away and count for nothing.
        for path in _files(root / "templates"):
            given.update(d for raw in (_text(path) or "").splitlines() if (d := distinctive(raw)))
    sources: list[tuple[str, str, bytes]] = [
        ("hidden", path.relative_to(root).as_posix(), path.read_bytes())
        for hidden in sorted((root / "labs").glob("*/hidden"))
        for path in _files(hidden)
    ]
    sources += [("solution", rel, data) for rel, data in _reference_solution(root).items()]
    lines: dict[str, list[Origin]] = {}
    files: dict[str, tuple[str, str]] = {}
    for kind, rel, data in sources:
        if _digest(data) not in given_files and data.strip():
            files.setdefault(_digest(data), (kind, rel))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        for number, raw in enumerate(text.splitlines(), 1):
            line = distinctive(raw)
            if line and line not in given and not MARKER_TEXT.search(line):
                lines.setdefault(line, []).append((kind, rel, number))
    return Secrets({k: tuple(v) for k, v in lines.items()}, files)


def _near(a: tuple[Origin, ...], b: tuple[Origin, ...]) -> bool:
    return any(x[1] == y[1] and 0 < abs(x[2] - y[2]) <= BLOCK_SPAN for x in a for y in b)


def secret_code_leaks(rel: str, text: str, secrets: Secrets) -> list[Leak]:
    """Secret lines in one text file: long ones, and blocks of nearby ones (module doc)."""
    hits = [
        (number, line, secrets.lines[line])
        for number, raw in enumerate(text.splitlines(), 1)
        if (line := distinctive(raw)) and line in secrets.lines
    ]
    # Blocks: connected runs of hits, each near the previous one in the edition and in a source.
    block_of = list(range(len(hits)))
    for index in range(1, len(hits)):
        number, _, origins = hits[index]
        previous = hits[index - 1]
        if number - previous[0] <= BLOCK_GAP and _near(origins, previous[2]):
            block_of[index] = block_of[index - 1]
    sizes: dict[int, int] = {}
    for block in block_of:
        sizes[block] = sizes.get(block, 0) + 1
    leaks = []
    for index, (number, line, origins) in enumerate(hits):
        if sizes[block_of[index]] >= BLOCK_LINES or len(line) >= LONG_LINE:
            kind, source, source_line = origins[0]
            leaks.append(Leak(rel, number, f"{kind}-line", f"also in {source}:{source_line}"))
    return leaks


def _notebook_leaks(rel: str, data: bytes) -> list[Leak]:
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return [Leak(rel, 0, "notebook-answer", "not a readable notebook, so it was not checked")]
    stubs = ("".join(CODE_STUB), "".join(MARKDOWN_STUB))
    leaks = []
    for index, cell in enumerate(notebook.get("cells") or []):
        if not isinstance(cell, dict) or not is_answer_cell(cell):
            continue
        source = cell.get("source")
        text = "".join(source) if isinstance(source, list) else str(source or "")
        if text.strip() not in stubs and not holds_stub(text.splitlines()):
            leaks.append(Leak(rel, 0, "notebook-answer", f"cell {index} is an answer cell"))
    return leaks


def scan_edition(
    edition: Path, source_root: Path, labs: Collection[str] | None = None
) -> list[Leak]:
    """Every leak in the learners' edition at ``edition`` built from ``source_root``, releasing
    ``labs`` (None: every lab). Answers of a lab not released yet count as secret."""
    secrets = collect_secrets(source_root, labs)
    rules = EXCLUDED + (unreleased_rules(source_root, labs) if labs is not None else ())
    leaks: list[Leak] = []
    for path in _files(edition):
        rel = path.relative_to(edition).as_posix()
        rule = exclusion(rel, rules)
        if rule is not None:
            leaks.append(Leak(rel, 0, "excluded-path", f"{rule.pattern}: {rule.reason}"))
        data = path.read_bytes()
        known = secrets.files.get(_digest(data))
        if known is not None:
            leaks.append(Leak(rel, 0, f"{known[0]}-file", f"same bytes as {known[1]}"))
        if rel.endswith(".ipynb"):
            leaks += _notebook_leaks(rel, data)
        text = _text(path)
        if text is None:
            continue
        tooling = any(matches(pattern, rel) for pattern in TOOLING)
        if rel.endswith(".md"):
            leaks += [
                Leak(rel, number, "solution-include", f"includes a lab's answer: {raw.strip()}")
                for number, raw in enumerate(text.splitlines(), 1)
                if LAB_SOLUTION_INCLUDE.match(raw)
            ]
        for number, raw in enumerate(text.splitlines(), 1):
            checked = (comment_text(raw) or "") if tooling else raw
            match = MARKER_TEXT.search(checked)
            if match:
                leaks.append(Leak(rel, number, "marker", f"marker text {match.group(0)!r}"))
        if not tooling:
            leaks += secret_code_leaks(rel, text, secrets)
    return leaks
