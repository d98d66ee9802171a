"""Benchmark: the Celery worker pool against the local pool, same submissions, same machine.

    python benchmarks/celery_throughput.py [--submissions 24] [--concurrency 2]

Run from the repository root with the instructor extra installed and Redis running
(``GRADER_CELERY_BROKER``, default ``redis://127.0.0.1:6379/14``: a database of its own). It
builds N submission folders (lab01's generated solution, its starter and two mutants, round
robin, as ``cohort_throughput.py`` does), then, in one run:

1. grades them with the local pool, ``--workers C``, into a fresh gradebook;
2. starts one Celery worker on this machine, ``--pool=prefork --concurrency=C``, on a queue of
   its own, waits until it answers (start-up is not timed: a pool is started once per term, not
   per run), and grades them with ``--backend celery`` into another fresh gradebook;
3. checks that both gradebooks hold the same points for every learner, and stops the worker.

Reported: wall time of each, throughput ratio (local time over Celery time: above 1.0x, Celery
was faster), and the CPU seconds each used (the dispatcher's and the worker's processes, with
everything they ran), so that a machine shared with other work cannot pass for a slow pool.
Timing is never asserted by the test suite.
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
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cohort_throughput import variants  # noqa: E402

from grader.instructors.distributed.app import make_app  # noqa: E402
from grader.instructors.distributed.dispatch import consuming_workers  # noqa: E402

DEFAULT_BROKER = "redis://127.0.0.1:6379/14"


def grade_command(work: Path, gradebook: Path, extra: list[str]) -> list[str]:
    return [
        sys.executable, "-m", "grader", "cohort", "grade", "--lab", "lab01",
        "--submissions", str(work / "submissions"), "--roster", str(work / "roster.csv"),
        "--gradebook", str(gradebook), "--cache", str(work / "cache"), "--no-progress", *extra,
    ]  # fmt: skip


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tree_cpu(pid: int) -> float:
    """CPU seconds of a live process and its live children, each with what it waited for."""
    total = 0.0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            t = proc.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            continue
    return total


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """``(wall seconds, CPU seconds)`` of ``command`` and everything it waited for."""
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return wall, children_cpu() - cpu


def points(db: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT learner_id, points FROM results").fetchall()
    return {str(learner): int(score) for learner, score in rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=24)
    parser.add_argument("--concurrency", type=int, default=2, help="local workers = Celery's")
    args = parser.parse_args()
    n, c = args.submissions, args.concurrency
    broker = os.environ.get("GRADER_CELERY_BROKER") or DEFAULT_BROKER
    queue = f"bench-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "GRADER_CELERY_BROKER": broker, "GRADER_CELERY_QUEUE": queue}
    env.pop("GRADER_CELERY_BACKEND", None)

    work = Path(tempfile.mkdtemp(prefix="bench-celery-"))
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
    local_db = work / "local.sqlite3"
    local_wall, local_cpu = timed(grade_command(work, local_db, ["--workers", str(c)]), env)

    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "grader.instructors.distributed.app", "worker",
            "--pool=prefork", f"--concurrency={c}", "-Q", queue, "-n", f"{queue}@%h",
            "--loglevel=WARNING", "--without-gossip", "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        app = make_app(broker, broker)
        deadline = time.monotonic() + 120
        while not consuming_workers(app, queue, timeout=1.0):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the Celery worker did not start")
        worker_cpu = tree_cpu(worker.pid)
        celery_db = work / "celery.sqlite3"
        celery_wall, dispatcher_cpu = timed(
            grade_command(work, celery_db, ["--backend", "celery", "--queue", queue]), env
        )
        worker_cpu = tree_cpu(worker.pid) - worker_cpu
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        import redis  # the run's own queue keys (the queue name is unique to this run)

        redis.Redis.from_url(broker).delete(
            queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
        )
    same = points(local_db) == points(celery_db)
    if not same or len(points(celery_db)) != n:
        raise SystemExit("the two pools disagree: every learner must get the same points")
    celery_cpu = dispatcher_cpu + worker_cpu

    print(
        f"{n} submissions of lab01; {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; broker {broker}"
    )
    print()
    print("| pool | wall time (s) | per submission (s) | CPU (s) | cores busy | throughput |")
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| local, `--workers {c}` | {local_wall:.1f} | {local_wall / n:.2f} | {local_cpu:.1f} "
        f"| {local_cpu / local_wall:.2f} | 1.00x |"
    )
    print(
        f"| Celery, 1 worker `--concurrency={c}` | {celery_wall:.1f} | {celery_wall / n:.2f} | "
        f"{celery_cpu:.1f} | {celery_cpu / celery_wall:.2f} | {local_wall / celery_wall:.2f}x |"
    )
    print()
    print(f"Same points for all {n} learners in both gradebooks: {same}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
