"""Benchmark: a local grading against the longest of its stages run bare (issue 12, goal 1).

    python benchmarks/grade_stages.py [--lab lab07] [--runs 5] [--database sqlite|postgres://...]

A grading of a lab with quality gates runs three stages: the hidden checks, the learner's own
tests under coverage, and ruff. This runs each of them bare (plain pytest, coverage.py and ruff
in the same environment, on the lab's generated solution, with the same settings and database),
then `python -m grader grade LAB` as a learner runs it (stages side by side) and with `--serial`
(one after the other, as before), interleaved round by round. The goal is grading <= 1.15x the
longest bare stage. Prints a Markdown table for BENCHMARKS.md, with the cores the run had.
Run from the repository root inside the tests environment (`. .nox/tests/bin/activate`).
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
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        output = (done.stdout.decode() + done.stderr.decode())[-3000:]
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{output}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lab", default="lab07")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", default="sqlite")
    args = parser.parse_args()
    rubric = tomllib.loads((ROOT / "labs" / args.lab / "rubric.toml").read_text())
    gates = {c.get("kind"): c for c in rubric["criteria"] if c.get("kind")}
    if "learner-tests" not in gates:
        raise SystemExit(f"{args.lab} has no learner-tests gate; pick a lab from lab04 on.")
    own, lint = gates["learner-tests"], gates.get("ruff")
    work = Path(tempfile.mkdtemp(prefix="bench-stages-"))
    solution = work / "solution"
    python = sys.executable
    subprocess.run([python, "-m", "grader.course.labgen", "solution", args.lab, str(solution)],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    ini = work / "bare.ini"
    ini.write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    database_url = "sqlite:///:memory:" if args.database == "sqlite" else args.database
    bare_env = {
        **env,
        "PYTHONPATH": str(solution),
        "DJANGO_SETTINGS_MODULE": rubric["settings_module"],
        "DATABASE_URL": database_url,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    hidden = ROOT / "labs" / args.lab / "hidden"
    migrations = [] if rubric.get("migrations") else ["--no-migrations"]
    out = work / "result.json"
    grade = [python, "-m", "grader", "grade", args.lab, "--submission", str(solution),
             "--database", args.database, "--output", str(out)]  # fmt: skip
    commands: dict[str, tuple[list[str], Path, dict[str, str]]] = {
        "hidden checks, bare pytest": (
            [python, "-m", "pytest", "-q", "-c", str(ini), "--rootdir", str(hidden), "-p",
             "grader.executors.harness.fixtures", *migrations, "-p", "no:cacheprovider",
             str(hidden)],
            solution, bare_env),
        "learner tests under coverage, bare": (
            [python, "-m", "coverage", "run", "--data-file", str(work / ".coverage"),
             f"--source={','.join(own['cover'])}", "-m", "pytest", "-q", "-c", str(ini),
             "-p", "no:cacheprovider", own["tests"]],
            solution, bare_env),
    }
    if lint:
        config = (ROOT / "labs" / args.lab / lint["config"]).resolve()
        commands["ruff, bare"] = (
            [python, "-m", "ruff", "check", "--config", str(config), "--no-cache",
             "--exit-zero", "."], solution, env)  # fmt: skip
    commands["grader: stages one after the other (--serial)"] = ([*grade, "--serial"], ROOT, env)
    commands["grader: stages side by side (default)"] = (grade, ROOT, env)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for command, cwd, cmd_env in commands.values():  # warm-up round, not counted
        timed(command, cwd, cmd_env)
    for _ in range(args.runs):
        for name, (command, cwd, cmd_env) in commands.items():
            samples[name].append(timed(command, cwd, cmd_env))
    shutil.rmtree(work, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    stages = [name for name in commands if not name.startswith("grader")]
    longest = max(stages, key=lambda name: medians[name])
    print(f"Lab {args.lab}, database {args.database.split('://')[0]}; baseline: the longest "
          f"bare stage ({longest}).\n")  # fmt: skip
    print("| command | median (s) | min-max (s) | ratio to baseline |\n|---|---|---|---|")
    for name, values in samples.items():
        print(f"| {name} | {medians[name]:.2f} | {min(values):.2f}-{max(values):.2f} | "
              f"{medians[name] / medians[longest]:.2f}x |")  # fmt: skip
    print(f"\n{args.runs} interleaved rounds after one warm-up round; {os.cpu_count()} cores "
          f"(usable: {len(os.sched_getaffinity(0))}); load average at the end "
          f"{os.getloadavg()[0]:.1f}; Python {sys.version.split()[0]}.")  # fmt: skip


if __name__ == "__main__":
    main()
