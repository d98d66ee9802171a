"""Build the learners' edition: ``python -m grader release DEST`` (``nox -s release``).

Contract of :func:`build_edition`:

1. The files are those git tracks (``git ls-files``) as they are in the work tree; a tracked file
   deleted in the work tree is skipped. Untracked files are published only when asked
   (``include_untracked``, for trying a release before committing).
2. Paths matched by :data:`grader.course.release.manifest.EXCLUDED` are left out.
3. ``.ipynb`` files are stripped of answers (:mod:`grader.course.release.notebooks`).
4. Each lab with a rubric gets ``labs/<lab>/public/``: a copy of its starter's ``tests/`` that the
   self-check runs (:mod:`grader.executors.selfcheck`), so a learner's edits to their workspace
   tests cannot change what the self-check checks.
5. ``mkdocs.yml``'s navigation loses the entries whose pages were left out, Markdown links to
   files left out become plain text, and snippet includes (``--8<--``) of files left out are
   replaced by the lines they show (so the learners' site builds strictly and shows the same).
   A folded ``??? success "Solution"`` that includes a lab's generated solution (``--8<--
   "lab01/api/health.py"``, see ``docs/hooks/course_files.py``) keeps its title but its body
   becomes :data:`WITHHELD`: those are the lab answers, and the edition has no ``solutions/``.
6. ``EDITION.json`` records the edition, the source commit and the labs released; ``README.md`` is
   the edition's own (``edition-README.md``), whose two commands work there: ``grade`` runs the
   public checks, ``tests`` checks the edition (:mod:`grader.course.release.check`).
7. The leak scan (:mod:`grader.course.release.scan`) runs on the result; any leak raises
   :class:`ReleaseError` listing them (the folder is left for inspection).

``DEST`` must be absent or an empty folder: a release never merges into an old one. With
``update=True`` it may instead be an edition built before (it has ``EDITION.json``): everything
in it but ``.git`` is replaced, so the next lab is added to an edition's repository by building
it again with one more lab (``release --labs lab01..lab04 --update DEST``) and committing.

Per-lab releases (``labs``, like nbgrader releasing one assignment at a time): only the labs
named are published. The others' folders and day pages are left out
(:func:`grader.course.release.manifest.unreleased_rules`), and so are files that answer a lab
whose answers no released starter holds yet (``RELEASED_WITH``: ``templates/settings/`` holds
the settings at the end of the track, lab01's answer included, and is published only with every
lab). The leak scan counts only the released labs'
starters and handouts as given, so "no answer of a lab not yet released" is checked, not
assumed. ``EDITION.json`` lists the labs released.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import string
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.course.release.manifest import EXCLUDED, exclusion, lab_ids, unreleased_rules
from grader.course.release.notebooks import strip_notebook
from grader.course.release.scan import LAB_SOLUTION_INCLUDE, Leak, scan_edition
from grader.errors import GraderError, UsageError
from grader.executors.selfcheck import PUBLIC_DIR, TESTS_DIR

EDITION_FILE = "EDITION.json"
WITHHELD = "The worked solution is in the instructors' edition."
LATER = "(This file is published with a later lab of the course.)"


class ReleaseError(GraderError):
    """The edition could not be built, or it leaks; the message lists what is wrong."""


@dataclass(frozen=True)
class Edition:
    """What a build wrote: relative paths published, left out, stripped, and the public tests."""

    dest: Path
    files: tuple[str, ...]
    excluded: tuple[str, ...]
    notebooks: tuple[str, ...]
    public_labs: tuple[str, ...]
    leaks: tuple[Leak, ...]


def tracked_files(root: Path, *, include_untracked: bool = False) -> list[str]:
    """``git ls-files`` of ``root``: tracked paths, POSIX, sorted. UsageError if not a git repo.

    ``include_untracked`` adds the files git would offer to add (not ignored): for trying a
    release before committing. A real release uses what is committed.
    """
    extra = ["--others", "--exclude-standard"] if include_untracked else []
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", *extra],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise UsageError(
            f"{root} is not a git checkout (git ls-files failed: {exc}); the learners' edition is "
            "built from the files git tracks."
        ) from None
    return sorted({p for p in out.decode("utf-8").split("\0") if p})


def _source_commit(root: Path) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or None


_NAV_ITEM = re.compile(r"^(?P<indent>\s*)-\s+(?:(?P<title>[^:]+):\s*)?(?P<value>.*?)\s*$")


def prune_nav(text: str, missing: Callable[[str], bool]) -> str:
    """``mkdocs.yml`` text without the nav entries whose page ``missing(path)`` says is gone.

    A section left with no entries is removed too. Line-based on purpose: the file's comments and
    layout stay exactly as the authors wrote them (a YAML round trip would drop the comments).
    """
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == "nav:"), None)
    if start is None:
        return text
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][:1] in (" ", "\t", "#")):
        end += 1
    block = lines[start + 1 : end]
    kept = [
        line
        for line in block
        if not (
            (m := _NAV_ITEM.match(line))
            and m.group("value").endswith(".md")
            and missing(m.group("value"))
        )
    ]
    changed = True
    while changed:  # drop sections whose every entry went
        changed = False
        for i, line in enumerate(kept):
            m = _NAV_ITEM.match(line)
            if not m or m.group("value") or m.group("title") is None:
                continue
            depth = len(m.group("indent"))
            following = [other for other in kept[i + 1 :] if other.strip()]
            child = following[0] if following else ""
            if len(child) - len(child.lstrip()) <= depth:
                del kept[i]
                changed = True
                break
    return "".join(lines[: start + 1] + kept + lines[end:])


_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<target>[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def unlink_excluded(markdown: str, page: str, excluded: set[str]) -> str:
    """``markdown`` (the page at repository path ``page``) with each relative link to an
    ``excluded`` path reduced to its text, so the learners' pages have no dead links."""
    base = posixpath.dirname(page)
    out: list[str] = []
    fenced = False
    for line in markdown.splitlines(keepends=True):
        if _FENCE.match(line):
            fenced = not fenced
        if not fenced:

            def plain(m: re.Match[str]) -> str:
                target = posixpath.normpath(posixpath.join(base, m.group("target")))
                return m.group("text") if target in excluded else m.group(0)

            line = _LINK.sub(plain, line)
        out.append(line)
    return "".join(out)


_SNIPPET = re.compile(r"^(?P<indent>[ \t]*)--8<--[ \t]+(?P<q>[\"'])(?P<spec>[^\"']+)(?P=q)[ \t]*$")
_RANGE = re.compile(r"^(?P<start>\d*):?(?P<end>\d*)$")


def _snippet_lines(text: str, ranges: str) -> list[str] | None:
    """The lines ``ranges`` (pymdownx.snippets' ``a:b,c:d``, 1-based, ends inclusive, ``a:`` to
    the end) select from ``text``; None when ``ranges`` is not that syntax (a section name)."""
    lines = text.splitlines()
    if not ranges:
        return lines
    chosen: list[str] = []
    for part in ranges.split(","):
        m = _RANGE.match(part.strip())
        if m is None or not (m.group("start") or m.group("end")):
            return None
        start = int(m.group("start") or 1)
        end = int(m.group("end") or len(lines))
        chosen += lines[start - 1 : end]
    return chosen


def inline_snippets(
    markdown: str, root: Path, excluded: set[str], later: frozenset[str] = frozenset()
) -> str:
    """Replace each ``--8<-- "path[:ranges]"`` include whose file is ``excluded`` from the edition
    by the lines it shows, indented like the include line (as pymdownx.snippets would render).

    The learners' site then shows exactly what the instructors' site shows, from files the
    edition does not have; and the leak scan sees that text like any other. A file in ``later``
    (left out until a later lab is released) is not shown: its include becomes :data:`LATER`.
    """
    out: list[str] = []
    for line in markdown.splitlines(keepends=True):
        m = _SNIPPET.match(line.rstrip("\n"))
        if m is not None:
            path, _, ranges = m.group("spec").partition(":")
            if path in later:
                out.append(f"{m.group('indent')}{LATER}\n")
                continue
            if path in excluded and (root / path).is_file():
                chosen = _snippet_lines((root / path).read_text(encoding="utf-8"), ranges)
                if chosen is not None:
                    indent = m.group("indent")
                    out += [f"{indent}{text}\n" if text else "\n" for text in chosen]
                    continue
        out.append(line)
    return "".join(out)


_SOLUTION_FOLD = re.compile(r'^(?P<indent>[ \t]*)\?\?\?\+?[ \t]+success[ \t]+"Solution')


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def withhold_solutions(markdown: str) -> str:
    """``markdown`` with the body of each Solution fold that includes a lab's generated solution
    replaced by :data:`WITHHELD` (the fold's title stays, so the page keeps its shape)."""
    lines = markdown.splitlines(keepends=True)
    out: list[str] = []
    index = 0
    while index < len(lines):
        fold = _SOLUTION_FOLD.match(lines[index])
        if fold is None:
            out.append(lines[index])
            index += 1
            continue
        depth = _depth(lines[index])
        end = index + 1  # the fold is every following line that is blank or indented deeper
        while end < len(lines) and (not lines[end].strip() or _depth(lines[end]) > depth):
            end += 1
        body_end = end  # blank lines after the body belong to the text that follows
        while body_end > index + 1 and not lines[body_end - 1].strip():
            body_end -= 1
        if any(LAB_SOLUTION_INCLUDE.match(line) for line in lines[index + 1 : body_end]):
            out += [lines[index], "\n", f"{fold['indent']}    {WITHHELD}\n"]
            out += lines[body_end:end]
        else:
            out += lines[index:end]
        index = end
    return "".join(out)


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def parse_labs(spec: str, known: Sequence[str]) -> tuple[str, ...]:
    """``lab01..lab03``, ``lab01,lab02`` or ``lab02`` (numbers work too: ``1..3``) as lab ids in
    teaching order; UsageError naming the labs there are for anything else."""

    def one(word: str) -> str:
        word = word.strip()
        lab = f"lab{int(word):02d}" if word.isdigit() else word
        if lab not in known:
            raise UsageError(f"No lab {word!r} to release; the labs are {', '.join(known)}.")
        return lab

    chosen: set[str] = set()
    for part in spec.split(","):
        first, dots, last = part.partition("..")
        if dots:
            start, end = known.index(one(first)), known.index(one(last))
            if start > end:
                raise UsageError(f"{part!r}: the first lab comes after the last.")
            chosen.update(known[start : end + 1])
        else:
            chosen.add(one(first))
    return tuple(lab for lab in known if lab in chosen)


def _prepare_dest(dest: Path, root: Path, update: bool) -> None:
    if dest == root.resolve() or dest in root.resolve().parents:
        raise UsageError(f"{dest} holds the repository itself; give a new folder.")
    if not dest.exists() or (dest.is_dir() and not any(dest.iterdir())):
        return
    if not update:
        raise UsageError(
            f"{dest} must be an empty folder or not exist (to add labs to the edition built "
            "there, give --update)."
        )
    if not is_learners_edition(dest):
        raise UsageError(f"{dest} is not a learners' edition ({EDITION_FILE} is missing).")
    for child in dest.iterdir():  # everything the last build wrote; the edition's git stays
        if child.name == ".git":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


README_TEMPLATE = Path(__file__).with_name("edition-README.md")


def _write_readme(dest: Path, labs: Sequence[str]) -> None:
    """The edition's own README (the instructors' one describes solutions/ and course tests
    this copy does not have): its quick start grades the first released lab."""
    text = string.Template(README_TEMPLATE.read_text(encoding="utf-8")).substitute(
        labs=", ".join(labs) or "none yet", first=labs[0] if labs else "lab01"
    )
    (dest / "README.md").write_text(text, encoding="utf-8")


def build_edition(
    root: Path,
    dest: Path,
    *,
    scan: bool = True,
    include_untracked: bool = False,
    labs: Sequence[str] | None = None,
    update: bool = False,
) -> Edition:
    """Build the learners' edition of the repository at ``root`` into ``dest`` (see module doc),
    releasing ``labs`` (None: every lab)."""
    dest = dest.resolve()
    _prepare_dest(dest, root, update)
    rules = EXCLUDED + (unreleased_rules(root, labs) if labs is not None else ())
    tracked = tracked_files(root, include_untracked=include_untracked)
    files: list[str] = []
    excluded: list[str] = []
    notebooks: list[str] = []
    dest.mkdir(parents=True, exist_ok=True)
    later: set[str] = set()  # left out until a later lab is released
    for rel in tracked:
        src = root / rel
        if exclusion(rel, rules) is not None:
            excluded.append(rel)
            if exclusion(rel, EXCLUDED) is None:
                later.add(rel)
            continue
        if not src.is_file() or src.is_symlink():
            continue  # deleted in the work tree, or a symlink that could point anywhere
        target = dest / rel
        if rel.endswith(".ipynb"):
            try:
                stripped = strip_notebook(src.read_bytes())
            except ValueError as exc:
                raise ReleaseError(f"{rel}: cannot strip answers from it: {exc}") from None
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(stripped)
            shutil.copymode(src, target)
            notebooks.append(rel)
        else:
            _copy(src, target)
        files.append(rel)
    public_labs: list[str] = []
    tracked_set = set(files)
    for rubric in sorted(dest.glob("labs/*/rubric.toml")):
        lab = rubric.parent.name
        prefix = f"labs/{lab}/starter/{TESTS_DIR}/"
        tests = [rel for rel in files if rel.startswith(prefix)]
        for rel in tests:
            public = f"labs/{lab}/{PUBLIC_DIR}/{rel[len(prefix) :]}"
            _copy(dest / rel, dest / public)
            tracked_set.add(public)
        if tests:
            public_labs.append(lab)
    gone_paths = set(excluded)
    for rel in files:
        if rel.endswith(".md"):
            page = dest / rel
            text = page.read_text(encoding="utf-8")
            shown = inline_snippets(withhold_solutions(text), root, gone_paths, frozenset(later))
            unlinked = unlink_excluded(shown, rel, gone_paths)
            if unlinked != text:
                page.write_text(unlinked, encoding="utf-8")
    mkdocs = dest / "mkdocs.yml"
    if mkdocs.is_file():
        docs_dir = "docs"

        def gone(page: str) -> bool:
            was = (root / docs_dir / page).exists() or (root / page).exists()
            now = (dest / docs_dir / page).exists() or (dest / page).exists()
            return was and not now

        mkdocs.write_text(prune_nav(mkdocs.read_text(encoding="utf-8"), gone), encoding="utf-8")
    released = list(labs) if labs is not None else lab_ids(root)
    _write_readme(dest, released)
    tracked_set.add("README.md")
    info = {"edition": "learners", "source_commit": _source_commit(root), "labs": released}
    (dest / EDITION_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    leaks = tuple(scan_edition(dest, root, labs)) if scan else ()
    edition = Edition(
        dest=dest,
        files=tuple(sorted(tracked_set)),
        excluded=tuple(excluded),
        notebooks=tuple(notebooks),
        public_labs=tuple(public_labs),
        leaks=leaks,
    )
    if leaks:
        shown = "\n".join(f"  {leak}" for leak in leaks[:40])
        more = f"\n  … and {len(leaks) - 40} more" if len(leaks) > 40 else ""
        raise ReleaseError(
            f"The learners' edition in {dest} leaks {len(leaks)} thing(s); it was left there for "
            f"inspection and must not be published:\n{shown}{more}"
        )
    return edition


def is_learners_edition(root: Path) -> bool:
    """Whether ``root`` is a built learners' edition (it has the edition file)."""
    return (root / EDITION_FILE).is_file()
