"""The facilitator dashboard: who is where, who is stuck, which criteria the cohort fails.

``python -m grader cohort dashboard --out DIR [--public]`` reads the gradebook and writes
``DIR/index.html`` (charts drawn as inline SVG by matplotlib, plus the same figures as tables) and
the figures as CSV files beside it.

- :mod:`grader.instructors.dashboard.data` reads the gradebook (read only: current grades, the
  history of
  results, when each learner joined the roster).
- :mod:`grader.instructors.dashboard.analysis` computes everything from that, as pure functions over
  plain
  data: the learners-by-labs matrix, criterion pass rates, stuck learners, outcome progress.
- :mod:`grader.instructors.dashboard.charts` draws the charts;
  :mod:`grader.instructors.dashboard.build` writes the page
  and the CSV files.

Privacy contract: the private build (the default) is for facilitators and names learners. The
public build (``public=True``) holds aggregates only: no learner name, id, e-mail or individual
score, and no figure at all for a lab with fewer than ``min_learners`` graded learners (a mean
over two learners is their score), the same rule as the public aggregates page
(:mod:`grader.instructors.exports.aggregates`). The public build hands only counts and shares to the
page and CSV writers; a test scans its output for every roster name, id and e-mail address.

This package's ``__init__`` imports nothing: ``python -m grader`` builds its parser from
:mod:`grader.instructors.dashboard.cli` on every run, and learners, who never build a dashboard,
have neither matplotlib nor SQLAlchemy installed.
"""
