"""The child side of grading: code that runs inside the separate, hardened pytest process.

Nothing here is imported by the parent grader process except
:mod:`grader.report`, which defines the report the child writes. The child is
started as ``python -I -B -m grader.executors.harness JOB.json`` with a scrubbed environment (see
:mod:`grader.executors.local`); it puts the staged submission on ``sys.path``, imports the Django
settings the rubric names, then runs the rubric's checks with pytest configured only by the grader.
"""
