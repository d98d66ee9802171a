"""MkDocs hook: publish the course's top-level pages and lab handouts from where they live.

``curriculum.md``, ``resources.md``, ``assessments.md`` and every ``labs/<lab>/README.md`` sit
outside ``docs/`` because learners read them in the repository too. Copying them into ``docs/``
would give two sources that drift, so this hook adds the originals to the site instead:

- ``curriculum.md`` becomes the page ``curriculum/`` (likewise resources, assessments);
- ``labs/lab01/README.md`` becomes ``labs/lab01/`` (MkDocs treats README.md as a folder's index).

The pages keep their repository paths as their site paths, so a link between two of them (or to
a lab handout from ``assessments.md``) is the same on the site and in the repository. A link from
one of them to a file the site does not have (``starter/config/settings/base.py``,
``../../grader/``) cannot work on the site; the hook turns it into the repository path in a code
span, which tells the reader where the file is and keeps ``mkdocs build --strict`` clean. A link
into ``docs/`` is rewritten to the page's site path.

A lab listed in the nav whose handout is not written yet is dropped from the nav (with a notice)
instead of failing the build, so a new lab can be planned in ``mkdocs.yml`` before its page lands.
A handout listed without a title (``- labs/lab01/README.md``) is named from its rubric:
``Lab 01 · Project architecture`` (the rubric's ``title`` up to its first colon), so the
navigation says what each lab is about and cannot drift from the rubric; an entry with a title of
its own keeps it.

A public cohort page that ``cohort publish --site-page docs/cohort-<lab>.md`` wrote into
``docs/`` is added to the nav, in the section holding ``assessments.md`` (at the end of the nav
when there is none), unless the nav lists it already: otherwise the strict build would fail with
"pages exist in the docs directory, but are not included in the nav".

Reference code on a page is each lab's *generated solution*, never ``solutions/`` itself:
``solutions/`` holds every lab's code and the lab markers, so an include from it would show a
later lab's code and lab-marker lines on a day-1 page. A page writes
``--8<-- "lab01/api/urls.py"`` (optionally with a line range), and the hook writes the solution
tree of each lab the pages name (``python -m grader.course.labgen solution``: that lab's code,
earlier labs' code, no markers, nothing later) into ``.cache/docs-solutions/<digest>/<lab>/``,
git-ignored, and puts ``.cache/docs-solutions/<digest>/`` first on pymdownx.snippets' ``base_path``.
The digest covers ``solutions/`` and the generator's code, so an unchanged reference project costs
one pass of hashing and a change is picked up by the next build; each lab folder is written under a
temporary name and renamed into place, so builds running at the same time never see half a tree.
Without ``solutions/labs.toml`` (the learners' edition) nothing is generated, and an include of a
lab's solution fails the strict build. ``grader.course.curriculum.day_pages`` checks where such
includes may sit.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import posixpath
import re
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.course_files")

TOP_LEVEL_PAGES = ("curriculum.md", "resources.md", "assessments.md")
LAB_HANDOUTS = "labs/*/README.md"
SOLUTIONS = "solutions"
# Generated lab solutions for the pages' includes; git-ignored (.gitignore: .cache/).
SOLUTION_CACHE = ".cache/docs-solutions"
SNIPPETS = "pymdownx.snippets"

_HANDOUT = re.compile(r"^labs/(?P<lab>[^/]+)/README\.md$")
# What `cohort publish --site-page` writes into docs/ (the public aggregates of one lab).
COHORT_PAGES = "cohort-*.md"
ASSESSMENTS = "assessments.md"
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
# Inline code first so that links shown inside code spans are left alone.
_CODE_OR_LINK = re.compile(
    r"(?P<code>(?P<ticks>`+).+?(?P=ticks))"
    r"|(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"\n]*\")?\)"
)
# `<details>` hints written for GitHub: Python-Markdown leaves the inside of an HTML block raw
# unless the tag asks for Markdown (md_in_html), so the hook adds the attribute on the site.
_DETAILS = re.compile(r"<details(?![^>]*\bmarkdown=)(?P<attrs>[^>]*)>")
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|#|/)", re.IGNORECASE)
# A snippet include, `--8<-- "path[:ranges]"`, or a path line inside a `--8<--` block.
_INCLUDE = re.compile(r"^\s*-{1,}8<-{1,}\s+(?P<q>[\"']?)(?P<spec>[^\"'\s]+)(?P=q)\s*$")
_INCLUDE_BLOCK = re.compile(r"^\s*-{1,}8<-{1,}\s*$")


def _root(config: MkDocsConfig) -> Path:
    """The repository root: the folder holding mkdocs.yml."""
    return Path(config.config_file_path).resolve().parent


def course_pages(root: Path) -> list[str]:
    """Repository paths (POSIX) of the course files to publish that exist, in a stable order."""
    found = [name for name in TOP_LEVEL_PAGES if (root / name).is_file()]
    found += sorted(path.relative_to(root).as_posix() for path in root.glob(LAB_HANDOUTS))
    return found


def _prune_missing_handouts(items: list[Any], root: Path) -> list[Any]:
    """Drop nav entries that point at a lab handout not written yet, and sections left empty."""
    kept: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            title, value = next(iter(item.items()))
            if isinstance(value, list):
                value = _prune_missing_handouts(value, root)
                if not value:
                    continue
            elif isinstance(value, str) and _HANDOUT.match(value) and not (root / value).is_file():
                log.info("nav: %s is not written yet; leaving %r out of the nav", value, title)
                continue
            kept.append({title: value})
        elif isinstance(item, str) and _HANDOUT.match(item) and not (root / item).is_file():
            log.info("nav: %s is not written yet; leaving it out of the nav", item)
        else:
            kept.append(item)
    return kept


def lab_nav_title(root: Path, lab: str) -> str | None:
    """``Lab 01 · Project architecture`` from ``labs/lab01/rubric.toml`` (its title up to the
    first colon), or None when the lab has no readable rubric."""
    try:
        title = tomllib.loads((root / "labs" / lab / "rubric.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    text = title.get("title")
    if not isinstance(text, str) or not text.strip():
        return None
    short = text.split(": ", 1)[0].strip()
    number = re.fullmatch(r"lab(\d+)", lab)
    name = f"Lab {number[1]}" if number else lab.capitalize()
    return f"{name} · {short}"


def _name_handouts(items: list[Any], root: Path) -> list[Any]:
    """Give each untitled lab handout of the nav its title from the rubric (``lab_nav_title``)."""
    named: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            title, value = next(iter(item.items()))
            named.append({title: _name_handouts(value, root) if isinstance(value, list) else value})
            continue
        match = _HANDOUT.match(item) if isinstance(item, str) else None
        title = lab_nav_title(root, match["lab"]) if match else None
        named.append({title: item} if title else item)
    return named


def _nav_paths(items: list[Any]) -> Iterable[str]:
    for item in items:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            yield from _nav_paths(value)
        elif isinstance(value, str):
            yield value


def _add_to_section_of(items: list[Any], anchor: str, pages: list[str]) -> bool:
    """Append ``pages`` to the nav section that lists ``anchor``; False when none does."""
    for item in items:
        value = next(iter(item.values())) if isinstance(item, dict) else None
        if isinstance(value, list):
            if anchor in [next(iter(v.values())) if isinstance(v, dict) else v for v in value]:
                value.extend(pages)
                return True
            if _add_to_section_of(value, anchor, pages):
                return True
    return False


def _add_cohort_pages(items: list[Any], docs_dir: Path) -> list[Any]:
    """The nav with every published cohort page (``docs/cohort-*.md``) it does not list yet."""
    listed = set(_nav_paths(items))
    pages = [
        path.relative_to(docs_dir).as_posix()
        for path in sorted(docs_dir.glob(COHORT_PAGES))
        if path.relative_to(docs_dir).as_posix() not in listed
    ]
    if not pages:
        return items
    log.info("nav: adding the published cohort page(s) %s", ", ".join(pages))
    if not _add_to_section_of(items, ASSESSMENTS, pages):
        items = [*items, *pages]
    return items


def included_paths(markdown: str) -> Iterable[str]:
    """The paths (ranges cut off) that a page's snippet includes name, inline or in a block."""
    in_block = False
    for line in markdown.splitlines():
        if _INCLUDE_BLOCK.match(line):
            in_block = not in_block
            continue
        match = _INCLUDE.match(line)
        if match:
            yield match["spec"].partition(":")[0]
        elif in_block and line.strip() and not line.lstrip().startswith(";"):
            yield line.strip().strip("\"'").partition(":")[0]


def _labgen(root: Path) -> ModuleType:
    """``grader.course.labgen``, from the course's own ``grader/`` when it is not installed."""
    try:
        import grader.course.labgen as labgen
    except ImportError:
        sys.path.insert(0, str(root))
        import grader.course.labgen as labgen
    return labgen


def _source_digest(root: Path, labgen: ModuleType, config: Any) -> str:
    """A hash of what generated solutions depend on: ``solutions/`` and the generator itself."""
    from grader.course.labgen.generate import source_files

    source = root / SOLUTIONS
    digest = hashlib.sha256()
    generator = Path(labgen.__file__).parent
    parts = [(f"grader/course/labgen/{p.name}", p) for p in sorted(generator.glob("*.py"))]
    parts.append(("labs.toml", source / "labs.toml"))
    parts += [(relative, source / relative) for relative in source_files(source, config)]
    for name, path in parts:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def generate_solutions(root: Path, wanted: Iterable[str]) -> Path | None:
    """Generate the solution tree of each lab in ``wanted`` (unknown names are ignored).

    Returns the folder holding one subfolder per lab (the snippets base path), or None when the
    course has no ``solutions/labs.toml``. Malformed markers fail with PluginError.
    """
    source = root / SOLUTIONS
    if not (source / "labs.toml").is_file():
        return None
    labgen = _labgen(root)
    try:
        config = labgen.load_config(source)
        cache = root / SOLUTION_CACHE
        current = cache / _source_digest(root, labgen, config)
        labs = sorted(set(wanted) & set(config.labs))
        for lab in labs:
            if (current / lab).is_dir():
                continue  # written whole by an earlier build of the same sources
            current.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=f".{lab}-", dir=current))
            labgen.generate_lab(source, lab, "solution", work / "tree")
            # OSError: a build running at the same time renamed the same tree into place first.
            with contextlib.suppress(OSError):
                os.rename(work / "tree", current / lab)
            shutil.rmtree(work, ignore_errors=True)
            log.info("snippets: generated %s's solution into %s", lab, current / lab)
    # ValueError: a [generated] file whose command failed (labgen.generated.GeneratedError).
    except (labgen.MarkerError, labgen.ConfigError, ValueError, OSError) as error:
        raise PluginError(f"cannot generate the labs' solutions for the pages: {error}") from None
    for stale in cache.iterdir() if cache.is_dir() else ():
        if stale != current and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)  # made from sources that changed since
    return current


def _pages_text(root: Path, docs_dir: Path) -> Iterable[str]:
    paths = sorted(docs_dir.rglob("*.md")) + [root / name for name in course_pages(root)]
    for path in paths:
        try:
            yield path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    root = _root(config)
    if config.nav:
        nav = _name_handouts(_prune_missing_handouts(config.nav, root), root)
        config.nav = _add_cohort_pages(nav, Path(config.docs_dir))
    snippets = config.mdx_configs.get(SNIPPETS)
    if SNIPPETS in config.markdown_extensions and (root / SOLUTIONS / "labs.toml").is_file():
        wanted = {
            path.split("/", 1)[0]
            for text in _pages_text(root, Path(config.docs_dir))
            for path in included_paths(text)
        }
        generated = generate_solutions(root, wanted)
        if generated is not None:
            snippets = dict(snippets or {})
            base = snippets.get("base_path", ["."])
            base = [base] if isinstance(base, str) else list(base)
            snippets["base_path"] = [str(generated), *base]
            config.mdx_configs[SNIPPETS] = snippets
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    root = _root(config)
    for repo_path in course_pages(root):
        if files.get_file_from_path(repo_path) is not None:
            # A docs/ file at the same path would silently shadow the real page: refuse.
            raise PluginError(f"docs/{repo_path} duplicates the course file {repo_path}; delete it")
        files.append(File.generated(config, repo_path, abs_src_path=str(root / repo_path)))
    return files


def _site_path(repo_path: str, files: Files, published: set[str]) -> str | None:
    """Where the repository file ``repo_path`` is on the site, or None when it is not there."""
    if repo_path in published:
        return repo_path
    if f"{repo_path}/README.md" in published:  # a lab folder: its handout is its page
        return f"{repo_path}/README.md"
    if repo_path.startswith("docs/"):
        inside = repo_path.removeprefix("docs/")
        if files.get_file_from_path(inside) is not None:
            return inside
    return None


def _rewrite_link(
    match: re.Match[str], page_path: str, root: Path, files: Files, published: set[str]
) -> str:
    """One link of a course page, made right for the site (see the module docstring)."""
    if match["code"] or _EXTERNAL.match(match["target"]):
        return match[0]
    target, text = match["target"], match["text"]
    path, hash_, fragment = target.partition("#")
    page_dir = posixpath.dirname(page_path)
    repo_path = posixpath.normpath(posixpath.join(page_dir, path))
    site_path = _site_path(repo_path, files, published)
    if site_path is not None:
        relative = posixpath.relpath(site_path, page_dir or ".")
        return f"[{text}]({relative}{hash_}{fragment}{match['title'] or ''})"
    if repo_path == ".." or repo_path.startswith("../") or not (root / repo_path).exists():
        return match[0]  # a broken link stays a link, so that the strict build reports it
    shown = repo_path + ("/" if path.endswith("/") else "")
    if text.strip("`") in (path, shown, path.rstrip("/")):
        return f"`{shown}`"
    return f"{text} (`{shown}`)"


def _details_with_markdown(match: re.Match[str]) -> str:
    attrs = match["attrs"]
    if "class=" not in attrs:
        attrs += ' class="tip"'
    return f'<details{attrs} markdown="1">'


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    root = _root(config)
    published = set(course_pages(root))
    page_path = page.file.src_uri
    if page_path not in published:
        return markdown
    lines = markdown.splitlines(keepends=True)
    fence: str | None = None
    for index, line in enumerate(lines):
        opener = _FENCE.match(line)
        if fence is not None:
            if opener and opener[1][0] == fence[0] and len(opener[1]) >= len(fence):
                fence = None
            continue
        if opener:
            fence = opener[1]
            continue
        line = _DETAILS.sub(_details_with_markdown, line)
        lines[index] = _CODE_OR_LINK.sub(
            lambda m: _rewrite_link(m, page_path, root, files, published), line
        )
    return "".join(lines)


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    # `mkdocs serve` watches docs/ only; the course files live outside it.
    root = _root(config)
    for repo_path in course_pages(root):
        server.watch(str(root / repo_path))
    server.watch(str(root / "labs"))  # new handouts and rubric changes
    if (root / SOLUTIONS).is_dir():
        server.watch(str(root / SOLUTIONS))  # the reference code the pages include
    return server
