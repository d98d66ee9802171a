"""Schema migrations of the gradebook, run by Alembic from code.

:func:`upgrade` brings a gradebook to the newest schema;
:class:`grader.instructors.gradebook.Gradebook` calls it every time it opens one, so an instructor
never runs a migration by hand and an old gradebook keeps working after the course updates its
grader. The scripts are in this package (``grader/instructors/gradebook/migrations/versions``), so
they ship with the grader.

Course authors changing the schema: edit :mod:`grader.instructors.gradebook.models`, then draft the
migration against a gradebook at the previous head with :func:`alembic_config` and
``alembic.command.revision(config, message, autogenerate=True)``; review and commit it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the gradebook at ``url`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a literal % in a URL (an escaped password) must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:  # only if the versions folder were empty: a packaging bug
        raise RuntimeError(f"no gradebook migrations found in {MIGRATIONS}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database at ``engine`` is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Migrate the database behind ``engine`` to the newest schema (a no-op when it is there).

    Runs in one transaction on the engine's own connection; on PostgreSQL a failed migration
    leaves the schema as it was (DDL is transactional there).
    """
    if current_revision(engine) == head_revision():
        return
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
