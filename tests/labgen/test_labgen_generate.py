"""generate_lab and load_config on small reference projects built in tmp_path."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.course.labgen import ConfigError, Kind, MarkerError, generate_lab, load_config

MakeSource = Callable[..., Path]
REPO = Path(__file__).resolve().parents[2]

VIEWS = """\
from django.http import JsonResponse


def health(request):
    # BEGIN LAB01
    return JsonResponse({"status": "ok"})
    # STUB LAB01
    # # TODO(lab01): report the database's health.
    # return JsonResponse({"status": "todo"}, status=501)
    # END LAB01


# BEGIN LAB02
def posts(request):
    return JsonResponse([], safe=False)
# END LAB02
"""

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00"


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` as relative POSIX path -> bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_starter_and_solution_of_a_python_file(make_source: MakeSource, tmp_path: Path) -> None:
    source = make_source({"blog/views.py": VIEWS})
    generate_lab(source, "lab01", "starter", tmp_path / "s1")
    generate_lab(source, "lab01", "solution", tmp_path / "x1")
    starter = (tmp_path / "s1/blog/views.py").read_text()
    solution = (tmp_path / "x1/blog/views.py").read_text()
    assert "    # TODO(lab01): report the database's health.\n" in starter
    assert '    return JsonResponse({"status": "todo"}, status=501)\n' in starter
    assert '{"status": "ok"}' not in starter
    assert '{"status": "ok"}' in solution
    assert "def posts" not in starter + solution
    assert "BEGIN" not in starter + solution
    generate_lab(source, "lab02", "starter", tmp_path / "s2")
    starter2 = (tmp_path / "s2/blog/views.py").read_text()
    assert '{"status": "ok"}' in starter2
    assert "def posts" not in starter2  # lab02's region has no STUB: nothing in its starter


def test_returns_sorted_relative_paths_and_creates_dest(
    make_source: MakeSource, tmp_path: Path
) -> None:
    source = make_source({"manage.py": "x\n", "blog/views.py": VIEWS, "blog/a.py": ""})
    dest = tmp_path / "deep/new/dest"
    written = generate_lab(source, "lab01", "starter", dest)
    assert written == [Path("blog/a.py"), Path("blog/views.py"), Path("manage.py")]
    assert sorted(tree(dest)) == ["blog/a.py", "blog/views.py", "manage.py"]


def test_file_directives_decide_presence(make_source: MakeSource, tmp_path: Path) -> None:
    source = make_source(
        {
            "blog/serializers.py": "# FILE LAB02\nclass A:\n    pass\n",
            "blog/permissions.py": "# FILE LAB02 SOLUTION\nclass IsAuthor:\n    pass\n",
            "blog/models.py": "class Post:\n    pass\n",
        }
    )
    present: dict[tuple[str, str], list[str]] = {}
    kinds: tuple[Kind, ...] = ("starter", "solution")
    for lab in ("lab01", "lab02", "lab03"):
        for kind in kinds:
            dest = tmp_path / f"{lab}-{kind}"
            generate_lab(source, lab, kind, dest)
            present[lab, kind] = sorted(tree(dest))
    assert present["lab01", "starter"] == ["blog/models.py"]
    assert present["lab01", "solution"] == ["blog/models.py"]
    assert present["lab02", "starter"] == ["blog/models.py", "blog/serializers.py"]
    assert present["lab02", "solution"] == [
        "blog/models.py",
        "blog/permissions.py",
        "blog/serializers.py",
    ]
    assert present["lab03", "starter"] == present["lab02", "solution"]
    # The directive line itself is dropped.
    assert (tmp_path / "lab03-starter/blog/permissions.py").read_text() == (
        "class IsAuthor:\n    pass\n"
    )


def test_files_table_for_json_fixtures(make_source: MakeSource, tmp_path: Path) -> None:
    categories = '[{"model": "blog.category", "pk": 1, "fields": {"name": "# BEGIN"}}]\n'
    source = make_source(
        {"blog/fixtures/categories.json": categories, "blog/fixtures/banned.json": "[]\n"},
        files_table={
            "blog/fixtures/categories.json": "lab02",
            "blog/fixtures/banned.json": "LAB02 Solution",
        },
    )
    generate_lab(source, "lab01", "solution", tmp_path / "a")
    generate_lab(source, "lab02", "starter", tmp_path / "b")
    generate_lab(source, "lab02", "solution", tmp_path / "c")
    assert tree(tmp_path / "a") == {}
    assert tree(tmp_path / "b") == {"blog/fixtures/categories.json": categories.encode()}
    assert sorted(tree(tmp_path / "c")) == [
        "blog/fixtures/banned.json",
        "blog/fixtures/categories.json",
    ]


def test_files_table_and_file_directive_together_is_an_error(
    make_source: MakeSource, tmp_path: Path
) -> None:
    source = make_source({"a.py": "# FILE LAB01\n"}, files_table={"a.py": "lab02"})
    with pytest.raises(MarkerError, match=r"a\.py:1: .*\[files\]"):
        generate_lab(source, "lab02", "starter", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_non_python_files(make_source: MakeSource, tmp_path: Path) -> None:
    source = make_source(
        {
            "blog/templates/blog/list.html": (
                "{% extends 'base.html' %}\n"
                "{# BEGIN LAB03 #}\n"
                "{% block content %}{{ posts }}{% endblock %}\n"
                "{# STUB LAB03 #}\n"
                "{# {% block content %}TODO(lab03){% endblock %} #}\n"
                "{# END LAB03 #}\n"
            ),
            "pyproject.toml": '[project]\nname = "blog"\n# BEGIN LAB02\n[tool.x]\n# END LAB02\n',
            "compose.yaml": (
                "services:\n  web:\n    image: blog\n"
                "  # BEGIN LAB03\n  db:\n    image: postgres\n"
                "  # STUB LAB03\n  # db:\n  #   image: TODO\n  # END LAB03\n"
            ),
            "README.md": "# Blog\n<!-- BEGIN LAB02 -->\nPosts.\n<!-- STUB LAB02 -->\n"
            "<!-- TODO: describe posts -->\n<!-- END LAB02 -->\nEnd.\n",
        }
    )
    generate_lab(source, "lab03", "starter", tmp_path / "out")
    out = tree(tmp_path / "out")
    assert out["blog/templates/blog/list.html"] == (
        b"{% extends 'base.html' %}\n{% block content %}TODO(lab03){% endblock %}\n"
    )
    assert out["pyproject.toml"] == b'[project]\nname = "blog"\n[tool.x]\n'
    compose = b"services:\n  web:\n    image: blog\n  db:\n    image: TODO\n"
    assert out["compose.yaml"] == compose
    assert out["README.md"] == b"# Blog\nPosts.\nEnd.\n"
    generate_lab(source, "lab02", "starter", tmp_path / "out2")
    assert (tmp_path / "out2/README.md").read_text() == "# Blog\nTODO: describe posts\nEnd.\n"
    assert (tmp_path / "out2/pyproject.toml").read_text() == '[project]\nname = "blog"\n'


def test_binary_files_are_copied_unchanged(make_source: MakeSource, tmp_path: Path) -> None:
    source = make_source(
        {"static/logo.png": PNG, "static/new.png": PNG}, {"static/new.png": "lab02"}
    )
    generate_lab(source, "lab01", "starter", tmp_path / "a")
    generate_lab(source, "lab02", "starter", tmp_path / "b")
    assert tree(tmp_path / "a") == {"static/logo.png": PNG}
    assert tree(tmp_path / "b") == {"static/logo.png": PNG, "static/new.png": PNG}


def test_mode_bits_are_preserved(make_source: MakeSource, tmp_path: Path) -> None:
    source = make_source({"manage.py": "#!/usr/bin/env python\n", "blog/views.py": VIEWS})
    os.chmod(source / "manage.py", 0o755)
    os.chmod(source / "blog/views.py", 0o640)
    generate_lab(source, "lab01", "starter", tmp_path / "out")
    assert stat.S_IMODE((tmp_path / "out/manage.py").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "out/blog/views.py").stat().st_mode) == 0o640


def test_excluded_paths_are_not_copied(make_source: MakeSource, tmp_path: Path) -> None:
    source = make_source(
        {
            "manage.py": "",
            "db.sqlite3": b"SQLite format 3\x00\xff",
            ".env": "SECRET_KEY=x\n",
            "__pycache__/manage.cpython-311.pyc": b"\x00",
            "blog/__pycache__/views.cpython-311.pyc": b"\x00",
            "blog/old.pyc": b"\x00",
            "staticfiles/admin/base.css": "body {}\n",
            "blog/db.sqlite3": "kept: the pattern is relative to solutions/\n",
        }
    )
    generate_lab(source, "capstone", "solution", tmp_path / "out")
    assert sorted(tree(tmp_path / "out")) == ["blog/db.sqlite3", "manage.py"]
    # labs.toml configures the generator; it is not part of the project.
    assert not (tmp_path / "out/labs.toml").exists()


def test_unknown_lab_lists_the_known_labs(make_source: MakeSource, tmp_path: Path) -> None:
    source = make_source({"a.py": ""})
    with pytest.raises(ValueError, match="lab01, lab02, lab03, capstone"):
        generate_lab(source, "lab11", "starter", tmp_path / "out")


def test_lab_argument_is_case_insensitive(make_source: MakeSource, tmp_path: Path) -> None:
    source = make_source({"a.py": "# FILE CAPSTONE\n"})
    assert generate_lab(source, "CAPSTONE", "starter", tmp_path / "out") == [Path("a.py")]


def test_dest_must_be_empty(make_source: MakeSource, tmp_path: Path) -> None:
    source = make_source({"a.py": "x\n"})
    (tmp_path / "empty").mkdir()
    assert generate_lab(source, "lab01", "starter", tmp_path / "empty") == [Path("a.py")]
    with pytest.raises(FileExistsError):
        generate_lab(source, "lab01", "starter", tmp_path / "empty")


def test_marker_error_writes_nothing(make_source: MakeSource, tmp_path: Path) -> None:
    source = make_source({"a.py": "x\n", "b/c.py": "# BEGIN LAB01\n# BEGIN LAB02\n"})
    with pytest.raises(MarkerError) as caught:
        generate_lab(source, "lab01", "starter", tmp_path / "out")
    assert str(caught.value).startswith(f"{source / 'b/c.py'}:2: ")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('labs = ["lab01"]\nexlude = []\n', "unknown key"),
        ('labs = ["lab01", "LAB01"]\n', "twice"),
        ('labs = ["intro"]\n', "not a lab name"),
        ("labs = []\n", "at least one"),
        ('labs = ["lab01"]\n[files]\n"a.json" = "lab02"\n', "unknown lab 'lab02'"),
        ('labs = ["lab01"]\n[files]\n"a.json" = "lab01 starter"\n', "labNN solution"),
        ('labs = ["lab01"]\n[files]\n"missing.json" = "lab01"\n', "not a file"),
        ("labs = [\n", "labs.toml"),
        ('labs = ["lab01"]\nkeep = ["notebooks/*.ipynb"]\n', "not excluded too"),
    ],
)
def test_bad_config_is_reported(tmp_path: Path, toml: str, words: str) -> None:
    (tmp_path / "a.json").write_text("[]")
    (tmp_path / "labs.toml").write_text(toml)
    with pytest.raises(ConfigError, match=words):
        load_config(tmp_path)


def test_config_is_lower_cased(tmp_path: Path) -> None:
    (tmp_path / "labs.toml").write_text('labs = ["LAB01", "Capstone"]\n')
    config = load_config(tmp_path)
    assert config.labs == ("lab01", "capstone")
    assert config.exclude == ()
    assert dict(config.files) == {}


@pytest.mark.skipif(
    not (REPO / "solutions/labs.toml").is_file(), reason="no solutions/labs.toml yet"
)
def test_the_course_config_loads() -> None:
    config = load_config(REPO / "solutions")
    assert config.labs[0] == "lab01"
    # The capstone is another project, not a slice of the blog (grader/course/capstone.py).
    assert config.labs[-1] == "lab10"
    assert "capstone" not in config.labs
    assert config.is_excluded("blog/__pycache__/views.cpython-311.pyc")
