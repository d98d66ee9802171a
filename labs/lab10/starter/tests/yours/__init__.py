"""Your own tests of the blog API: write them here, in files named test_*.py.

From lab04 on they count towards your grade: the grader runs the tests in this folder (and only
these) and measures how much of blog/ and api/ they cover, as
`coverage run -m pytest tests/yours && coverage report` does in your project (.coveragerc says
what is measured). They must all pass and cover the level your lab's handout sets.

Unlike the public tests next to this folder, your tests may import your code directly
(`from blog.services import post_create`): test services and selectors on their own, and the
endpoints through the `api_client` fixture of tests/conftest.py.
"""
