"""``python -m grader.course.curriculum``: see :mod:`grader.course.curriculum.cli`."""

import sys

from grader.course.curriculum.cli import main

if __name__ == "__main__":
    sys.exit(main())
