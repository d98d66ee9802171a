"""The roster: a CSV file with one learner per row.

Columns (a header row is required; names are case-insensitive, order is free):

=================  ========  ==============================================================
column             required  meaning
=================  ========  ==============================================================
``learner_id``     yes       the id submissions are named after: ``alice/``, ``alice.zip``;
                             letters, digits and ``. _ - @`` only
``name``           yes       shown in private feedback and the LMS export, never published
``email``          yes       kept for the instructor; never published
``section``        no        LMS section (Canvas ``Section`` column)
``sis_user_id``    no        LMS SIS user id (Canvas ``SIS User ID``)
``sis_login_id``   no        LMS login (Canvas ``SIS Login ID``)
``canvas_user_id`` no        Canvas's numeric user id (Canvas ``ID``)
=================  ========  ==============================================================

The file may start with a UTF-8 byte-order mark (spreadsheets save one). Spreadsheets in many
locales save "CSV" with semicolons (or tabs): the delimiter is read from the header row with
:class:`csv.Sniffer`, and a header that still lacks columns says which delimiter it saw. Every
problem is reported as :class:`~grader.errors.UsageError` naming the file and row.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from grader.errors import UsageError
from grader.instructors.gradebook.store import LearnerInfo

REQUIRED = ("learner_id", "name", "email")
OPTIONAL = ("section", "sis_user_id", "sis_login_id", "canvas_user_id")
LEARNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


DELIMITERS = ",;\t|"
_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _delimiter(lines: list[str]) -> str:
    """The header row's delimiter (csv.Sniffer, limited to DELIMITERS); a comma if unclear."""
    header = next((line for line in lines if line.strip()), "")
    try:
        return csv.Sniffer().sniff(header, delimiters=DELIMITERS).delimiter
    except csv.Error:  # one column, or nothing to tell delimiters apart
        return ","


def _other_delimiters(lines: list[str], used: str) -> str:
    """A hint when the header holds another delimiter than the one used to read it."""
    header = next((line for line in lines if line.strip()), "")
    others = [_NAMES[d] for d in DELIMITERS if d != used and d in header]
    if not others:
        return ""
    return f"; the header row also has {' and '.join(others)}: use one delimiter throughout"


def load_roster(path: Path) -> list[LearnerInfo]:
    """Read and validate the roster at ``path``; learners in file order."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"The roster {path} does not exist.") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: save the roster as UTF-8 CSV.") from None
    lines = text.splitlines()
    delimiter = _delimiter(lines)
    reader = csv.DictReader(lines, delimiter=delimiter)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise UsageError(
            f"{path}: the header row needs the columns {', '.join(REQUIRED)} "
            f"(missing: {', '.join(missing)}), separated by {_NAMES[delimiter]}"
            f"{_other_delimiters(lines, delimiter)}."
        )
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
    if unknown:
        raise UsageError(
            f"{path}: unknown column(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(REQUIRED + OPTIONAL)}."
        )
    learners: list[LearnerInfo] = []
    seen: set[str] = set()
    for number, raw in enumerate(reader, start=2):
        row = {
            (k or "").strip().lower(): (v or "").strip()
            for k, v in raw.items()
            if isinstance(v, str) or v is None
        }
        if not any(row.values()):
            continue  # a blank line
        where = f"{path}, row {number}"
        learner_id = row.get("learner_id", "")
        if not LEARNER_ID.match(learner_id):
            raise UsageError(
                f"{where}: learner_id {learner_id!r} must be 1-100 letters, digits or . _ - @ "
                "(it names the learner's submission file)."
            )
        if learner_id in seen:
            raise UsageError(f"{where}: learner_id {learner_id!r} appears twice.")
        seen.add(learner_id)
        for column in ("name", "email"):
            if not row.get(column):
                raise UsageError(f"{where}: {column} is empty.")
        learners.append(
            LearnerInfo(
                id=learner_id,
                name=row["name"],
                email=row["email"],
                **{column: row.get(column) or None for column in OPTIONAL},
            )
        )
    if not learners:
        raise UsageError(f"{path}: the roster lists no learners.")
    return learners
