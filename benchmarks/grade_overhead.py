"""Benchmark: what grading lab01 costs on top of running its rubric checks with bare pytest.

    python benchmarks/grade_overhead.py [--runs 11]

Run from the repository root after `nox -s grade lab01` has created `.nox/grade` once (the
benchmark measures the reused environment, as a learner's second and later runs are). All
commands grade the same submission (lab01's generated solution) and run the same hidden checks;
they are interleaved round by round so that machine noise hits each command alike, and the
figures are medians. Prints a Markdown table for BENCHMARKS.md: absolute times and each
command's ratio to the bare-pytest baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRADE_PYTHON = ROOT / ".nox" / "grade" / "bin" / "python"


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        output = done.stdout.decode() + done.stderr.decode()
        raise SystemExit(f"{' '.join(command)} failed:\n{output}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    if not GRADE_PYTHON.exists():
        raise SystemExit("Run `nox -s grade lab01` once first, so .nox/grade exists.")
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    solution = work / "solution"
    labgen = [str(GRADE_PYTHON), "-m", "grader.course.labgen"]
    subprocess.run([*labgen, "solution", "lab01", str(solution)],
                   cwd=ROOT, check=True, capture_output=True)
    ini = work / "bare.ini"
    ini.write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTEST"))}
    bare_env = {
        **env,
        "PYTHONPATH": str(solution),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    out = work / "result.json"
    nox = [sys.executable, "-m", "nox"]
    commands = {
        "bare pytest on the rubric checks (baseline)": (
            [str(GRADE_PYTHON), "-m", "pytest", "-q", "-c", str(ini), "--rootdir",
             str(ROOT / "labs/lab01/hidden"), "-p", "grader.executors.harness.fixtures",
             "--no-migrations",
             "-p", "no:cacheprovider", str(ROOT / "labs/lab01/hidden")],
            solution, bare_env),
        "python -m grader grade lab01": (
            [str(GRADE_PYTHON), "-m", "grader", "grade", "lab01", "--submission", str(solution),
             "--output", str(out)], ROOT, env),
        "nox -s grade -- lab01": (
            [*nox, "-s", "grade", "--", "lab01", "--submission", str(solution), "--output",
             str(out)], ROOT, env),
        "nox -s grade lab01": (
            [*nox, "-s", "grade", "lab01", "--", "--submission", str(solution), "--output",
             str(out)], ROOT, env),
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for command, cwd, cmd_env in commands.values():  # warm-up round, not counted
        timed(command, cwd, cmd_env)
    for _ in range(args.runs):
        for name, (command, cwd, cmd_env) in commands.items():
            samples[name].append(timed(command, cwd, cmd_env))
    shutil.rmtree(work)
    baseline = statistics.median(next(iter(samples.values())))
    print("| command | median (s) | min-max (s) | ratio to baseline |\n|---|---|---|---|")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"| `{name}` | {median:.2f} | {min(values):.2f}-{max(values):.2f} | "
              f"{median / baseline:.2f}x |")
    print(f"\n{args.runs} interleaved rounds after one warm-up round; {os.cpu_count()} cores; "
          f"Python {sys.version.split()[0]}.")


if __name__ == "__main__":
    main()
