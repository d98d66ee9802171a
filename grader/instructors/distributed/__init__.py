"""Grading beyond one machine: a Celery worker pool on Redis (ARCHITECTURE decision 9).

``python -m grader cohort grade ... --backend celery`` plans exactly as the local pool does
(:func:`grader.instructors.cohort.run.plan_cohort`), sends each job to a Celery queue, and records
each result in the gradebook as it comes back (:func:`grader.instructors.cohort.run.record`).
Workers started with ``celery -A grader.instructors.distributed.app worker`` on any number of
machines grade them with the same job function as the local pool,
:func:`grader.instructors.cohort.jobs.grade_job`, so the result JSON is the same document.

- :mod:`grader.instructors.distributed.app`: the Celery application and its configuration
  (environment:
  ``GRADER_CELERY_BROKER``, ``GRADER_CELERY_BACKEND``, ``GRADER_CELERY_QUEUE``).
- :mod:`grader.instructors.distributed.tasks`: the task, a thin wrapper around ``grade_job``.
- :mod:`grader.instructors.distributed.dispatch`: the dispatcher run by ``cohort grade --backend
  celery``.

Contracts:

- **Only the dispatcher writes the gradebook.** Workers never see it (they need no database
  access at all); so resuming works exactly as with the local pool: kill the dispatcher at any
  moment, run the same command again, and finished results are skipped by identity.
- **Submissions travel by path, not by content.** A job names the submission folder and the
  course (hidden checks) by absolute path, so every worker must see the same files at the same
  paths: one machine, or a shared filesystem (NFS, SMB, a cluster filesystem) mounted at the
  same place everywhere. No archive is ever sent through Redis: submissions can be 200 MiB and a
  message broker is not a file store. A worker checks before grading that it can see the
  submission and that its copy of the lab's checks has the digest the dispatcher planned with;
  if not, the job fails with a message naming the path and nothing is recorded.

This package's ``__init__`` imports nothing, so ``python -m grader`` never needs Celery unless
the celery backend is used.
"""
