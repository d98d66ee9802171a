"""The Celery worker pool on the real Redis, with real worker processes.

One ``celery -A grader.instructors.distributed.app worker --pool=prefork --concurrency=2`` is
started for the module, on a queue of its own (a fresh name per run) and a Redis database of its own
(13, or ``GRADER_TEST_REDIS_URL``), so other people's tests and workers on the same Redis are never
touched. Ten submissions are graded through it with the real command and compared, criterion by
criterion, with the local pool's grading of the same submissions; the last test stops the worker
and proves that no process of it is left.

Without Redis the module skips and says why, except on CI (``CI=true``), where it fails:
``.ci/run`` starts Redis when it is not running.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
from rich.console import Console

from grader.errors import GraderError, UsageError
from grader.instructors.cohort.jobs import GradeJob, checks_digest
from grader.instructors.cohort.run import CohortOptions, plan_cohort
from grader.instructors.distributed import dispatch
from grader.instructors.distributed.app import make_app
from grader.instructors.distributed.dispatch import consuming_workers, grade_cohort_celery, task_id
from grader.instructors.distributed.tasks import TASK_NAME, WorkerSetupError, grade_on_worker
from grader.instructors.gradebook import Gradebook, gradebook_url
from tests.instructor.conftest import EXPECTED_POINTS, add_submission, grader_cli, write_roster
from tests.support import ROOT

REDIS_URL = os.environ.get("GRADER_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
LAB01 = ROOT / "labs" / "lab01"

# Ten learners, the four lab01 variants in every submission form the cohort runner reads.
COHORT = {
    "c01": ("solution", "folder"),
    "c02": ("starter", "folder"),
    "c03": ("prod-secret-has-default", "zip"),
    "c04": ("api-not-routed", "targz"),
    "c05": ("solution", "git"),
    "c06": ("starter", "zip"),
    "c07": ("prod-secret-has-default", "folder"),
    "c08": ("api-not-routed", "bare"),
    "c09": ("solution", "course-clone"),
    "c10": ("prod-secret-has-default", "targz"),
}


def redis_url() -> str:
    """:data:`REDIS_URL` if Redis answers there; skip (fail on CI) otherwise."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


@dataclass
class Workers:
    """The worker started for this module. ``seen`` holds every process of it observed."""

    url: str
    queue: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path
    seen: dict[int, float] = field(default_factory=dict)  # pid: create time (pids get reused)

    def app(self) -> Any:
        return make_app(self.url, self.url)

    def observe(self) -> None:
        """Remember the worker and its pool processes, to check later that all are gone."""
        try:
            main = psutil.Process(self.process.pid)
            for proc in [main, *main.children(recursive=True)]:
                self.seen[proc.pid] = proc.create_time()
        except psutil.NoSuchProcess:
            pass

    def alive(self) -> list[str]:
        """Processes of this worker still running: those observed, and any naming its queue."""
        found = []
        for pid, created in self.seen.items():
            try:
                proc = psutil.Process(pid)
                if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                    found.append(f"{pid} {' '.join(proc.cmdline())}")
            except psutil.NoSuchProcess:
                continue
        for proc in psutil.process_iter(["pid", "cmdline"]):
            cmdline = " ".join(proc.info["cmdline"] or [])
            if self.queue in cmdline and proc.info["pid"] not in self.seen:
                found.append(f"{proc.info['pid']} {cmdline}")
        return found

    def stop(self) -> int | None:
        """Warm shutdown (SIGTERM: finish the task in hand, then exit); the exit code."""
        if self.process.poll() is None:
            self.observe()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # its own session: only ours
                self.process.wait(timeout=30)
        return self.process.returncode


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    url = redis_url()
    queue = f"grader-test-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "GRADER_CELERY_BROKER": url, "GRADER_CELERY_QUEUE": queue}
    env.pop("GRADER_CELERY_BACKEND", None)
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "grader.instructors.distributed.app",
                "worker",
                "--pool=prefork",
                "--concurrency=2",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a last-resort kill hits only it
        )
    pool = Workers(url, queue, env, process, log)
    try:
        deadline = time.monotonic() + 90
        while not consuming_workers(pool.app(), queue, timeout=1.0):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{log.read_text()[-3000:]}")
        pool.observe()
        yield pool
    finally:
        pool.stop()
        import redis  # the queue's own keys: the queue name is unique to this run

        redis.Redis.from_url(url).delete(
            queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
        )


# -- without workers ------------------------------------------------------------------------


def _job(**changes: Any) -> GradeJob:
    base = {
        "learner_id": "ann",
        "lab": "lab01",
        "course_root": str(ROOT),
        "project": str(LAB01 / "starter"),
        "submission_digest": "sha256:" + "1" * 64,
        "checks_digest": checks_digest(LAB01),
        "source": "folder",
    }
    return GradeJob(**{**base, **changes})


def test_task_id_names_the_job_content() -> None:
    assert task_id(_job()) == task_id(_job())
    assert task_id(_job()) != task_id(_job(submission_digest="sha256:" + "2" * 64))
    assert task_id(_job()) != task_id(_job(checks_digest="sha256:other"))
    assert task_id(_job()).startswith("grade-")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"project": "/nonexistent/ann"}, "cannot see the submission at /nonexistent/ann"),
        ({"course_root": "/nonexistent"}, "cannot see the course at /nonexistent"),
        ({"checks_digest": "sha256:planned-elsewhere"}, "other checks for lab01"),
    ],
)
def test_a_worker_refuses_a_job_it_cannot_grade_as_planned(
    changes: dict[str, str], message: str
) -> None:
    with pytest.raises(WorkerSetupError, match=message):
        grade_on_worker(_job(**changes).to_dict())


def test_an_unreachable_broker_is_one_clear_sentence() -> None:
    app = make_app("redis://127.0.0.1:1/0", "redis://127.0.0.1:1/0")
    with pytest.raises(
        UsageError, match=r"Cannot reach the Celery broker at redis://127\.0\.0\.1:1"
    ):
        consuming_workers(app, "grader", timeout=0.5)


def test_no_worker_on_the_queue_stops_at_once(tmp_path: Path) -> None:
    url = redis_url()
    add_submission(tmp_path / "subs", "ann", LAB01 / "starter", "folder")
    options = CohortOptions(
        course_root=ROOT,
        lab="lab01",
        submissions=tmp_path / "subs",
        roster=write_roster(tmp_path / "roster.csv", ["ann"]),
        cache=tmp_path / "cache",
        progress=False,
    )
    started = time.monotonic()
    with (
        Gradebook.open(gradebook_url(str(tmp_path / "gb.sqlite3"), ROOT)) as gradebook,
        pytest.raises(UsageError, match="No Celery worker consumes the queue 'nobody-"),
    ):
        grade_cohort_celery(
            options,
            gradebook,
            Console(quiet=True),
            queue=f"nobody-{uuid.uuid4().hex[:8]}",
            app=make_app(url, url),
        )
    assert time.monotonic() - started < 30
    with Gradebook.open(gradebook_url(str(tmp_path / "gb.sqlite3"), ROOT)) as gradebook:
        assert gradebook.results_count("lab01") == 0


# -- through real workers --------------------------------------------------------------------


@pytest.mark.slow
def test_ten_submissions_through_real_workers_score_as_the_local_pool(
    workers: Workers, lab01_variants: dict[str, Path], tmp_path: Path
) -> None:
    subs = tmp_path / "submissions"
    for learner, (variant, form) in COHORT.items():
        add_submission(subs, learner, lab01_variants[variant], form)
    roster = write_roster(tmp_path / "roster.csv", COHORT)
    gradebook_file = tmp_path / "celery.sqlite3"
    args = [
        "cohort", "grade", "--lab", "lab01", "--submissions", str(subs),
        "--roster", str(roster), "--gradebook", str(gradebook_file),
        "--cache", str(tmp_path / "cache"), "--no-progress",
        "--backend", "celery", "--queue", workers.queue,
    ]  # fmt: skip
    import redis

    mailbox = redis.Redis.from_url(workers.url)
    stored_before = set(mailbox.keys("celery-task-meta-*"))
    done = grader_cli(*args, env=workers.env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "graded 10, already graded and unchanged 0" in done.stdout
    workers.observe()

    # The local pool grades one submission of each variant: the reference.
    local_subs = tmp_path / "local"
    for variant in EXPECTED_POINTS:
        add_submission(local_subs, f"ref-{variant}", lab01_variants[variant], "folder")
    local_roster = write_roster(tmp_path / "local.csv", [f"ref-{v}" for v in EXPECTED_POINTS])
    local = grader_cli(
        "cohort", "grade", "--lab", "lab01", "--submissions", str(local_subs),
        "--roster", str(local_roster), "--gradebook", str(tmp_path / "local.sqlite3"),
        "--workers", "2", "--no-progress",
    )  # fmt: skip
    assert local.returncode == 0, local.stderr

    def criteria(document: dict[str, Any]) -> list[tuple[str, str, int]]:
        return [(c["id"], c["status"], c["points"]) for c in document["criteria"]]

    with Gradebook.open(gradebook_url(str(tmp_path / "local.sqlite3"), ROOT)) as gradebook:
        reference = {g.learner.id.removeprefix("ref-"): g for g in gradebook.grades("lab01")}
    with Gradebook.open(gradebook_url(str(gradebook_file), ROOT)) as gradebook:
        grades = {g.learner.id: g for g in gradebook.grades("lab01")}
        assert gradebook.results_count("lab01") == 10
        assert sorted(grades) == sorted(COHORT)
        for learner, (variant, _form) in COHORT.items():
            mine, local_grade = grades[learner], reference[variant]
            assert mine.status == local_grade.status == "graded", learner
            assert mine.points == local_grade.points == EXPECTED_POINTS[variant], learner
            assert criteria(mine.document) == criteria(local_grade.document), learner
            assert mine.document["submission"]["digest"] == local_grade.submission_digest
            assert mine.submission_digest == mine.document["submission"]["digest"]

    # Resumable as the local pool is: nothing left to grade, nothing sent.
    again = grader_cli(*args, env=workers.env)
    assert again.returncode == 0, again.stderr
    assert "graded 0, already graded and unchanged 10" in again.stdout
    # Recorded results are deleted from Redis: the backend is a mailbox, not an archive.
    assert set(mailbox.keys("celery-task-meta-*")) <= stored_before


def test_official_grading_through_real_workers_scores_as_the_local_pool(
    workers: Workers, lab01_variants: dict[str, Path], tmp_path: Path
) -> None:
    """``cohort grade --official --backend celery``: each worker grades in the sandbox, and the
    results are official ones with the local pool's official scores. (A worker once compared
    the job's official checks digest with its local one and refused every official job.)"""
    from grader.executors.official import official_unavailable_reason

    if official_unavailable_reason() and os.environ.get("CI") != "true":
        pytest.skip(official_unavailable_reason() or "")
    cohort = {"o1": "solution", "o2": "starter", "o3": "api-not-routed"}
    for backend in ("celery", "local"):
        subs = tmp_path / backend
        for learner, variant in cohort.items():
            add_submission(subs, learner, lab01_variants[variant], "folder")
        roster = write_roster(tmp_path / f"{backend}.csv", list(cohort))
        args = [
            "cohort", "grade", "--lab", "lab01", "--official", "--submissions", str(subs),
            "--roster", str(roster), "--gradebook", str(tmp_path / f"{backend}.sqlite3"),
            "--cache", str(tmp_path / f"cache-{backend}"), "--no-progress",
        ]  # fmt: skip
        extra = ["--backend", "celery", "--queue", workers.queue] if backend == "celery" else []
        done = grader_cli(*args, *extra, env=workers.env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "graded 3, already graded and unchanged 0" in done.stdout, done.stdout
    workers.observe()
    graded: dict[str, dict[str, tuple[str, int | None, str]]] = {}
    for backend in ("celery", "local"):
        with Gradebook.open(gradebook_url(str(tmp_path / f"{backend}.sqlite3"), ROOT)) as book:
            graded[backend] = {
                g.learner.id: (g.status, g.points, g.document["mode"]) for g in book.grades("lab01")
            }
    assert graded["celery"] == graded["local"]
    assert {mode for _, _, mode in graded["celery"].values()} == {"official"}
    assert graded["celery"]["o1"][1] == EXPECTED_POINTS["solution"]
    assert graded["celery"]["o2"][1] == EXPECTED_POINTS["starter"]


@pytest.mark.slow
def test_results_of_an_interrupted_dispatcher_are_collected_not_graded_again(
    workers: Workers, lab01_variants: dict[str, Path], tmp_path: Path
) -> None:
    """A dispatcher killed after sending its jobs: the workers finish them; the next run
    records those results without sending the jobs again."""
    subs = tmp_path / "submissions"
    add_submission(subs, "ivy", lab01_variants["api-not-routed"], "folder")
    add_submission(subs, "jon", lab01_variants["solution"], "folder")
    options = CohortOptions(
        course_root=ROOT,
        lab="lab01",
        submissions=subs,
        roster=write_roster(tmp_path / "roster.csv", ["ivy", "jon"]),
        cache=tmp_path / "cache",
        progress=False,
    )
    app = workers.app()
    url = gradebook_url(str(tmp_path / "gb.sqlite3"), ROOT)
    with Gradebook.open(url) as gradebook:
        plan = plan_cohort(options, gradebook)
    sent = [
        app.send_task(TASK_NAME, args=[j.to_dict()], task_id=task_id(j), queue=workers.queue)
        for j in plan.jobs
    ]
    for result in sent:
        result.get(timeout=300)  # the first dispatcher died here; the workers went on
    with Gradebook.open(url) as gradebook:
        report = grade_cohort_celery(
            options, gradebook, Console(quiet=True), queue=workers.queue, app=app
        )
        assert (report.graded, report.collected) == (2, 2)
        assert gradebook.grade("ivy", "lab01").points == EXPECTED_POINTS["api-not-routed"]
        assert gradebook.grade("jon", "lab01").points == EXPECTED_POINTS["solution"]
    log = workers.log.read_text()
    for result in sent:  # each job reached a worker once: collected, not sent again
        assert log.count(f"[{result.id}] received") == 1, result.id


@pytest.mark.slow
def test_a_job_a_worker_cannot_see_is_reported_and_never_recorded(
    workers: Workers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers that do not share the dispatcher's filesystem: the job fails on the worker with
    the path it could not see, and the learner gets no ``error`` grade for it."""
    subs = tmp_path / "submissions"
    add_submission(subs, "kai", LAB01 / "starter", "folder")
    real_plan = dispatch.plan_cohort
    planned: list[GradeJob] = []

    def plan_then_unshare(options: CohortOptions, gradebook: Gradebook) -> Any:
        plan = real_plan(options, gradebook)
        planned.extend(plan.jobs)
        shutil.rmtree(subs / "kai")  # what a worker without the shared folder sees
        return plan

    monkeypatch.setattr(dispatch, "plan_cohort", plan_then_unshare)
    options = CohortOptions(
        course_root=ROOT,
        lab="lab01",
        submissions=subs,
        roster=write_roster(tmp_path / "roster.csv", ["kai"]),
        cache=tmp_path / "cache",
        progress=False,
    )
    with Gradebook.open(gradebook_url(str(tmp_path / "gb.sqlite3"), ROOT)) as gradebook:
        with pytest.raises(GraderError) as raised:
            grade_cohort_celery(
                options, gradebook, Console(quiet=True), queue=workers.queue, app=workers.app()
            )
        assert gradebook.results_count("lab01") == 0
    message = str(raised.value)
    assert "1 grading(s) failed on the workers and were not recorded: kai" in message
    assert "WorkerSetupError" in message
    assert f"cannot see the submission at {subs / 'kai'}" in message
    import redis  # the failure was reported: Redis does not keep it either

    assert not redis.Redis.from_url(workers.url).exists(f"celery-task-meta-{task_id(planned[0])}")


@pytest.mark.slow
def test_stopped_workers_leave_no_process(workers: Workers) -> None:
    workers.observe()
    assert len(workers.seen) >= 3  # the worker and its two pool processes were observed
    assert workers.stop() == 0  # a warm shutdown, not a kill
    assert workers.alive() == []
