"""Exports of the result document (ARCHITECTURE decision 5): every format is derived from it.

- :mod:`~grader.instructors.exports.feedback`: per-learner feedback, Markdown and HTML, for private
  delivery.
- :mod:`~grader.instructors.exports.canvas`: Canvas gradebook import CSV.
- :mod:`~grader.instructors.exports.junit`: JUnit XML (one test case per criterion).
- :mod:`~grader.instructors.exports.gradescope`: Gradescope ``results.json``, the autograder bundle
  (``setup.sh`` + ``run_autograder``) and what ``run_autograder`` runs.
- :mod:`~grader.instructors.exports.classroom`: Exercism v3 JSON for GitHub Classroom's reporter,
  the
  ``Points X/Y`` notice, and the Classroom workflow template.
- :mod:`~grader.instructors.exports.aggregates`: the public cohort page: counts and means only.

Each function takes the result document (a dict valid against the published schema) or the
gradebook's plain views, and returns text or data; writing files is the caller's business.
"""
