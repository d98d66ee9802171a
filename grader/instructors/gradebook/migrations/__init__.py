"""Alembic migration environment of the gradebook (``env.py``, ``versions/``)."""
