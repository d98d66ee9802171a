"""Benchmark: cohort grading throughput with 1 and 2 workers, and the cost of resuming a kill.

    python benchmarks/cohort_throughput.py [--submissions 24]

Run from the repository root with the instructor extra installed. It builds N submission folders
(lab01's generated solution, its starter and two mutants, round robin, one per learner), then:

1. grades them all with ``--workers 1`` into a fresh gradebook, then with ``--workers 2`` into
   another one: wall-clock times and their ratio (same submissions, same machine, same run);
2. grades them with ``--workers 2`` into a third gradebook, ``kill -9``s the command once half
   the results are recorded, and runs it again: the killed run's time plus the re-run's, against
   the uninterrupted two-worker time (the cost of the kill is the grading lost in flight plus a
   second start);
3. runs the command once more with everything recorded: what a no-op re-run costs.

Prints a Markdown table for BENCHMARKS.md. Timing is never asserted by the test suite.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.course.mutants import apply_mutant, load_mutants  # noqa: E402
from grader.rubric import load_rubric  # noqa: E402


def variants(work: Path) -> list[Path]:
    solution = work / "variants" / "solution"
    subprocess.run(
        [sys.executable, "-m", "grader.course.labgen", "solution", "lab01", str(solution)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    lab = ROOT / "labs" / "lab01"
    ids = {c.id for c in load_rubric(lab / "rubric.toml").criteria}
    found = [solution, lab / "starter"]
    for mutant in load_mutants(lab / "hidden" / "mutants.toml", ids)[:2]:
        dest = work / "variants" / mutant.id
        shutil.copytree(solution, dest)
        apply_mutant(dest, mutant)
        found.append(dest)
    return found


def cohort_args(work: Path, gradebook: Path, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "grader",
        "cohort",
        "grade",
        "--lab",
        "lab01",
        "--submissions",
        str(work / "submissions"),
        "--roster",
        str(work / "roster.csv"),
        "--gradebook",
        str(gradebook),
        "--cache",
        str(work / "cache"),
        "--workers",
        str(workers),
        "--no-progress",
    ]


CPU: list[float] = []  # CPU seconds (all descendants) of each timed run, in order


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str]) -> float:
    """Wall-clock seconds of ``command``; its CPU seconds (with its workers' and their checks',
    all waited for) are appended to CPU."""
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    CPU.append(_children_cpu() - cpu)
    return time.perf_counter() - start


def recorded(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
            return int(connection.execute("SELECT count(*) FROM results").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=1, help="1-worker/2-worker pairs")
    args = parser.parse_args()
    n = args.submissions
    work = Path(tempfile.mkdtemp(prefix="bench-cohort-"))
    sources = variants(work)
    learners = [f"learner{i:03d}" for i in range(n)]
    for index, learner in enumerate(learners):
        shutil.copytree(
            sources[index % len(sources)],
            work / "submissions" / learner,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    with (work / "roster.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["learner_id", "name", "email"])
        writer.writerows([learner, learner, f"{learner}@example.org"] for learner in learners)

    load_before = os.getloadavg()[0]
    ones: list[float] = []
    twos: list[float] = []
    for round_ in range(args.rounds):  # interleaved, so that machine noise hits both alike
        ones.append(timed(cohort_args(work, work / f"one-{round_}.sqlite3", 1)))
        twos.append(timed(cohort_args(work, work / f"two-{round_}.sqlite3", 2)))
    one, two = statistics.median(ones), statistics.median(twos)
    # Cores actually used on average: CPU seconds over wall seconds (ideal: 1.0 and 2.0).
    used_one = statistics.median(CPU[0::2][: args.rounds]) / one
    used_two = statistics.median(CPU[1::2][: args.rounds]) / two

    db = work / "resume.sqlite3"
    start = time.perf_counter()
    first = subprocess.Popen(
        cohort_args(work, db, 2), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    while recorded(db) < n // 2 and first.poll() is None:
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    killed_after = time.perf_counter() - start
    kept = recorded(db)
    rerun = timed(cohort_args(work, db, 2))
    noop = timed(cohort_args(work, db, 2))
    assert recorded(db) == n, "every submission graded exactly once"

    print(
        f"{n} submissions of lab01; {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"{args.rounds} round(s), medians; load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after"
    )
    rounds = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(ones, twos, strict=True))
    print(f"each round, 1 worker/2 workers (s): {rounds}")
    print()
    print(f"cores busy on average: {used_one:.2f} with 1 worker, {used_two:.2f} with 2 workers")
    print()
    print("| run | wall time (s) | per submission (s) | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| `--workers 1` | {one:.1f} | {one / n:.2f} | 1.00x |")
    print(f"| `--workers 2` | {two:.1f} | {two / n:.2f} | {one / two:.2f}x faster |")
    print(f"| `--workers 2`, `kill -9` after {kept} recorded | {killed_after:.1f} | | |")
    print(f"| re-run: grades the other {n - kept} | {rerun:.1f} | {rerun / (n - kept):.2f} | |")
    print(
        f"| killed + re-run vs uninterrupted | {killed_after + rerun:.1f} | | "
        f"{(killed_after + rerun) / two:.2f}x the time |"
    )
    print(f"| no-op re-run (all {n} up to date) | {noop:.1f} | {noop / n:.3f} | |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
