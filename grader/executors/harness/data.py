"""Grader fixtures for data: rows in the submission's database and what its models declare.

Rubric checks never import the learner's modules (ARCHITECTURE decision 4). They name a model by
its label (``"blog.Post"``), a field by its name, and get plain data back (str, int, bool, None,
and lists and dicts of those), so a check compares values, never objects the submission shaped.

``data`` (:class:`DataHelper`)
    Writes rows the way the database sees them. ``create`` inserts one row with a single
    ``INSERT`` (no ``save()`` override, no signals, no ``full_clean()``), so what
    ``create_rejected`` reports as refused was refused by a database constraint, not by Python.
    Every write runs in its own savepoint: a refused row leaves the check's transaction usable,
    on PostgreSQL too. Also: a user with a role, counting and reading rows, running a
    management command, running an admin action as a superuser.
``models`` (:class:`ModelInspector`)
    Reads what the models declare (fields, relations, ``Meta`` constraints), what the database
    holds (its constraints and indexes, through Django's introspection), how the admin is set
    up, the migrations on disk, and whether the models have changes no migration describes
    (``makemigrations --check --dry-run`` in a separate process).

Contract for both: a problem in the submission that stops a helper from answering (a model that
does not exist, a field it lacks, a table no migration created) fails the check with an
``AssertionError`` whose message tells the learner what to do. Only the answer a check asks for
(refused or accepted, a count, a list of fields) is returned.

Both fixtures give the check database access. When the test database cannot be built from the
submission's migrations, every check that needs it stops with one sentence naming the error
(this module's ``django_db_setup`` wraps pytest-django's), never a traceback.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import io
import itertools
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

MAKEMIGRATIONS_TIMEOUT = 60
_serial = itertools.count(1)

# Run in a fresh interpreter, in the submission's folder: the same command a learner runs.
_MAKEMIGRATIONS_SCRIPT = r"""
import sys
sys.path.insert(0, ".")
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "makemigrations", "--check", "--dry-run", "--no-input"])
"""

# PostgreSQL's SQLSTATE codes for integrity violations, and the words SQLite uses for them.
_SQLSTATE_KINDS = {
    "23505": "unique",
    "23514": "check",
    "23502": "not_null",
    "23503": "foreign_key",
}
_SQLITE_KINDS = (
    ("UNIQUE constraint failed", "unique"),
    ("CHECK constraint failed", "check"),
    ("NOT NULL constraint failed", "not_null"),
    ("FOREIGN KEY constraint failed", "foreign_key"),
)


def plain(value: Any) -> Any:
    """``value`` as plain data: str, int, float, bool, None, or lists and dicts of those.

    Dates and times become ISO 8601 strings, enums (``TextChoices`` members) their value,
    anything else unknown its ``str()``.
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return str(value)


def integrity_kind(error: BaseException) -> str:
    """Which rule an ``IntegrityError`` broke: unique, check, not_null, foreign_key or other."""
    state = getattr(error.__cause__, "sqlstate", None)
    if isinstance(state, str) and state in _SQLSTATE_KINDS:
        return _SQLSTATE_KINDS[state]
    text = str(error)
    for words, kind in _SQLITE_KINDS:
        if words in text:
            return kind
    return "other"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


def _model(label: str) -> Any:
    """The model class for ``label``; a learner-facing AssertionError when there is none."""
    from django.apps import apps

    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        app_label = label.partition(".")[0]
        if app_label not in {config.label for config in apps.get_app_configs()}:
            raise AssertionError(
                f"there is no installed app {app_label!r} (model {label})"
            ) from None
        raise AssertionError(
            f"there is no model {label}: define class {label.partition('.')[2]} in "
            f"{app_label}/models.py"
        ) from None


def _missing_table(error: BaseException) -> bool:
    text = str(error).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def _no_table_message(model: Any) -> str:
    return (
        f"the database has no table for {model._meta.label} ({model._meta.db_table}): create "
        f"the migration with `python manage.py makemigrations {model._meta.app_label}` and "
        "check that `python manage.py migrate` applies it"
    )


class DataHelper:
    """Rows in the submission's database, written and read by model label. Plain data only."""

    def create(self, label: str, **fields: Any) -> int:
        """Insert one row of ``label`` and return its primary key.

        ``fields`` name model fields: a foreign key takes the related row's primary key (or
        None), a many-to-many field a list of primary keys, any other field its value. Fields
        left out get their model default. A row the database refuses fails the check, with the
        database's reason: use :meth:`create_rejected` when refusal is what the check expects.
        """
        refusal, pk = self._insert(label, fields)
        if refusal is not None:
            shown = ", ".join(f"{name}={value!r}" for name, value in fields.items())
            raise AssertionError(f"the database refused a valid {label} ({shown}): {refusal}")
        assert pk is not None
        return pk

    def create_rejected(self, label: str, **fields: Any) -> str | None:
        """Try to insert one row of ``label``; say whether the database refused it.

        Returns None when the row was stored (it stays, for the rest of the check), or
        ``"<kind>: <database message>"`` when the database raised an ``IntegrityError``, where
        kind is ``unique``, ``check``, ``not_null``, ``foreign_key`` or ``other``. The insert
        runs in a savepoint, so the check can go on after a refusal. ``fields`` as in
        :meth:`create`.
        """
        refusal, _pk = self._insert(label, fields)
        return refusal

    def user(self, role: str | None = None, **fields: Any) -> int:
        """Create a user of the project's user model (``AUTH_USER_MODEL``); return its pk.

        ``role`` is set only when given, so the model's default applies otherwise. The user has
        a unique username and an unusable password unless ``fields`` say otherwise.
        """
        from django.conf import settings

        fields.setdefault("username", f"grader-user-{next(_serial)}")
        fields.setdefault("password", "!")  # Django's marker for "no usable password"
        if role is not None:
            fields["role"] = role
        return self.create(str(settings.AUTH_USER_MODEL), **fields)

    def count(self, label: str, **filters: Any) -> int:
        """How many rows of ``label`` match ``filters`` (Django lookups: ``status="draft"``)."""
        model = _model(label)
        return int(self._read(model, lambda: model._base_manager.filter(**filters).count()))

    def values(self, label: str, *fields: str, **filters: Any) -> list[dict[str, Any]]:
        """The rows of ``label`` matching ``filters``, ordered by primary key, as dicts of the
        named ``fields`` (all concrete fields when none are named). Foreign keys appear under
        their field name holding the related primary key."""
        model = _model(label)
        names = list(fields) or [f.name for f in model._meta.concrete_fields]
        for name in names:
            _field(model, name)

        def read() -> list[dict[str, Any]]:
            rows = model._base_manager.filter(**filters).order_by("pk").values(*names)
            return [{str(k): plain(v) for k, v in row.items()} for row in rows]

        result: list[dict[str, Any]] = self._read(model, read)
        return result

    def command(self, name: str, *args: str) -> dict[str, Any]:
        """Run the management command ``name`` (as ``python manage.py name args...`` would).

        Returns ``{"ok": bool, "output": str, "error": str | None}``: ``output`` is what it
        wrote to stdout and stderr, ``error`` one line saying why it failed (an unknown command,
        an exception it raised). It runs in a savepoint: a failed run leaves no rows behind,
        a successful one leaves its rows for the rest of the check.
        """
        from django.core.management import CommandError, call_command
        from django.db import transaction

        out, err = io.StringIO(), io.StringIO()
        error: str | None = None
        try:
            with transaction.atomic():
                call_command(name, *args, stdout=out, stderr=err)
        except CommandError as exc:
            message = _first_line(exc)
            if message.startswith("Unknown command"):
                error = (
                    f"there is no management command {name!r}: create "
                    f"<app>/management/commands/{name}.py with a Command class"
                )
            else:
                error = f"CommandError: {message}"
        except (Exception, SystemExit) as exc:  # whatever the learner's command raises
            error = f"{type(exc).__name__}: {_first_line(exc)}"
        if error is not None:
            # Paths inside the grader's staged copy mean nothing to the learner: show them
            # relative to the project, as they appear in the learner's own folder.
            error = error.replace(str(Path.cwd().resolve()) + os.sep, "")
        return {"ok": error is None, "output": out.getvalue() + err.getvalue(), "error": error}

    def admin_action(self, label: str, action: str, pks: Iterable[int]) -> int:
        """Run the admin action ``action`` on the rows ``pks`` of ``label``, as a superuser
        submitting the change list's action form; return the HTTP status of the answer.

        Django answers 302 whether or not the action existed, so a check judges the rows
        afterwards. A model the admin does not register fails the check.
        """
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.urls import NoReverseMatch, reverse

        model = _model(label)
        try:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        except NoReverseMatch:
            raise AssertionError(
                f"{label} has no admin page: register it in "
                f"{model._meta.app_label}/admin.py with @admin.register({model.__name__})"
            ) from None
        pk = self.user(is_staff=True, is_superuser=True)
        client = Client(raise_request_exception=False)
        client.force_login(get_user_model()._base_manager.get(pk=pk))
        response = client.post(
            url, {"action": action, "_selected_action": [str(p) for p in pks], "index": "0"}
        )
        return int(response.status_code)

    # -- internals -------------------------------------------------------------------------

    def _insert(self, label: str, fields: dict[str, Any]) -> tuple[str | None, int | None]:
        """(refusal, pk): exactly one of them is None."""
        from django.db import DatabaseError, IntegrityError, transaction

        model = _model(label)
        values: dict[str, Any] = {}
        many: dict[str, list[Any]] = {}
        for name, value in fields.items():
            field = _field(model, name)
            if field.many_to_many:
                many[name] = list(value)
            elif field.is_relation and (field.many_to_one or field.one_to_one):
                values[field.attname] = value
            else:
                values[name] = value
        try:
            with transaction.atomic():
                instance = model(**values)
                pk = _insert_row(model, instance)
                for name, related in many.items():
                    getattr(model._base_manager.get(pk=pk), name).set(related)
        except IntegrityError as exc:
            return f"{integrity_kind(exc)}: {_first_line(exc)}", None
        except DatabaseError as exc:
            if _missing_table(exc):
                raise AssertionError(_no_table_message(model)) from None
            raise AssertionError(
                f"the database could not store a {label}: {type(exc).__name__}: {_first_line(exc)}"
            ) from None
        except (TypeError, ValueError) as exc:
            raise AssertionError(
                f"a {label} could not be built from {sorted(fields)}: "
                f"{type(exc).__name__}: {_first_line(exc)}"
            ) from None
        return None, pk

    def _read(self, model: Any, query: Callable[[], Any]) -> Any:
        from django.core.exceptions import FieldError
        from django.db import DatabaseError, transaction

        try:
            with transaction.atomic():
                return query()
        except FieldError as exc:
            raise AssertionError(f"cannot query {model._meta.label}: {_first_line(exc)}") from None
        except DatabaseError as exc:
            if _missing_table(exc):
                raise AssertionError(_no_table_message(model)) from None
            raise AssertionError(
                f"reading {model._meta.label} failed: {type(exc).__name__}: {_first_line(exc)}"
            ) from None


def _field(model: Any, name: str) -> Any:
    from django.core.exceptions import FieldDoesNotExist

    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        known = ", ".join(sorted(f.name for f in _forward_fields(model)))
        raise AssertionError(
            f"{model._meta.label} has no field {name!r} (its fields: {known or 'none'})"
        ) from None


def _insert_row(model: Any, instance: Any) -> int:
    """Insert ``instance`` with one INSERT that bypasses ``save()`` overrides and signals."""
    try:
        model._base_manager.bulk_create([instance])
    except ValueError:
        # Multi-table inheritance cannot be bulk-inserted; save_base skips save() overrides.
        instance.save_base(force_insert=True)
    if instance.pk is None:  # a backend that cannot return ids from a bulk insert
        instance.pk = model._base_manager.order_by("-pk").values_list("pk", flat=True)[0]
    return int(instance.pk)


def _forward_fields(model: Any) -> list[Any]:
    """The fields a model declares (and inherits), without reverse relations."""
    return [f for f in model._meta.get_fields() if not (f.auto_created and not f.concrete)]


def _describe_field(field: Any) -> dict[str, Any]:
    default: Any = None
    if field.has_default():
        default = field.default
        default = (
            f"<callable {getattr(default, '__name__', 'default')}>"
            if callable(default)
            else plain(default)
        )
    choices = getattr(field, "choices", None)
    return {
        "type": str(field.get_internal_type()),
        "null": bool(field.null),
        "blank": bool(field.blank),
        "unique": bool(field.unique),
        "primary_key": bool(field.primary_key),
        "max_length": field.max_length,
        "choices": [plain(value) for value, _label in field.flatchoices] if choices else None,
        "default": default,
        "related_model": field.related_model._meta.label if field.is_relation else None,
        "column": field.column,
    }


def _describe_list_filter(entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, list | tuple) and entry:
        return str(entry[0])
    return str(getattr(entry, "parameter_name", None) or getattr(entry, "__name__", entry))


def _name_of(entry: Any) -> str:
    return entry if isinstance(entry, str) else str(getattr(entry, "__name__", entry))


class ModelInspector:
    """What the submission's models, database, admin and migrations declare. Plain data only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, label: str) -> bool:
        """Whether ``label`` (``"blog.Post"``) names a model of an installed app."""
        from django.apps import apps

        try:
            apps.get_model(label)
        except (LookupError, ValueError):
            return False
        return True

    def user_model(self) -> str:
        """The label of the project's user model (``settings.AUTH_USER_MODEL``), e.g.
        ``"accounts.User"``; ``"auth.User"`` when the project never swapped it."""
        from django.contrib.auth import get_user_model

        return str(get_user_model()._meta.label)

    def fields(self, label: str) -> dict[str, dict[str, Any]]:
        """Every field ``label`` declares or inherits (no reverse relations), by name.

        Each: ``type`` (``"CharField"``...), ``null``, ``blank``, ``unique``, ``primary_key``,
        ``max_length``, ``choices`` (the stored values, or None), ``default`` (plain value,
        ``"<callable name>"``, or None when there is none), ``related_model`` (label or None),
        ``column``.
        """
        model = _model(label)
        return {str(f.name): _describe_field(f) for f in _forward_fields(model)}

    def relation(self, label: str, field: str) -> dict[str, Any] | None:
        """The relation ``label.field`` declares, or None if it is missing or not a relation.

        ``{"kind": "foreign_key" | "one_to_one" | "many_to_many", "to": "<app.Model>",
        "on_delete": "CASCADE" | "PROTECT" | ... | None, "null": bool,
        "related_name": str | None}``.
        """
        from django.core.exceptions import FieldDoesNotExist

        model = _model(label)
        try:
            found = model._meta.get_field(field)
        except FieldDoesNotExist:
            return None
        if not found.is_relation or (found.auto_created and not found.concrete):
            return None
        kind = (
            "many_to_many"
            if found.many_to_many
            else "one_to_one"
            if found.one_to_one
            else "foreign_key"
        )
        on_delete = getattr(found.remote_field, "on_delete", None)
        return {
            "kind": kind,
            "to": str(found.related_model._meta.label),
            "on_delete": getattr(on_delete, "__name__", None),
            "null": bool(found.null),
            "related_name": found.remote_field.related_name,
        }

    def constraints(self, label: str) -> list[dict[str, Any]]:
        """The constraints ``label``'s Meta declares (``constraints`` and ``unique_together``).

        Each: ``{"name": str | None, "kind": "unique" | "check" | "<class name>",
        "fields": [str], "condition": str | None}``; ``condition`` is the Q or expression
        as Django prints it.
        """
        from django.db import models

        model = _model(label)
        found: list[dict[str, Any]] = []
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                kind = "unique"
                condition = constraint.condition
            elif isinstance(constraint, models.CheckConstraint):
                kind = "check"
                condition = constraint.condition
            else:
                kind, condition = type(constraint).__name__, None
            found.append(
                {
                    "name": str(constraint.name),
                    "kind": kind,
                    "fields": [str(f) for f in getattr(constraint, "fields", ())],
                    "condition": None if condition is None else str(condition),
                }
            )
        for fields in model._meta.unique_together:
            found.append(
                {"name": None, "kind": "unique", "fields": list(fields), "condition": None}
            )
        return found

    def db_constraints(self, label: str) -> list[dict[str, Any]]:
        """Constraints and indexes of ``label``'s table as the database reports them.

        Each: ``{"name", "columns": [str], "orders": [str], "unique", "check", "index",
        "primary_key": bool, "foreign_key": "table.column" | None}``. A table the migrations
        never created fails the check with what to do.
        """
        from django.db import connection

        model = _model(label)
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if table not in connection.introspection.table_names(cursor):
                raise AssertionError(_no_table_message(model))
            raw = connection.introspection.get_constraints(cursor, table)
        found = []
        for name, info in raw.items():
            foreign = info.get("foreign_key")
            found.append(
                {
                    "name": str(name),
                    "columns": [str(c) for c in info.get("columns") or []],
                    "orders": [str(o) for o in info.get("orders") or []],
                    "unique": bool(info.get("unique")),
                    "check": bool(info.get("check")),
                    "index": bool(info.get("index")),
                    "primary_key": bool(info.get("primary_key")),
                    "foreign_key": ".".join(map(str, foreign)) if foreign else None,
                }
            )
        return found

    def admin(self, label: str) -> dict[str, Any] | None:
        """How the default admin site shows ``label``, or None when it is not registered.

        ``{"class": str, "list_display": [str], "list_filter": [str], "search_fields": [str],
        "actions": [str], "action_descriptions": {name: str}}``. Callables appear by name, a
        list filter by its field or parameter name; ``actions`` include the site's own
        (``delete_selected``).
        """
        from django.contrib import admin

        model = _model(label)
        model_admin = admin.site._registry.get(model)
        if model_admin is None:
            return None
        actions: dict[str, str] = {}
        for _func, name, description in model_admin._get_base_actions():
            actions[str(name)] = str(description)
        return {
            "class": type(model_admin).__name__,
            "list_display": [_name_of(e) for e in model_admin.list_display],
            "list_filter": [_describe_list_filter(e) for e in model_admin.list_filter],
            "search_fields": [str(e) for e in model_admin.search_fields],
            "actions": list(actions),
            "action_descriptions": actions,
        }

    def migrations(self, app_label: str) -> list[dict[str, Any]]:
        """The migrations of ``app_label`` on disk, in the order they apply.

        Each: ``{"name": "0001_initial", "initial": bool, "creates": [model names, lower
        case], "dependencies": ["app.migration"]}``. An empty list when the app has none; a
        migration graph Django cannot load fails the check with Django's reason.
        """
        from django.db.migrations.exceptions import BadMigrationError, NodeNotFoundError
        from django.db.migrations.loader import MigrationLoader
        from django.db.migrations.operations import CreateModel

        try:
            loader = MigrationLoader(None, ignore_no_migrations=True)
        except (BadMigrationError, NodeNotFoundError, ValueError, ImportError) as exc:
            raise AssertionError(
                f"Django cannot load the migrations: {type(exc).__name__}: {_first_line(exc)}"
            ) from None
        leaves = loader.graph.leaf_nodes(app_label)
        plan: list[tuple[str, str]] = []
        for leaf in leaves:
            for node in loader.graph.forwards_plan(leaf):
                if node[0] == app_label and node not in plan:
                    plan.append(node)
        found = []
        for node in plan:
            migration = loader.graph.nodes[node]
            found.append(
                {
                    "name": str(node[1]),
                    "initial": bool(getattr(migration, "initial", False)),
                    "creates": [
                        str(op.name).lower()
                        for op in migration.operations
                        if isinstance(op, CreateModel)
                    ],
                    "dependencies": [f"{a}.{n}" for a, n in migration.dependencies],
                }
            )
        return found

    def pending_migrations(self) -> list[str]:
        """What ``python manage.py makemigrations --check --dry-run`` would write: its report
        lines (``"Migrations for 'blog':"``, ``"~ Alter field name on tag"``...), or an empty
        list when the migrations describe the models exactly.

        Runs in a fresh interpreter in the submission's folder, with the grader's settings
        module and an in-memory SQLite database. A command that fails for another reason (a
        model error, a broken migration) fails the check with its last error line.
        """
        env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
        env.update(
            PYTHONDONTWRITEBYTECODE="1",
            DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", ""),
            DATABASE_URL="sqlite://:memory:",
        )
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-B", "-c", _MAKEMIGRATIONS_SCRIPT],
                cwd=self.root,
                env=env,
                capture_output=True,
                text=True,
                timeout=MAKEMIGRATIONS_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"`python manage.py makemigrations --check` took over {MAKEMIGRATIONS_TIMEOUT}s"
            ) from None
        lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
        errors = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        if done.returncode == 0:
            return []
        if done.returncode == 1 and lines and not errors:
            return lines
        raise AssertionError(
            "`python manage.py makemigrations --check --dry-run` failed: "
            + (errors[-1] if errors else f"exit code {done.returncode}")
        )


@pytest.fixture(scope="session")
def django_db_setup(request: pytest.FixtureRequest) -> None:
    """pytest-django's ``django_db_setup``, with a failure explained to the learner.

    Building the test database runs the submission's migrations, so a missing or broken
    migration surfaces here, as the error of every check that uses the database. This wrapper
    turns that error into one sentence that says so and what to run; it adds nothing else.
    """
    try:
        request.getfixturevalue("django_db_setup")  # the definition this one overrides
    except Exception as exc:  # whatever the learner's migrations raise
        pytest.fail(
            "the test database could not be built from your migrations: "
            f"{type(exc).__name__}: {_first_line(exc)}. Run `python manage.py makemigrations` "
            "and `python manage.py migrate` in your project and fix what they report.",
            pytrace=False,
        )


@pytest.fixture
def data(db: None) -> DataHelper:
    """Rows in the submission's database (see :class:`DataHelper`); gives database access."""
    return DataHelper()


@pytest.fixture
def models(db: None) -> ModelInspector:
    """What the models, database, admin and migrations declare (see :class:`ModelInspector`);
    gives database access."""
    return ModelInspector(Path.cwd().resolve())


__all__ = ["DataHelper", "ModelInspector", "data", "integrity_kind", "models", "plain"]
