"""BlogCraftAI course autograder and authoring tools.

Public entry points: ``python -m grader grade LAB`` (see :mod:`grader.cli`), the grading
pipeline :func:`grader.pipeline.grade_submission`, and the lab generator
:mod:`grader.course.labgen`.
"""

__version__ = "0.1.0"
