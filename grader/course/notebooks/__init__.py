"""nbgrader's release of the notebook labs' source notebooks into their starters (authoring side;
grading a notebook lab is :mod:`grader.executors.notebook`)."""
