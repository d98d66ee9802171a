"""Executors: where a rubric's checks run. One is chosen per grading by mode and lab kind.

Each executor takes the staged submission and returns a :class:`~grader.executors.base.CheckRun`
(the checks' report, timings and integrity flags), so the pipeline scores every mode the same way:

- :mod:`grader.executors.local`: a hardened child pytest process (``python -I``, scrubbed
  environment, the grader's own pytest configuration) running the hidden checks in process with
  the project; the child side is :mod:`grader.executors.harness`.
- :mod:`grader.executors.official`: the project runs in a bubblewrap sandbox and the checks run
  in a trusted process that never imports learner code.
- :mod:`grader.executors.notebook`: nbgrader's autograde for notebook labs (lab03).
- :mod:`grader.executors.selfcheck`: the learners' edition, which has no hidden checks and runs
  the lab's public tests instead.
- :mod:`grader.executors.gates`: quality gates (ruff, the learner's own tests under coverage),
  which run beside the checks of every executor.

Layering: executors import the engine (rubric, staging, scoring, result) and never the pipeline,
the course tools, the instructors' tools or the CLI (``tests/grader/test_layers.py``).
"""
