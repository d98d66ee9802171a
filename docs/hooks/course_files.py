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
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.course_files")

TOP_LEVEL_PAGES = ("curriculum.md", "resources.md", "assessments.md")
LAB_HANDOUTS = "labs/*/README.md"

_HANDOUT = re.compile(r"^labs/[^/]+/README\.md$")
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


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    if config.nav:
        config.nav = _prune_missing_handouts(config.nav, _root(config))
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
    return server
