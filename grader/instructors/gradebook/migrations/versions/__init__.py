"""Gradebook migrations, oldest first; Alembic ignores this file."""
