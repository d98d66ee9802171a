"""Benchmark: what lab09's throwaway Redis and Celery worker cost a grading (issue 17).

    python benchmarks/lab09_services.py [--runs 5]

Interleaved, round by round, in one run:

- ``throwaway``: ``python -m grader grade lab09`` on lab09's generated solution as a learner runs
  it: the grader starts a redis-server of its own for the grading;
- ``reused``: the same grading with ``GRADER_REDIS_URL`` naming a Redis that is already running
  (one this script started, never the machine's shared one: the grader empties it);
- ``redis``: a throwaway redis-server started until it answers PING, then stopped, alone;
- ``worker``: the embedded Celery worker of the ``tasks`` fixture started and stopped, alone,
  in a Django process of the solution (the broker already running).

The aim is throwaway Redis + worker <= 1.5 s. Prints a Markdown table for BENCHMARKS.md with
the load average. Run from the repository root inside the tests environment.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.redisserver import throwaway_redis  # noqa: E402

WORKER_SCRIPT = r"""
import os, sys, time
sys.path.insert(0, ".")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
import django
django.setup()
from celery.contrib.testing.worker import start_worker
from config.celery import app
started = time.perf_counter()
with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
    ready = time.perf_counter()
print(f"{ready - started:.4f} {time.perf_counter() - started:.4f}")
"""


def timed(
    command: list[str], cwd: Path, env: dict[str, str], allowed: tuple[int, ...] = (0,)
) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in allowed:
        output = (done.stdout.decode() + done.stderr.decode())[-3000:]
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{output}")
    return elapsed


def redis_once() -> float:
    start = time.perf_counter()
    with throwaway_redis():
        pass
    return time.perf_counter() - start


def worker_once(solution: Path, broker: str) -> float:
    env = {**os.environ, "CELERY_BROKER_URL": broker}
    done = subprocess.run(
        [sys.executable, "-c", WORKER_SCRIPT], cwd=solution, env=env, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {"throwaway": [], "reused": [], "redis": [], "worker": []}
    with tempfile.TemporaryDirectory(prefix="bench-lab09-") as tmp, throwaway_redis() as server:
        solution = Path(tmp) / "solution"
        subprocess.run(
            [sys.executable, "-m", "grader.course.labgen", "solution", "lab09", str(solution)],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        base = {k: v for k, v in os.environ.items() if k != "GRADER_REDIS_URL"}
        grade = [sys.executable, "-m", "grader", "grade", "lab09", "--submission", str(solution),
                 "--database", "sqlite", "--output", str(Path(tmp) / "result.json")]  # fmt: skip
        for _ in range(args.runs):
            samples["throwaway"].append(timed(grade, ROOT, base))
            reused = {**base, "GRADER_REDIS_URL": server.url(2)}
            # Exit 1 (graded, not full marks) is expected here: with GRADER_REDIS_URL the grader
            # cannot take that Redis away, so the redis-down criterion fails (docs/grader.md).
            samples["reused"].append(timed(grade, ROOT, reused, allowed=(0, 1)))
            samples["redis"].append(redis_once())
            samples["worker"].append(worker_once(solution, server.url(0)))
    load = os.getloadavg()
    baseline = statistics.median(samples["reused"])
    print(f"{args.runs} rounds, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}\n")
    print("| measurement | median (s) | min-max (s) | ratio to reused |")
    print("|---|---:|---:|---:|")
    for name, values in samples.items():
        median = statistics.median(values)
        ratio = f"{median / baseline:.2f}x" if name in ("throwaway", "reused") else ""
        print(f"| {name} | {median:.2f} | {min(values):.2f}-{max(values):.2f} | {ratio} |")
    together = statistics.median(samples["redis"]) + statistics.median(samples["worker"])
    print(f"\nthrowaway Redis + worker start and stop, medians added: {together:.2f} s")


if __name__ == "__main__":
    main()
