"""The learners' edition of the course (ARCHITECTURE decision 7) and what ``grade`` does in it.

- :mod:`grader.course.release.manifest`: which tracked paths stay out of the learners' edition, and
  why.
- :mod:`grader.course.release.build`: ``python -m grader release DEST`` builds the edition from
  ``git ls-files``: the manifest applied, notebooks stripped of answers, each lab's public tests
  snapshotted into ``labs/<lab>/public/``, the site's navigation pruned of pages left out; then
  the leak scan runs and a leak fails the build.
- :mod:`grader.course.release.scan`: the leak scan (hidden check files, solution-only lines, lab
  marker
  text, notebook answer cells).
- :mod:`grader.course.release.notebooks`: strip answer cells and hidden tests from ``.ipynb`` files.
- :mod:`grader.executors.selfcheck`: without hidden checks, ``grade LAB`` runs the public tests and
  reports every criterion as decided by the official grading.

Nothing is imported here, so the grading pipeline can import the self-check without pulling in
the builder (and the builder, which grades nothing, never imports the pipeline).
"""
