"""Cohort grading for instructors: ``python -m grader cohort ...``.

- :mod:`grader.instructors.cohort.roster`: the roster CSV.
- :mod:`grader.instructors.cohort.submissions`: find each learner's submission (folder, git
  repository or
  archive), unpack archives safely, locate the project in it, digest it.
- :mod:`grader.instructors.cohort.jobs`: :func:`~grader.instructors.cohort.jobs.grade_job`, grading
  one submission from
  a plain, JSON-serialisable job description: the unit a process pool (or, later, a Celery worker)
  runs.
- :mod:`grader.instructors.cohort.run`: plan what needs grading, grade it in parallel worker
  processes with a
  progress bar, record each result in the gradebook the moment it is ready (resumable).
- :mod:`grader.instructors.cli`: the ``cohort`` and ``export`` commands.
"""
