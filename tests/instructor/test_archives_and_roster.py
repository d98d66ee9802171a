"""Unpacking submissions safely, finding the project in them, and reading the roster."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader.errors import UsageError
from grader.instructors.cohort.roster import load_roster
from grader.instructors.cohort.submissions import (
    Submission,
    discover,
    locate_project,
    prepare,
)
from grader.staging import StageLimits, digest_tree
from grader.staging.archives import UnsafeArchive, extract


def _zip(path: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../up.py", "unsafe path"),
        ("a/../../up.py", "unsafe path"),
        ("/abs.py", "unsafe path"),
        ("C:/win.py", "unsafe path"),
    ],
)
def test_zip_paths_that_escape_are_refused(tmp_path: Path, name: str, message: str) -> None:
    archive = _zip(tmp_path / "s.zip", {"ok.py": b"x = 1\n", name: b"boom\n"})
    with pytest.raises(UnsafeArchive, match=message):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "up.py").exists()


def test_zip_symlinks_and_bombs_are_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "s.zip", {"p/ok.py": b"x = 1\n"}, symlink="p/link")
    with pytest.raises(UnsafeArchive, match="p/link, which is a symbolic link"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out/p/link").exists()
    bomb = _zip(tmp_path / "bomb.zip", {"zeros.txt": b"\0" * 3_000_000})  # compresses to ~3 KB
    assert bomb.stat().st_size < 20_000
    with pytest.raises(UnsafeArchive, match="zip bomb"):
        extract(bomb, tmp_path / "out2")
    big = _zip(tmp_path / "big.zip", {"zeros.txt": b"\0" * 500_000})  # under the ratio floor
    with pytest.raises(UnsafeArchive, match=r"holds zeros\.txt, 488 KiB"):
        extract(big, tmp_path / "out2b", limits=StageLimits(max_file_bytes=100_000))
    many = _zip(tmp_path / "many.zip", {f"f{i}.py": b"" for i in range(12)})
    with pytest.raises(UnsafeArchive, match="holds 12 files"):
        extract(many, tmp_path / "out3", limits=StageLimits(max_files=10))


def test_tar_links_and_traversal_are_refused(tmp_path: Path) -> None:
    good = tmp_path / "good.tar.gz"
    with tarfile.open(good, "w:gz") as tf:
        data = b"print(1)\n"
        info = tarfile.TarInfo("proj/manage.py")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("proj/secret")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tf.addfile(link)
    with pytest.raises(UnsafeArchive, match="proj/secret, which is a symbolic link"):
        extract(good, tmp_path / "out")
    assert not (tmp_path / "out/proj/secret").exists()
    bad = tmp_path / "bad.tar"
    with tarfile.open(bad, "w") as tf:
        info = tarfile.TarInfo("../../evil.py")
        tf.addfile(info, io.BytesIO(b""))
    with pytest.raises(UnsafeArchive, match="unsafe path"):
        extract(bad, tmp_path / "out2")
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(UnsafeArchive, match="not a readable tar"):
        extract(tmp_path / "junk.tar", tmp_path / "out3")


def test_prepare_turns_a_refused_archive_into_a_stable_problem(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "ann.zip", {"../x.py": b""})
    first = prepare(Submission("ann", "zip", archive), "lab01", tmp_path / "cache")
    again = prepare(Submission("ann", "zip", archive), "lab01", tmp_path / "cache")
    assert first.problem is not None
    assert "unsafe path" in first.problem
    assert "Make the archive again" in first.problem
    assert first.digest == again.digest  # the same broken upload is recognised, not retried


def test_prepare_unpacks_once_and_finds_the_project(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "bo.zip", {"bo-lab01/manage.py": b"", "bo-lab01/app.py": b"x=1\n"})
    cache = tmp_path / "cache"
    first = prepare(Submission("bo", "zip", archive), "lab01", cache)
    second = prepare(Submission("bo", "zip", archive), "lab01", cache)
    assert first.project.name == "bo-lab01"
    assert first.project == second.project
    assert first.digest == digest_tree(first.project)
    assert first.source.startswith("zip sha256:")
    assert len(list(cache.iterdir())) == 1


def test_locate_project(tmp_path: Path) -> None:
    (tmp_path / "clone/labs/lab01/starter").mkdir(parents=True)
    (tmp_path / "clone/labs/lab01/starter/manage.py").write_text("")
    assert locate_project(tmp_path / "clone", "lab01") == tmp_path / "clone/labs/lab01/starter"
    (tmp_path / "two/a").mkdir(parents=True)
    (tmp_path / "two/b").mkdir()
    (tmp_path / "two/a/manage.py").write_text("")
    (tmp_path / "two/b/manage.py").write_text("")
    assert locate_project(tmp_path / "two", "lab01") == tmp_path / "two"  # ambiguous: as is


def test_discover_refuses_two_submissions_for_one_learner(tmp_path: Path) -> None:
    (tmp_path / "ann").mkdir()
    _zip(tmp_path / "ann.zip", {"a.py": b""})
    with pytest.raises(UsageError, match="ann has two submissions"):
        discover(tmp_path)


def test_discover_kinds(tmp_path: Path) -> None:
    (tmp_path / "ann").mkdir()
    (tmp_path / "bo.tgz").write_bytes(b"")
    (tmp_path / "cy.git").mkdir()
    (tmp_path / "cy.git/HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "cy.git/objects").mkdir()
    (tmp_path / ".DS_Store").write_text("")
    (tmp_path / "notes.txt").write_text("")
    found = discover(tmp_path)
    assert {k: v.kind for k, v in found.items()} == {"ann": "folder", "bo": "tar", "cy": "git"}


def test_roster_reads_a_spreadsheet_export(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "\ufeffLearner_ID,Name,Email,Section,canvas_user_id\n"
        'ann,"Archer, Ann",ann@example.org,S1,501\n\n'
        "bo,Bo,bo@example.org,,\n",
        encoding="utf-8",
    )
    learners = load_roster(roster)
    assert [(x.id, x.name, x.section, x.canvas_user_id) for x in learners] == [
        ("ann", "Archer, Ann", "S1", "501"),
        ("bo", "Bo", None, None),
    ]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_semicolon_or_tab_roster_is_read(tmp_path: Path, delimiter: str) -> None:
    """Issue 20: a semicolon-separated roster got "missing: learner_id, name, email"."""
    roster = tmp_path / "roster.csv"
    rows = [["learner_id", "name", "email"], ["ann", "Archer, Ann", "ann@example.org"]]
    roster.write_text("\n".join(delimiter.join(r) for r in rows) + "\n", encoding="utf-8")
    assert [(x.id, x.name) for x in load_roster(roster)] == [("ann", "Archer, Ann")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("learner_id,name\nann,Ann\n", "missing: email"),
        ("learner_id;name,email\nann;Ann,a@x\n", "also has commas|also has semicolons"),
        ("id;full name\nann;Ann\n", "separated by semicolons"),
        ("learner_id,name,email,shoe_size\nann,A,a@x,9\n", "unknown column"),
        ("learner_id,name,email\nann,A,a@x\nann,B,b@x\n", "appears twice"),
        ("learner_id,name,email\n../ann,A,a@x\n", "letters, digits"),
        ("learner_id,name,email\nann,,a@x\n", "row 2: name is empty"),
        ("learner_id,name,email\n", "no learners"),
    ],
)
def test_roster_problems_name_the_row(tmp_path: Path, text: str, message: str) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_roster(roster)
