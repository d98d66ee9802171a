"""Official mode never crashes and never leaks on input (issue 14, classes 3 and 5).

- The trusted report can be made unreadable (over its cap, missing, malformed). The runner used
  to raise with the last 1,500 characters of the sandbox and trusted logs, which quoted a
  hidden check's failing line to the learner. Now it is status ``error`` with a sentence that
  quotes nothing, and the logs go to the instructor-side debug folder only. The variants here
  sabotage the report from a variant lab's own hidden check (trusted code, run where the
  trusted process runs), so the same path is taken whatever inflates the report.
- A sample of the local corpus (:mod:`tests.hostile`) is refused the same way in official mode,
  through the command line, and the escape payload is rendered inert there too.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from grader.executors.official.runner import REPORT_UNREADABLE
from tests.grader.test_hostile_input import CORPUS, _assert_definite
from tests.hostile import leaks, remove_tree, run_case
from tests.official.conftest import lab01_variant

pytestmark = pytest.mark.slow

MARKER = "hidden_marker_7f3a9c"

SABOTAGE = {
    # Each runs in the trusted process at exit, after it wrote its report.
    "inflated": "open(report, 'a').write(' ' * (2 * 1024 * 1024))",
    "deleted": "os.unlink(report)",
    "malformed": "open(report, 'w').write('{\"tests\": [')",
}


def _checks(sabotage: str) -> str:
    return textwrap.dedent(
        f"""
        import atexit
        import json
        import os
        import sys


        def _sabotage():
            report = json.loads(open(sys.argv[-1]).read())["report_file"]
            {SABOTAGE[sabotage]}


        atexit.register(_sabotage)


        def test_secret(api):
            response = api.get("/api/health/")
            assert response.status == 999 and "{MARKER}" != "", "the extra check failed"
        """
    )


CRITERION = textwrap.dedent(
    """

    [[criteria]]
    id = "secret"
    title = "A criterion whose check sabotages the report"
    points = 5
    outcome = 1
    checks = ["test_secret.py::test_secret"]
    feedback = "n/a"
    """
)


@pytest.mark.parametrize("sabotage", sorted(SABOTAGE))
def test_an_unreadable_trusted_report_is_an_error_that_quotes_nothing(
    sabotage: str,
    official: Any,
    lab01_solution: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    debug = tmp_path / "debug"
    monkeypatch.setenv("GRADER_DEBUG_DIR", str(debug))
    lab = lab01_variant(tmp_path, "test_secret.py", _checks(sabotage), CRITERION)
    result = official(lab01_solution, lab_dir=lab)
    assert result["status"] == "error", result["message"]
    assert result["error_stage"] == "checks"
    assert result["message"] == REPORT_UNREADABLE
    shown = json.dumps(result)
    assert MARKER not in shown
    assert "Traceback" not in shown
    assert "assert " not in shown
    logs = list(debug.glob("*.log"))
    assert len(logs) == 1
    kept = logs[0].read_text()
    assert MARKER in kept, "the instructor's copy should hold the logs the learner never sees"
    assert logs[0].stat().st_mode & 0o077 == 0


SAMPLE = (
    "zip-file-then-folder",
    "zip-300-char-name",
    "zip-1100-deep",
    "folder-1100-deep",
    "tar-1100-deep",
    "pax-cve-2024-6232-digits",
    "gnu-long-name-2-3-gb",
    "binary-chain-100000",
    "feedback-quotes-markup-and-escapes",
)


@pytest.mark.parametrize("case_id", SAMPLE)
def test_the_corpus_sample_is_handled_in_official_mode(
    case_id: str, official_available: None, lab01_solution: Path, tmp_path: Path
) -> None:
    case = next(c for c in CORPUS if c.id == case_id)
    try:
        output = run_case(case, lab01_solution, tmp_path, "--official")
    finally:
        remove_tree(tmp_path / "submission")
    _assert_definite(output)
    assert output.result is not None
    assert output.result["mode"] == "official"
    assert leaks(output, tmp_path) == []
