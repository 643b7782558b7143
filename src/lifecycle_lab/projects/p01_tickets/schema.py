"""Load a learner's or instructor's own CSV, checked against a schema, with errors that name the problem.

Why: a notebook that accepts "your own data" must fail on the first cell that reads it, with a message
naming the column or row to fix, not ten cells later inside scikit-learn. The same row rules are used at
training time and by the batch job and the API at serving time (one schema, no training/serving skew).
pandas is imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.projects.p01_tickets.world import CLASSES, MAX_TEXT_CHARS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class SchemaError(LifecycleLabError, ValueError):
    """The data does not fit the schema; the message names the column or row and how to fix it."""


@dataclass(frozen=True)
class Column:
    """One column's rules. kind: 'text' (a string), 'id' (string or whole number), 'timestamp', 'number'."""

    name: str
    kind: str = "text"
    required: bool = True          # the column must be present
    nullable: bool = False         # empty cells allowed
    max_chars: int | None = None   # for text: longest allowed value
    allowed: Sequence[Any] | None = None  # the value must be one of these
    unique: bool = False           # no repeated values (e.g. an id)


@dataclass(frozen=True)
class Schema:
    """A named list of columns; `check_row` and `validate` apply the same rules."""

    name: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    return isinstance(value, str) and value.strip() == ""


MAX_ID_CHARS = 200
"""Longest id accepted (the batch database stores ids in a 200-character column)."""
MAX_ID = 2**53 - 1
"""Largest whole-number id: 2**53 - 1, the largest integer a JSON client (JavaScript, any float parser) holds exactly."""


def _not_unicode(name: str, value: str) -> str | None:
    """Text every store keeps as it is, or why not.

    A lone surrogate (e.g. JSON "\\ud800") is not text: it cannot be written as UTF-8 to a file, a
    database or an HTTP response. A NUL character ("\\x00") is valid Unicode, but PostgreSQL text cannot
    hold it and C-based readers (pandas' CSV parser among them) cut the value there: `Z\\x00id` would
    silently become the id `Z`. Both are refused here rather than stored as something else later.
    """
    nul = value.find("\x00")
    if nul >= 0:
        return (f"{name} contains a NUL character (\\x00) at character {nul + 1}; a database would cut or refuse "
                f"it, so remove it from the value")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        return (f"{name} is not valid Unicode text: it holds a lone surrogate at character {err.start + 1} "
                f"(send UTF-8 text)")
    return None


def check_value(col: Column, value: Any) -> str | None:
    """Why one value breaks its column's rule, or None when it fits.

    The one definition of the rules: training (`validate`), the batch job and the API all call it.
    """
    if _blank(value):
        return None if col.nullable else f"{col.name} is empty"
    if col.kind == "text":
        if not isinstance(value, str):
            return f"{col.name} must be text, got {type(value).__name__}"
        if col.max_chars is not None and len(value) > col.max_chars:
            return f"{col.name} has {len(value)} characters, more than the limit of {col.max_chars}"
        return _not_unicode(col.name, value) or _allowed(col, value)
    elif col.kind == "id":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return f"{col.name} must be a string or a whole number, got {type(value).__name__}"
        if isinstance(value, str):
            if len(value) > MAX_ID_CHARS:
                return f"{col.name} is longer than {MAX_ID_CHARS} characters"
            return _not_unicode(col.name, value) or _allowed(col, value)
        if not -MAX_ID <= value <= MAX_ID:
            return (f"{col.name} is a whole number of about {int(value.bit_length() * 0.30103) + 1} digits; a "
                    f"number id must lie within +-{MAX_ID} (send a longer id as text)")
    elif col.kind == "timestamp":
        from datetime import datetime

        # ISO 8601 only (datetime.fromisoformat): pandas would also take "now" or "today", which are not data
        try:
            if not isinstance(value, datetime):
                datetime.fromisoformat(value.strip() if isinstance(value, str) else value)
        except (ValueError, TypeError):
            return f"{col.name} {value!r} is not a date-time (use ISO format, e.g. 2026-01-05T09:30:00)"
    elif col.kind == "number":
        if isinstance(value, bool):
            return f"{col.name} must be a number, got bool"
        try:
            float(value)
        except (TypeError, ValueError):
            return f"{col.name} {value!r} is not a number"
    return _allowed(col, value)


def _allowed(col: Column, value: Any) -> str | None:
    if col.allowed is not None and value not in col.allowed:
        return f"{col.name} {value!r} is not one of {list(col.allowed)}"
    return None


def check_row(schema: Schema, row: Mapping[str, Any]) -> str | None:
    """The first reason a row (a dict) breaks the schema, or None: used by the batch job and the API."""
    for col in schema.columns:
        if col.name not in row:
            if col.required:
                return f"{col.name} is missing"
            continue
        problem = check_value(col, row[col.name])
        if problem:
            return problem
    return None


def check_columns(schema: Schema, columns: Sequence[str], where: str = "the CSV") -> None:
    """Raise SchemaError when required columns are missing, naming them and the columns found."""
    missing = [c.name for c in schema.columns if c.required and c.name not in columns]
    if missing:
        raise SchemaError(f"{where} lacks column(s) {missing} required by the {schema.name} schema; "
                          f"found {list(columns)}. Rename or add the column(s); the schema expects "
                          f"{schema.names}.")


def row_problems(schema: Schema, df: "pd.DataFrame") -> list[tuple[int, str]]:
    """Every (data row number, reason) that breaks the schema; data rows count from 1 (header excluded)."""
    problems = []
    records = df.to_dict("records")
    for number, row in enumerate(records, start=1):
        reason = check_row(schema, row)
        if reason:
            problems.append((number, reason))
    for col in schema.columns:
        if col.unique and col.name in df.columns:
            dup = df[col.name].duplicated(keep="first")
            for index in dup[dup].index[:20]:
                problems.append((int(df.index.get_loc(index)) + 1,
                                 f"{col.name} {df.at[index, col.name]!r} appears more than once"))
    return sorted(problems)


def where_row(number: int, lines: Sequence[int] | None = None) -> str:
    """'data row 3 (line 4)': data rows count from 1 after the header; the line is the file's, when known
    (a quoted text with line breaks makes the two differ by more than one)."""
    if lines is not None and 0 < number <= len(lines):
        return f"data row {number} (line {lines[number - 1]})"
    return f"data row {number}"


def validate(df: "pd.DataFrame", schema: Schema, where: str = "the data",
             lines: Sequence[int] | None = None) -> "pd.DataFrame":
    """Return df unchanged when it fits the schema; else raise SchemaError naming the bad column or rows.

    `lines`: the file line on which each data row starts (load_csv passes them), so messages point at it.
    """
    check_columns(schema, list(df.columns), where)
    problems = row_problems(schema, df)
    if problems:
        shown = "; ".join(f"{where_row(n, lines)}: {reason}" for n, reason in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise SchemaError(f"{where} has {len(problems)} row(s) that break the {schema.name} schema: "
                          f"{shown}{more}. Fix or remove those rows and load it again.")
    return df


def _row_lines(path: Path) -> list[int]:
    """The line number on which each data row of a CSV starts (header = line 1; blank lines skipped, as
    pandas does)."""
    import csv

    # the csv module's field limit is process-wide state (131,072 characters unless raised, as the batch job
    # does): raise it here too, so a long field gets its line number whatever ran before in this process
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))
    starts = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        line = reader.line_num
        for row in reader:
            if row:
                starts.append(line + 1)
            line = reader.line_num
    return starts


def _nul_line(path: Path) -> int | None:
    """The line of the first NUL byte in a file, or None."""
    line = 1
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            at = block.find(b"\x00")
            if at >= 0:
                return line + block.count(b"\n", 0, at)
            line += block.count(b"\n")
    return None


def load_csv(path: str | Path, schema: Schema) -> "pd.DataFrame":
    """Read a CSV as text (ids keep leading zeros) and validate it against the schema."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path} does not exist or is not a file; pass the path to a CSV file with columns "
                          f"{schema.names}")
    nul_line = _nul_line(path)
    if nul_line:  # pandas' C parser would silently cut the value at the NUL
        raise SchemaError(f"{path} contains a NUL character (\\x00) on line {nul_line}; remove it (a NUL is not "
                          f"text a CSV cell or a database can keep) and load it again")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise SchemaError(f"{path} is empty; save it as CSV with a header row {schema.names}") from None
    except pd.errors.ParserError as err:  # e.g. "Expected 3 fields in line 5, saw 4": a ragged row
        raise SchemaError(f"{path} is not a well-formed CSV: {str(err).strip().splitlines()[-1]} (a row with a "
                          f"different number of fields than the header: quote texts that contain commas or "
                          f"quotes)") from None
    except UnicodeDecodeError as err:
        raise SchemaError(f"{path} is not UTF-8 text (byte {err.object[err.start:err.start + 1]!r} at offset "
                          f"{err.start}); save it as UTF-8 CSV with a header row {schema.names}") from None
    df = df.replace({"": None})
    import csv

    try:
        lines = _row_lines(path)
    except (OSError, UnicodeDecodeError, ValueError, csv.Error):  # e.g. a field over csv's size limit: pandas
        lines = None  # read the file, so the rows are still checked; line numbers are only a courtesy
    if lines is not None and len(lines) != len(df):
        lines = None
    return validate(df, schema, where=str(path.name), lines=lines)


def ticket_schema(labelled: bool = True) -> Schema:
    """The ticket schema of the beginner project: the one check shared by training, batch and API."""

    cols = [Column("ticket_id", "id", unique=True), Column("created_at", "timestamp", required=False, nullable=True),
            Column("text", "text", max_chars=MAX_TEXT_CHARS)]
    if labelled:
        cols.append(Column("label", "text", allowed=CLASSES))
    return Schema("ticket" if labelled else "unlabelled ticket", tuple(cols))
