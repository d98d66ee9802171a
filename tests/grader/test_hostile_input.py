"""Never crash, never hang, never leak on input (issue 14, classes 3, 5 and 6), in local mode.

The corpus is in :mod:`tests.hostile`: each case is graded through the command line in a child
process and must end with a definite status (exit 3, "could not be graded", for everything
refused; exit 1 for a graded submission that loses points), a sentence that says what to
change, nothing left in its private TMPDIR, and, for refusals, within a minute and 1 GiB.
``test_no_case_leaks`` scans every case's output for host paths, hidden-check source lines,
tracebacks and terminal control.

Unit tests below pin the pieces the cases rely on: the tar header scan (and that sound tars,
including GNU tar's pax output, still unpack), the iterative walk, the path scrubber, the
renderer, and the ruff gate's ``--ignore-noqa`` and crash handling.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from grader.course.labgen import generate_lab
from grader.errors import RubricError, SubmissionError
from grader.executors import gates
from grader.executors.gates import run_ruff
from grader.render import render_result
from grader.rubric import load_rubric
from grader.safetext import PathScrubber, for_rich, strip_control
from grader.staging.archives import UnsafeArchive, extract
from grader.staging.stage import StageLimits, stage_submission, walk_tree
from tests.hostile import (
    Case,
    Output,
    appended,
    deep_folder,
    hostile_tar,
    leaks,
    pad,
    pax_record,
    raw_header,
    remove_tree,
    run_case,
    source_file,
    tar_case,
    zip_case,
    zip_of,
)
from tests.support import ROOT

ZIP_CLASH = (
    Case(
        "zip-file-then-folder",
        zip_case("clash1.zip", [("api/x", b"1"), ("api/x/y.py", b"x = 1\n")]),
        ("both a file and a folder", "Rename one of them"),
    ),
    Case(
        "zip-folder-then-file",
        zip_case("clash2.zip", [("api/x/", b""), ("api/x", b"1")]),
        ("both a file and a folder", "api/x"),
    ),
    Case(
        "zip-file-inside-a-file",
        zip_case("clash3.zip", [("manage.py/inner.py", b"x = 1\n")]),
        ("both a file and a folder", "manage.py"),
    ),
    Case(
        "zip-folder-entry-over-a-file",
        zip_case("clash4.zip", [("config/settings/base.py/", b"")]),
        ("both a file and a folder", "config/settings/base.py"),
    ),
    Case(
        "tar-file-then-folder",
        tar_case("clash5.tar.gz", [("project/api/x", b"1"), ("project/api/x/y.py", b"x = 1\n")]),
        ("both a file and a folder", "Rename one of them"),
    ),
)


def _many_entries(count: int) -> Any:
    """The solution zipped, plus ``count`` empty folder entries: a central directory that
    costs zipfile an object per entry before any limit could be checked."""

    def build(tree: Path, tmp: Path) -> Path:
        return zip_of(tree, tmp / "entries.zip", [(f"e{i}/", b"") for i in range(count)])

    return build


ZIP_CLASH += (
    Case(
        "zip-10000-folder-entries",
        _many_entries(10_000),
        ("entries; a submission may hold at most 2000 files",),
    ),
)

LONG_NAMES = (
    Case(
        "zip-300-char-name",
        zip_case("long1.zip", [("api/" + "a" * 300 + ".py", b"x = 1\n")]),
        ("303 bytes long", "at most 255 bytes", "shorter name"),
    ),
    Case(
        "zip-256-byte-name",
        zip_case("long2.zip", [("b" * 256, b"x = 1\n")]),
        ("256 bytes long", "at most 255 bytes"),
    ),
    Case(
        "zip-long-folder-name",
        zip_case("long3.zip", [("api/" + "d" * 300 + "/x.py", b"x = 1\n")]),
        ("300 bytes long", "at most 255 bytes"),
    ),
    Case(
        "zip-multibyte-name",  # 150 characters, 300 bytes in UTF-8
        zip_case("long4.zip", [("api/" + "é" * 150 + ".py", b"x = 1\n")]),
        ("303 bytes long", "at most 255 bytes"),
    ),
    Case(
        "tar-gnu-long-name",
        tar_case("long5.tar.gz", [("project/" + "g" * 300, b"x = 1\n")], tarfile.GNU_FORMAT),
        ("300 bytes long", "at most 255 bytes"),
    ),
    Case(
        "tar-pax-long-name",
        tar_case("long6.tar", [("project/" + "p" * 280, b"x = 1\n")], tarfile.PAX_FORMAT),
        ("280 bytes long", "at most 255 bytes"),
    ),
)

DEEP = (
    Case(
        "zip-1100-deep",
        zip_case("deep1.zip", [("/".join(["d"] * 1100) + "/x.py", b"x = 1\n")]),
        ("1101 folders deep", "at most 32 folders"),
    ),
    Case(
        "zip-33-deep",
        zip_case("deep2.zip", [("/".join(["d"] * 33) + "/x.py", b"x = 1\n")]),
        ("34 folders deep", "at most 32 folders"),
    ),
    Case(
        "tar-1100-deep",
        tar_case("deep3.tgz", [("project/" + "/".join(["t"] * 1100) + "/x.py", b"x = 1\n")]),
        ("folders deep", "at most 32 folders"),
    ),
    Case(
        "zip-long-path",  # few folders, each long: over the path limit, not the depth limit
        zip_case("deep4.zip", [("/".join(["q" * 200] * 6) + "/x.py", b"x = 1\n")]),
        ("bytes long", "paths of at most 1024 bytes"),
    ),
    Case("folder-1100-deep", deep_folder(1100), ("nests folders too deeply", "at most 32")),
    Case("folder-33-deep", deep_folder(33, "sub", "api"), ("nests folders too deeply",)),
    Case(
        "folder-long-path",
        deep_folder(6, "w" * 200),
        ("nests folders too deeply", "1024 bytes per path"),
    ),
)


def _pax(kind: bytes, records: bytes) -> Any:
    return lambda: raw_header(b"././@PaxHeader", kind, len(records)) + pad(records)


def _gnu_bomb(kind: bytes, declared: int, present: int) -> Any:
    """A GNU long-name (or long-link) header declaring ``declared`` bytes, ``present`` of them
    there: tarfile would read all of them into one bytes object."""
    return lambda: raw_header(b"././@LongLink", kind, declared) + b"\0" * present


TAR_HEADERS = (
    Case(
        "pax-cve-2024-6232-digits",  # within the size bound: the digit-run rule refuses it
        hostile_tar("redos1.tar.gz", _pax(b"x", b"1" * 8000)),
        ("extended (pax) header", "does not unpack"),
    ),
    Case(
        "pax-cve-2024-6232-huge",  # the size bound refuses it before reading it
        hostile_tar("redos2.tar", _pax(b"x", b"0" * 1_000_000), compress="none"),
        ("an extended header of 1000000 bytes", "at most 8192"),
    ),
    Case(
        "pax-digits-inside-a-record",  # well-formed, but a value tarfile's search backtracks on
        hostile_tar("redos3.tar.gz", _pax(b"x", pax_record(b"comment", b"7" * 5000))),
        ("run of over 64 digits",),
    ),
    Case(
        "pax-global-header-over-bound",
        hostile_tar("redos4.tar.gz", _pax(b"g", pax_record(b"comment", b"a. " * 4000)), "bz2"),
        ("an extended header of", "at most 8192"),
    ),
    Case(
        "pax-malformed-record",
        hostile_tar("redos5.tar.gz", _pax(b"x", b"99 path=short\n")),
        ("a malformed extended (pax) header",),
    ),
    Case(
        "pax-size-not-a-number",
        hostile_tar("redos6.tar.gz", _pax(b"x", pax_record(b"size", b"12x"))),
        ("a malformed extended (pax) header",),
    ),
    Case(
        "pax-gnu-sparse-map",
        hostile_tar("sparse1.tar.gz", _pax(b"x", pax_record(b"GNU.sparse.map", b"0,1"))),
        ("a sparse file",),
    ),
    Case(
        "gnu-long-name-2-3-gb",  # the case: 2.3 GB declared, a small archive
        hostile_tar("bomb1.tar.gz", _gnu_bomb(b"L", 2_300_000_000, 8 * 1024 * 1024)),
        ("an extended header of 2300000000 bytes", "at most 4096"),
    ),
    Case(
        "gnu-long-link-100-mb",
        hostile_tar("bomb2.tar.xz.tar", _gnu_bomb(b"K", 100_000_000, 1024 * 1024), "xz"),
        ("an extended header of 100000000 bytes",),
    ),
    Case(
        "gnu-long-name-base-256-size",  # GNU's binary size field, 2**40 bytes declared
        hostile_tar(
            "bomb3.tgz",
            lambda: raw_header(b"././@LongLink", b"L", 0, b"\x80" + (2**40).to_bytes(11, "big")),
        ),
        ("an extended header of 1099511627776 bytes",),
    ),
    Case(
        "old-gnu-sparse-entry",
        hostile_tar("sparse2.tar.gz", lambda: raw_header(b"project/s.bin", b"S", 0)),
        ("tar type 'S'", "not a file or folder"),
    ),
)

DEEP_SOURCE = (
    Case(
        "unary-minus-200000",
        source_file("api/deep.py", "x = " + "-" * 200_000 + "1\n"),
        ("api/deep.py nests expressions or blocks too deeply",),
        stage="syntax",
    ),
    Case(
        "binary-chain-100000",
        source_file("blog/deep.py", "x = " + "1 + " * 100_000 + "1\n"),
        ("blog/deep.py nests expressions or blocks too deeply",),
        stage="syntax",
    ),
    Case(
        "attribute-chain-200000",
        source_file("config/deep.py", "x = " + "a." * 200_000 + "b\n"),
        ("config/deep.py nests", "Split the deep expression"),
        stage="syntax",
    ),
    Case(
        "lambda-chain-50000",
        source_file("api/lam.py", "f = " + "lambda: " * 50_000 + "1\n"),
        ("api/lam.py nests",),
        stage="syntax",
    ),
    Case(
        "nested-brackets-300",  # the parser's own limit: a SyntaxError with its line
        source_file("api/brackets.py", "x = " + "[" * 300 + "]" * 300 + "\n"),
        ("Syntax error in api/brackets.py, line 1", "too many nested parentheses"),
        stage="syntax",
    ),
    Case(
        "indentation-120-levels",
        source_file(
            "api/indent.py",
            "".join(" " * i + "if x:\n" for i in range(120)) + " " * 120 + "pass\n",
        ),
        ("Syntax error in api/indent.py", "too many levels of indentation"),
        stage="syntax",
    ),
)

PAYLOADS = {
    "markup": "[/x] [bold red]loud[/] [link=http://evil.example]x[/link]",
    "ansi": "\x1b[2J\x1b[31mred\x1b[0m\x1b[1A",
    "osc": "\x1b]0;pwned title\x07\x1b]52;c;Y2xpcGJvYXJk\x07",
    "hyperlink": "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "c1-and-bidi": "\x9b31m\u202eevil\u202c\r\x07\x1bPdcs\x1b\\",
}
INJECTED = "".join(PAYLOADS.values())

# dev.py is imported by a settings probe whose failure message quotes the exception's text.
DEV_SETTINGS_RAISE = f"""
raise RuntimeError({INJECTED!r})
"""

SETTINGS_NAMING_HOST_PATHS = """
import os as _os
import sys as _sys
raise RuntimeError(f"broken at {__file__} in {_os.getcwd()} with {_sys.prefix}")
"""

GRADED = (
    Case(
        "feedback-quotes-markup-and-escapes",
        appended("config/settings/dev.py", DEV_SETTINGS_RAISE),
        ("[/x] [bold red]loud[/]", "config/settings/dev.py does not import"),
        exit_code=1,
        stage=None,
        limited=False,
        absent=("pwned title",),
    ),
    Case(
        "settings-error-naming-host-paths",
        appended("config/settings/base.py", SETTINGS_NAMING_HOST_PATHS),
        ("RuntimeError: broken at config/settings/base.py", "<python>"),
        stage="settings",
        limited=False,
    ),
)

REFUSED = ZIP_CLASH + LONG_NAMES + DEEP + TAR_HEADERS + DEEP_SOURCE
CORPUS = REFUSED + GRADED


@pytest.fixture(scope="module")
def outputs(
    lab01_solution: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[Output, Path]]]:
    """Every corpus case graded once (the per-case tests and the leak scan share them)."""
    graded: dict[str, tuple[Output, Path]] = {}
    base = tmp_path_factory.mktemp("hostile")
    for case in CORPUS:
        tmp = base / case.id
        tmp.mkdir()
        graded[case.id] = (run_case(case, lab01_solution, tmp), tmp)
        remove_tree(tmp / "submission")  # some are deeper than shutil.rmtree can go
    yield graded
    remove_tree(base)


def _assert_definite(output: Output) -> None:
    case = output.case
    assert output.returncode == case.exit_code, output.stdout + output.stderr
    text = output.stdout + output.stderr
    flowed = " ".join(output.stdout.split())  # the terminal wraps long sentences
    for phrase in case.phrases:
        assert phrase in flowed, output.stdout
    for phrase in case.absent:
        assert phrase not in text
    assert output.result is not None
    assert output.result["error_stage"] == case.stage
    if case.exit_code == 3:
        assert output.result["status"] == "error"
        assert output.result["score"]["points"] == 0
        assert all(c["status"] == "not_run" for c in output.result["criteria"])
    assert output.tmp_left == [], f"left in TMPDIR: {output.tmp_left}"
    if case.limited:
        assert output.seconds < 30, f"took {output.seconds:.1f} s"


@pytest.mark.slow
@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_every_case_gets_a_definite_status_and_a_sentence(
    case: Case, outputs: dict[str, tuple[Output, Path]]
) -> None:
    _assert_definite(outputs[case.id][0])


@pytest.mark.slow
def test_no_case_leaks(outputs: dict[str, tuple[Output, Path]]) -> None:
    """One scan over every case's terminal output and result document: no host path (checkout,
    Python installation, TMPDIR, debug folder), no hidden-check line, no traceback, no
    terminal control character."""
    found = {cid: problems for cid, (out, tmp) in outputs.items() if (problems := leaks(out, tmp))}
    assert found == {}
    assert len(outputs) == len(CORPUS) >= 35  # a floor: variants are added, never dropped


@pytest.mark.slow
def test_the_escapes_were_really_in_the_feedback(outputs: dict[str, tuple[Output, Path]]) -> None:
    """Control for the injection case: the payload reached the result (stripped), so the clean
    terminal output is the renderer's doing, not a payload that never arrived."""
    result = outputs["feedback-quotes-markup-and-escapes"][0].result
    assert result is not None
    details = " ".join(c["detail"] or "" for c in result["criteria"])
    assert "RuntimeError: [/x] [bold red]loud[/]" in details
    assert "redclick" in details.replace(" ", "")  # the text between the escapes survives


# --- units: the tar header scan -----------------------------------------------------------------


def _tar_bytes(fmt: int, names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tf:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 6
            info.mtime = 1_700_000_000.123456789
            tf.addfile(info, io.BytesIO(b"x = 1\n"))
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_sound_tars_of_every_format_still_unpack(fmt: int, tmp_path: Path) -> None:
    """Long (but legal) names and non-ASCII names make tarfile write pax or GNU headers."""
    names = ["project/manage.py", "project/api/views.py"]
    if fmt != tarfile.USTAR_FORMAT:
        names += ["project/" + "n" * 150 + ".py", "project/café/ünï.py"]
    extract(_tar_bytes(fmt, names), tmp_path, kind="tar")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.py")) == sorted(
        names
    )


def test_gnu_tar_posix_output_unpacks(lab01_solution: Path, tmp_path: Path) -> None:
    """GNU tar's pax format (mtime/atime/ctime records in every header) is accepted."""
    tar = shutil.which("tar")
    if tar is None:
        pytest.skip("no tar command here")
    archive = tmp_path / "posix.tar.gz"
    subprocess.run(
        [tar, "--format=posix", "-czf", str(archive), "-C", str(lab01_solution), "."], check=True
    )
    extract(archive, tmp_path / "out")
    assert (tmp_path / "out" / "manage.py").is_file()


def test_a_pax_redos_header_is_refused_quickly() -> None:
    """The scan refuses in milliseconds what tarfile 3.11.7 would search for seconds."""
    records = b"1" * 8000
    data = raw_header(b"././@PaxHeader", b"x", len(records)) + pad(records) + b"\0" * 1024
    started = time.monotonic()
    with pytest.raises(UnsafeArchive, match="run of over 64 digits"):
        extract(data, Path("/nonexistent-never-written"), kind="tar")
    assert time.monotonic() - started < 1.0


def test_a_tar_bomb_is_refused_before_it_is_decompressed(tmp_path: Path) -> None:
    """A gzip stream of 200 MiB of file data is refused within the size budget, by the scan."""
    import gzip

    blob = raw_header(b"big.bin", b"0", 200 * 1024 * 1024) + b"\0" * (200 * 1024 * 1024)
    archive = tmp_path / "bomb.tar.gz"
    archive.write_bytes(gzip.compress(blob, compresslevel=1))
    limits = StageLimits(max_file_bytes=300 * 1024 * 1024)  # only the total limit applies
    with pytest.raises(UnsafeArchive, match="unpacks to more than 50 MiB"):
        extract(archive, tmp_path / "out", limits=limits)
    assert not (tmp_path / "out" / "big.bin").exists()


def test_a_zip64_entry_count_is_read_before_zipfile_parses_it(tmp_path: Path) -> None:
    """Over 65,535 entries a zip's count lives in the zip64 record: it is read from there."""
    from grader.staging.archives import zip_entry_count

    archive = tmp_path / "z64.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(70_000):
            zf.writestr(zipfile.ZipInfo(f"e{i}/"), b"")
    assert zip_entry_count(archive) == 70_000
    with pytest.raises(UnsafeArchive, match="holds 70000 entries"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# --- units: walking, staging ---------------------------------------------------------------------


def test_deep_folders_inside_skipped_folders_are_never_walked(
    lab01_solution: Path, tmp_path: Path
) -> None:
    """node_modules 1100 levels deep is skipped, as before, not refused."""
    tree = tmp_path / "tree"
    shutil.copytree(lab01_solution, tree)
    deep_folder(1100, "n", "node_modules")(tree, tmp_path)
    try:
        staged = stage_submission(tree, tmp_path / "staged")
        assert (staged.path / "manage.py").is_file()
        assert not (staged.path / "node_modules").exists()
    finally:
        remove_tree(tree)


@pytest.mark.parametrize(("levels", "refused"), [(32, False), (33, True)])
def test_the_depth_limit_is_exact(levels: int, refused: bool, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "manage.py").write_text("x = 1\n")
    deep_folder(levels, "d")(tree, tmp_path)
    walked = lambda: [d for d, _, _ in walk_tree(str(tree))]  # noqa: E731
    if refused:
        with pytest.raises(SubmissionError, match="nests folders too deeply"):
            walked()
    else:
        assert len(walked()) == levels + 1


def test_walk_tree_matches_os_walk(lab01_solution: Path) -> None:
    """Same order, same classification (digests of staged work must not change)."""
    import os

    mine = [(d, sorted(ds), sorted(fs)) for d, ds, fs in walk_tree(str(lab01_solution))]
    theirs = [(d, sorted(ds), sorted(fs)) for d, ds, fs in os.walk(lab01_solution)]
    assert sorted(mine) == sorted(theirs)


# --- units: text safety ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_strip_control_leaves_no_escape(name: str) -> None:
    text = strip_control("before " + PAYLOADS[name] + " after\nnext\tcolumn")
    assert text.startswith("before ")
    assert text.endswith(" after\nnext\tcolumn")
    assert not any(ord(c) < 32 and c not in "\n\t" for c in text)
    assert not any(0x7F <= ord(c) < 0xA0 for c in text)
    assert "\u202e" not in text
    for title in ("pwned title", "Y2xpcGJvYXJk", "http://evil.example\x1b"):
        assert title not in text


def test_for_rich_prints_markup_literally() -> None:
    console = Console(file=io.StringIO(), width=200)
    console.print(for_rich("[/x] [bold]b[/bold] \x1b[31mr"))
    assert console.file.getvalue() == "[/x] [bold]b[/bold] r\n"  # type: ignore[attr-defined]


def _result_with(text: str) -> dict[str, Any]:
    """A graded result document whose every learner-facing string carries ``text``."""
    criterion = {
        "id": "c1",
        "title": "Title " + text,
        "outcome": 1,
        "points": 0,
        "max_points": 10,
        "status": "failed",
        "feedback": "Feedback " + text,
        "detail": "Detail " + text,
        "see": None,
        "tests": [],
    }
    return {
        "lab": {"id": "lab01", "title": "Lab " + text},
        "status": "graded",
        "message": None,
        "criteria": [criterion],
        "score": {"points": 0, "max_points": 10, "percent": 0.0},
        "integrity": {"flags": ["Flag " + text]},
    }


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_render_never_passes_markup_or_control_through(name: str, terminal: bool) -> None:
    buffer = io.StringIO()
    colours = "truecolor" if terminal else None
    console = Console(file=buffer, width=300, force_terminal=terminal, color_system=colours)
    render_result(_result_with(PAYLOADS[name]), console, handout="labs/lab01/README.md")
    shown = buffer.getvalue()
    for forbidden in ("\x1b]", "\x07", "\x9b", "\r", "\u202e", "\x1bP", "\x1b[2J", "\x1b[1A"):
        assert forbidden not in shown
    if not terminal:  # rich adds no styling to a pipe: any ESC would be the payload's
        assert "\x1b" not in shown
    if name == "markup":
        assert "[/x] [bold red]loud[/]" in shown  # shown literally, not interpreted


def test_render_an_error_result_with_markup() -> None:
    result = _result_with("")
    result.update(status="error", message="Refused: [/x] \x1b]0;t\x07 [red]")
    buffer = io.StringIO()
    render_result(result, Console(file=buffer, width=200), handout="README.md")
    assert "Refused: [/x]  [red]" in buffer.getvalue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{work}/submission/api/views.py:3 E501", "api/views.py:3 E501"),
        ("see {work}/submission.", "see your project folder."),
        ("{work}/unpacked/myproject/manage.py", "manage.py"),
        ("{work}/probes/x.json", "<grader work folder>/probes/x.json"),
        (
            "{root}/labs/lab01/hidden/test_health.py:12",
            "<course>/labs/lab01/hidden/test_health.py:12",
        ),
        ("{python}/lib/os.py", "<python>/lib/os.py"),
        ("nothing to see", "nothing to see"),
    ],
)
def test_the_path_scrubber(text: str, expected: str, tmp_path: Path) -> None:
    work = tmp_path / "grader-lab01-abc"
    (work / "unpacked" / "myproject").mkdir(parents=True)
    scrub = PathScrubber()
    scrub.add(work, "<grader work folder>")
    scrub.add_project(work / "submission")
    scrub.add_project(work / "unpacked" / "myproject")
    fill = {"work": str(work), "root": str(ROOT), "python": sys.base_prefix}
    assert scrub(text.format(**fill)) == expected


def test_the_path_scrubber_matches_whole_names_only(tmp_path: Path) -> None:
    """/x/grader-a is not replaced inside /x/grader-ab, nor /x/foo inside /x/foo.py."""
    scrub = PathScrubber()
    scrub.add(tmp_path / "grader-a", "<grader work folder>")
    scrub.add_project(tmp_path / "foo")
    shown = scrub(f"{tmp_path}/grader-ab/x and {tmp_path}/foo.py")
    assert "<grader work folder>" not in shown
    assert "your project folder" not in shown
    assert "grader-ab/x" in shown
    assert "foo.py" in shown


# --- units: the ruff gate (class 6 and ruff's crashes) --------------------------------------------


@pytest.fixture(scope="module")
def lab04() -> Any:
    return load_rubric(ROOT / "labs" / "lab04" / "rubric.toml")


def _solution(lab: str, tmp: Path) -> Path:
    dest = tmp / f"{lab}-solution"
    generate_lab(ROOT / "solutions", lab, "solution", dest)
    return dest


def _ruff(rubric: Any, project: Path, tmp: Path) -> Any:
    gate = next(c.gate for c in rubric.criteria if c.id == "lint")
    staged = stage_submission(project, tmp / "staged")
    return run_ruff("ruff:lint", gates.ruff_config(rubric, gate), staged, tmp / "ruff")


@pytest.mark.parametrize("lab", ["lab04", "lab05", "lab06", "lab07"])
def test_every_solution_passes_ruff_with_noqa_ignored(lab: str, tmp_path: Path) -> None:
    rubric = load_rubric(ROOT / "labs" / lab / "rubric.toml")
    outcome = _ruff(rubric, _solution(lab, tmp_path), tmp_path)
    assert outcome.outcome == "passed", outcome.message


NOQA_SPELLINGS = {
    "file-level-rule": ("# ruff: noqa: FIX002\n", ""),
    "file-level-blanket": ("# ruff: noqa\n", ""),
    "flake8-file-level": ("# flake8: noqa\n", ""),
    "line-rule": ("", "  # noqa: FIX002"),
    "line-blanket": ("", "  # noqa"),
    "line-no-space": ("", "  #noqa:FIX002"),
    "line-upper-case": ("", "  # NOQA: FIX002"),
    "line-two-rules": ("", "  # noqa: FIX002, PGH004"),
}


@pytest.mark.parametrize("spelling", sorted(NOQA_SPELLINGS))
def test_no_noqa_spelling_waves_a_todo_through(spelling: str, lab04: Any, tmp_path: Path) -> None:
    project = _solution("lab04", tmp_path)
    header, trailer = NOQA_SPELLINGS[spelling]
    models = project / "blog" / "models.py"
    todo = "# TODO(lab04): finish the models" + trailer
    models.write_text(header + models.read_text() + "\n\n" + todo + "\n")
    outcome = _ruff(lab04, project, tmp_path)
    assert outcome.outcome == "failed", outcome.message
    assert "FIX002" in outcome.message


RUFF_CRASHERS = {
    "unary-minus": "x = " + "-" * 20_000 + "1\n",
    "binary-chain": "x = " + "1 + " * 20_000 + "1\n",
    "nested-subscripts": "x: " + "[" * 20_000 + "]" * 20_000 + "\n",
    "not-chain": "x = " + "not " * 20_000 + "y\n",
}


@pytest.mark.parametrize("shape", sorted(RUFF_CRASHERS))
def test_a_stub_that_crashes_ruff_is_an_error_naming_it(
    shape: str, lab04: Any, tmp_path: Path
) -> None:
    """A ``.pyi`` stub is never compiled by the syntax check, so ruff meets it: its stack
    overflow is the criterion's error naming the file, never a RubricError (exit 5)."""
    project = _solution("lab04", tmp_path)
    (project / "api" / "types.pyi").write_text(RUFF_CRASHERS[shape])
    outcome = _ruff(lab04, project, tmp_path)
    assert outcome.outcome == "error"
    assert "ruff could not check your project" in outcome.message
    assert "api/types.pyi" in outcome.message
    assert str(tmp_path) not in outcome.message


def test_a_broken_ruff_settings_file_is_still_the_courses_error(tmp_path: Path) -> None:
    """The empty-project probe keeps the distinction: a bad settings file is a rubric bug."""
    config = tmp_path / "ruff.toml"
    config.write_text("[lint]\nselect = ['NOT-A-RULE']\n")
    with pytest.raises(RubricError, match="cannot check any project"):
        gates.check_ruff_config(config)


@pytest.mark.slow
def test_a_ruff_crash_grades_the_rest_and_flags_it(tmp_path: Path) -> None:
    """Through the CLI on lab04: exit 1 (graded), the lint criterion 0 with the sentence, an
    integrity flag, and every other criterion still decided."""
    case = Case(
        "ruff-crash-in-lab04",
        source_file("api/types.pyi", RUFF_CRASHERS["unary-minus"]),
        ("ruff could not check your project", "api/types.pyi"),
        exit_code=1,
        stage=None,
        lab="lab04",
        limited=False,
    )
    output = run_case(case, _solution("lab04", tmp_path), tmp_path / "case")
    _assert_definite(output)
    assert output.result is not None
    criteria = {c["id"]: c for c in output.result["criteria"]}
    assert criteria["lint"]["points"] == 0
    assert any("ruff could not check" in f for f in output.result["integrity"]["flags"])
    assert sum(c["points"] for c in criteria.values()) == 100 - criteria["lint"]["max_points"]
    assert leaks(output, tmp_path / "case") == []
    assert json.dumps(output.result).count("api/types.pyi") >= 1


def test_source_too_deep_for_the_compiler_is_refused_in_process(tmp_path: Path) -> None:
    """check_syntax itself (no CLI): the RecursionError becomes the syntax stage's sentence."""
    from grader.staging.stage import check_syntax

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "deep.py").write_text("x = " + "1 + " * 100_000 + "1\n")
    staged = stage_submission(tree, tmp_path / "staged")
    with pytest.raises(SubmissionError, match="too deeply for Python to compile") as raised:
        check_syntax(staged)
    assert raised.value.stage == "syntax"


def test_unexpected_staging_failures_are_a_status_not_a_crash(
    solution_copy: Path, grade: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError nobody foresaw while staging (here: a file where the grader's work folder
    needs its staging folder) is status error with the safe sentence; the traceback goes to the
    instructor-side debug folder, never into the result."""
    debug = tmp_path / "debug"
    monkeypatch.setenv("GRADER_DEBUG_DIR", str(debug))
    work = tmp_path / "work"
    work.mkdir()
    (work / "submission").write_text("in the way")
    result = grade(solution_copy, keep_workdir=work)
    assert result["status"] == "error"
    assert result["error_stage"] == "stage"
    assert "could not prepare this submission for grading" in result["message"]
    assert "FileExistsError" in result["message"]
    assert "An instructor has the details" in result["message"]
    assert "Traceback" not in json.dumps(result)
    assert str(work) not in json.dumps(result["criteria"]) + result["message"]
    logs = list(debug.glob("*.log"))
    assert len(logs) == 1
    assert "Traceback (most recent call last)" in logs[0].read_text()
    assert logs[0].stat().st_mode & 0o077 == 0


# --- cohort grading uses the same extractor and walk ----------------------------------------------


COHORT_SAMPLE = (
    "zip-file-then-folder",
    "zip-300-char-name",
    "zip-1100-deep",
    "tar-1100-deep",
    "pax-cve-2024-6232-huge",
    "gnu-long-name-2-3-gb",
    "folder-1100-deep",
)


@pytest.mark.parametrize("case_id", COHORT_SAMPLE)
def test_cohort_preparation_refuses_the_corpus_with_the_same_sentence(
    case_id: str, lab01_solution: Path, tmp_path: Path
) -> None:
    """Batch grading unpacks and walks uploads itself (cache, digest) before any grading: the
    same inputs become the learner's ``problem``, never an exception that stops the batch."""
    from grader.instructors.cohort.submissions import Submission, learner_id_of, prepare

    case = next(c for c in CORPUS if c.id == case_id)
    tree = tmp_path / "tree"
    shutil.copytree(lab01_solution, tree)
    built = case.build(tree, tmp_path)
    entry = tmp_path / "uploads" / ("ann" + "".join(built.suffixes) if built.is_file() else "ann")
    entry.parent.mkdir()
    built.rename(entry)
    identified = learner_id_of(entry)
    assert identified is not None
    try:
        prepared = prepare(Submission("ann", identified[1], entry), "lab01", tmp_path / "cache")
    finally:
        remove_tree(entry)
    assert prepared.problem is not None
    flowed = " ".join(prepared.problem.split())
    for phrase in case.phrases:
        assert phrase in flowed, prepared.problem
