"""Course authoring: the tools that build and prove the course, used by course authors and CI.

- :mod:`grader.course.labgen`: generates every lab's starter from the one reference project in
  ``solutions/`` (lab markers).
- :mod:`grader.course.curriculum`: the hour-by-hour agenda, parsed (``parse``), checked
  (``check``, ``day_pages``) and rendered (``render``).
- :mod:`grader.course.docs_sync`: tables generated from rubric files into the pages.
- :mod:`grader.course.traceability`: outcome ↔ hour ↔ lab ↔ criterion coverage.
- :mod:`grader.course.proving` and :mod:`grader.course.mutants`: rubric proofs (solution,
  starter, mutants, earlier rubrics).
- :mod:`grader.course.release`: the learners' edition.
- :mod:`grader.course.notebooks`: nbgrader's release of the notebook labs.

Nothing in the grading engine or the executors imports from here.
"""
