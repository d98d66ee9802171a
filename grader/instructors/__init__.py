"""Instructors' and facilitators' tools: everything that works on a cohort, not one submission.

- :mod:`grader.instructors.cohort`: grade a cohort's submissions (worker pool, resume), override,
  publish.
- :mod:`grader.instructors.gradebook`: the gradebook database (SQLAlchemy, Alembic migrations).
- :mod:`grader.instructors.exports`: every export of the result JSON (LMS CSV, feedback pages,
  JUnit, Gradescope, GitHub Classroom, public aggregates).
- :mod:`grader.instructors.dashboard`: the facilitators' progress dashboard.
- :mod:`grader.instructors.distributed`: grading on a Celery worker pool over Redis.

These call the pipeline (:func:`grader.pipeline.grade_submission`) like any user of the grader.
"""
