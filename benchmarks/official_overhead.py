"""Benchmark: official mode (bubblewrap sandbox, out-of-process checks) against local mode.

    python benchmarks/official_overhead.py [--runs 7] [--lab lab01] [--database sqlite]

Run from the repository root as root, with bubblewrap installed. Every submission (the lab's
generated solution, the committed starter, and the solution with its first mutant applied; the
table does not name the mutant, since BENCHMARKS.md is published to learners) is graded
with ``python -m grader grade LAB --database DB --submission … --output …`` in both modes
(``postgres``: a cluster the grader starts, in official mode inside the sandbox), interleaved
round by round so that machine noise hits both alike. One warm-up round is not counted. Prints
a Markdown table for BENCHMARKS.md: the median per submission and mode, and official's ratio to
local measured in the same run.
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
sys.path.insert(0, str(ROOT))

from grader.course.mutants import apply_mutant, load_mutants  # noqa: E402  (needs ROOT on the path)
from grader.rubric import load_rubric  # noqa: E402


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        output = done.stdout.decode() + done.stderr.decode()
        raise SystemExit(f"{' '.join(command)} failed:\n{output}")
    return elapsed


def submissions(work: Path, lab: str) -> dict[str, Path]:
    solution = work / "solution"
    subprocess.run(
        [sys.executable, "-m", "grader.course.labgen", "solution", lab, str(solution)],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    mutant_tree = work / "mutant"
    shutil.copytree(solution, mutant_tree)
    rubric = load_rubric(ROOT / "labs" / lab / "rubric.toml")
    ids = {c.id for c in rubric.criteria}
    mutant = load_mutants(ROOT / "labs" / lab / "hidden" / "mutants.toml", ids)[0]
    apply_mutant(mutant_tree, mutant)
    lost = sum(c.points for c in rubric.criteria if c.id in mutant.loses)
    return {
        "solution (100/100)": solution,
        "starter (0/100)": ROOT / "labs" / lab / "starter",
        f"solution with one mutant ({100 - lost}/100)": mutant_tree,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--lab", default="lab01")
    parser.add_argument("--database", default="sqlite", help="sqlite or postgres")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-official-"))
    out = work / "result.json"
    cases = submissions(work, args.lab)
    base = [sys.executable, "-m", "grader", "grade", args.lab, "--database", args.database,
            "--output", str(out)]  # fmt: skip
    commands = {
        (name, mode): [*base, "--submission", str(path), *(["--official"] if mode else [])]
        for name, path in cases.items()
        for mode in (False, True)
    }
    for command in commands.values():  # warm-up round, not counted
        timed(command)
    samples: dict[tuple[str, bool], list[float]] = {key: [] for key in commands}
    for _ in range(args.runs):
        for key, command in commands.items():
            samples[key].append(timed(command))
    shutil.rmtree(work)
    print("| submission | local median (s) | official median (s) | official / local |")
    print("|---|---|---|---|")
    ratios = []
    for name in cases:
        local = statistics.median(samples[(name, False)])
        official = statistics.median(samples[(name, True)])
        ratios.append(official / local)
        print(f"| {name} | {local:.2f} | {official:.2f} | {official / local:.2f}x |")
    print(
        f"\n{args.lab} on {args.database}: {args.runs} interleaved rounds after one warm-up "
        f"round; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the end; "
        f"Python {sys.version.split()[0]}; median ratio {statistics.median(ratios):.2f}x."
    )


if __name__ == "__main__":
    main()
