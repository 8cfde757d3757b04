"""The HMS data contract: schemas for every public file, with errors that name file, row and rule.

Tables are read as text (every cell a string) and checked cell by cell before any type
conversion, so a malformed cell is reported where it is instead of silently coerced.
Identifiers must be plain non-negative integers: they become file names, so they can
never point outside the data folder. Nothing here imports Kedro.
"""

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandera.errors import SchemaErrors

from eeg_hba.hms.layout import (
    CLASSES,
    EEG_CHANNELS,
    OFFSET_COLUMNS,
    SPECTROGRAM_COLUMNS,
    SPECTROGRAM_TIME_COLUMN,
    SUBMISSION_COLUMNS,
    TEST_COLUMNS,
    TRAIN_COLUMNS,
    TRAIN_ID_COLUMNS,
    VOTE_COLUMNS,
)
from eeg_hba.hms.windows import (
    ParquetLayout,
    WindowError,
    eeg_rows,
    spectrogram_rows,
    unreadable_problem,
)

ON_BAD_ROWS = ("error", "skip")
REJECTED_ROW_COLUMNS = ("file", "row", "line", "column", "value", "rule")

PLAIN_INTEGER = r"^[0-9]+$"
NON_NEGATIVE_DECIMAL = r"^[0-9]+(\.[0-9]+)?$"
MAX_LISTED_VIOLATIONS = 20
PROBABILITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Violation:
    """One broken rule at one place: ``row`` is the 0-based data row, None for the header."""

    file: str
    rule: str
    row: int | None = None
    column: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = "header" if self.row is None else f"row {self.row} (line {self.row + 2})"
        what = "" if self.column is None else f" column '{self.column}'"
        value = "" if self.value is None else f" value {self.value!r}"
        return f"{self.file}, {where}:{what}{value} breaks rule: {self.rule}"


class HmsContractError(ValueError):
    """An input breaks the HMS contract; the message lists each file, row and rule."""

    def __init__(self, violations: Sequence[Violation]):
        self.violations = list(violations)
        shown = [f"  - {v}" for v in self.violations[:MAX_LISTED_VIOLATIONS]]
        more = len(self.violations) - len(shown)
        tail = [f"  ... and {more} more"] if more > 0 else []
        super().__init__(
            f"{len(self.violations)} HMS contract violation(s):\n" + "\n".join(shown + tail)
        )


def check_columns(columns: Sequence[str], expected: Sequence[str], source: str) -> None:
    """Header rule: exactly the expected column names, in the expected order."""
    actual = [str(c) for c in columns]
    missing = [c for c in expected if c not in actual]
    unexpected = [c for c in actual if c not in expected]
    violations = [Violation(source, f"required column '{c}' is missing") for c in missing]
    violations += [Violation(source, f"column '{c}' is not in the HMS layout") for c in unexpected]
    if not violations and actual != list(expected):
        violations.append(
            Violation(source, f"columns must be in the order {list(expected)}, found {actual}")
        )
    if violations:
        raise HmsContractError(violations)


def _schema_violations(error: SchemaErrors, source: str) -> list[Violation]:
    """Pandera's failure table as file/row/rule violations, one per row and rule."""
    violations: dict[tuple, Violation] = {}
    cases = error.failure_cases.sort_values(["index", "column"], na_position="first")
    for _, case in cases.iterrows():
        row = None if pd.isna(case["index"]) else int(case["index"])
        whole_row = case["schema_context"] == "DataFrameSchema"
        column = None if whole_row or pd.isna(case["column"]) else str(case["column"])
        value = None if whole_row else case["failure_case"]
        key = (row, column, str(case["check"]))
        violations.setdefault(key, Violation(source, str(case["check"]), row, column, value))
    return list(violations.values())


def _validate(schema: pa.DataFrameSchema, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    try:
        return schema.validate(frame, lazy=True)
    except SchemaErrors as error:
        raise HmsContractError(_schema_violations(error, source)) from error


def _screen(
    schema: pa.DataFrameSchema, frame: pd.DataFrame, source: str
) -> tuple[pd.DataFrame, list[Violation]]:
    """The rows that pass ``schema`` and the violations of those that do not.

    A violation without a row (a whole column of the wrong type) leaves nothing to keep,
    so it raises at once.
    """
    try:
        return schema.validate(frame, lazy=True), []
    except SchemaErrors as error:
        violations = _schema_violations(error, source)
    if any(v.row is None for v in violations):
        raise HmsContractError(violations)
    return frame.drop(index={v.row for v in violations}), violations


def _require_rows(frame: pd.DataFrame, source: str) -> None:
    if frame.empty:
        raise HmsContractError([Violation(source, "the file must have at least one data row")])


def _text_column(pattern: str, rule: str) -> pa.Column:
    return pa.Column(str, pa.Check.str_matches(pattern, error=rule), coerce=True)


def _unique_check(column: str) -> pa.Check:
    return pa.Check(
        lambda s: ~s.duplicated(), error=f"{column} must be unique: it repeats an earlier row"
    )


_ID_RULE = "must be a plain non-negative integer"
_OFFSET_RULE = "must be a non-negative number of seconds"
_VOTE_RULE = "must be a non-negative integer vote count"

_TRAIN_TEXT_SCHEMA = pa.DataFrameSchema(
    {
        **{c: _text_column(PLAIN_INTEGER, f"{c} {_ID_RULE}") for c in TRAIN_ID_COLUMNS},
        **{c: _text_column(NON_NEGATIVE_DECIMAL, f"{c} {_OFFSET_RULE}") for c in OFFSET_COLUMNS},
        **{c: _text_column(PLAIN_INTEGER, f"{c} {_VOTE_RULE}") for c in VOTE_COLUMNS},
        "expert_consensus": pa.Column(
            str, pa.Check.isin(CLASSES, error=f"expert_consensus must be one of {list(CLASSES)}")
        ),
    },
    strict=False,
)


def _one_recording_check(column: str) -> pa.Check:
    return pa.Check(
        lambda df: df.groupby("eeg_id")[column].transform("nunique") == 1,
        error=f"all rows of one eeg_id must share one {column}",
    )


_TRAIN_TYPED_SCHEMA = pa.DataFrameSchema(
    {"label_id": pa.Column("int64", _unique_check("label_id"))},
    checks=[
        pa.Check(
            lambda df: df[list(VOTE_COLUMNS)].sum(axis=1) > 0,
            error="the six votes must not sum to 0",
        ),
        _one_recording_check("spectrogram_id"),
        _one_recording_check("patient_id"),
    ],
)


def screen_train_table(
    raw: pd.DataFrame, source: str = "train.csv"
) -> tuple[pd.DataFrame, list[Violation]]:
    """train.csv read as text: its good rows typed as the public file is, and the
    violations of the others. A bad header or an empty table raises: nothing to keep."""
    check_columns(raw.columns, TRAIN_COLUMNS, source)
    _require_rows(raw, source)
    text, violations = _screen(_TRAIN_TEXT_SCHEMA, raw, source)
    typed = text.astype(
        {
            **dict.fromkeys(TRAIN_ID_COLUMNS, "int64"),
            **dict.fromkeys(OFFSET_COLUMNS, "float64"),
            **dict.fromkeys(VOTE_COLUMNS, "int64"),
        }
    )
    typed, more = _screen(_TRAIN_TYPED_SCHEMA, typed, source)
    return typed, violations + more


def parse_train_table(raw: pd.DataFrame, source: str = "train.csv") -> pd.DataFrame:
    """Check train.csv read as text and return it typed; any violation raises."""
    typed, violations = screen_train_table(raw, source)
    if violations:
        raise HmsContractError(violations)
    return typed


def apply_bad_row_policy(
    table: pd.DataFrame, violations: Sequence[Violation], on_bad_rows: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept rows, rejected-rows report). ``error``: any violation raises; ``skip``: rows
    with a violation are left out and listed, one line per violation, with the reason."""
    if on_bad_rows not in ON_BAD_ROWS:
        raise ValueError(f"on_bad_rows must be one of {list(ON_BAD_ROWS)}, got {on_bad_rows!r}")
    if violations and (on_bad_rows == "error" or any(v.row is None for v in violations)):
        raise HmsContractError(violations)
    report = pd.DataFrame(
        [
            (v.file, v.row, v.row + 2, v.column, None if v.value is None else str(v.value), v.rule)
            for v in violations
            if v.row is not None
        ],
        columns=list(REJECTED_ROW_COLUMNS),
    ).sort_values("row", kind="stable", ignore_index=True)
    return table.drop(index=set(report["row"]), errors="ignore"), report


_TEST_TEXT_SCHEMA = pa.DataFrameSchema(
    {c: _text_column(PLAIN_INTEGER, f"{c} {_ID_RULE}") for c in TEST_COLUMNS}
)


def parse_test_table(raw: pd.DataFrame, source: str = "test.csv") -> pd.DataFrame:
    """Check test.csv read as text and return it with int64 ids."""
    check_columns(raw.columns, TEST_COLUMNS, source)
    _require_rows(raw, source)
    text = _validate(_TEST_TEXT_SCHEMA, raw, source)
    typed = text.astype(dict.fromkeys(TEST_COLUMNS, "int64"))
    return _validate(
        pa.DataFrameSchema({"eeg_id": pa.Column("int64", _unique_check("eeg_id"))}), typed, source
    )


def parse_test_windows(raw: pd.DataFrame, source: str = "test.csv") -> pd.DataFrame:
    """test.csv checked and typed, with the windows its rows cut: a test EEG is exactly
    50 s and its spectrogram exactly 600 s, so both windows start at 0."""
    return parse_test_table(raw, source).assign(
        eeg_label_offset_seconds=0.0, spectrogram_label_offset_seconds=0.0
    )


def _probability_rows_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "eeg_id": pa.Column("int64", _unique_check("eeg_id")),
            **{
                c: pa.Column("float64", pa.Check.in_range(0.0, 1.0, error=f"{c} must be in [0, 1]"))
                for c in VOTE_COLUMNS
            },
        },
        checks=[
            pa.Check(
                lambda df: (
                    (df[list(VOTE_COLUMNS)].sum(axis=1) - 1.0).abs() <= PROBABILITY_TOLERANCE
                ),
                error="the six probabilities must sum to 1",
            )
        ],
    )


def parse_submission_table(
    raw: pd.DataFrame, source: str = "sample_submission.csv"
) -> pd.DataFrame:
    """Check a submission (or sample_submission.csv) read as text; return it typed."""
    check_columns(raw.columns, SUBMISSION_COLUMNS, source)
    text = _validate(
        pa.DataFrameSchema(
            {
                "eeg_id": _text_column(PLAIN_INTEGER, f"eeg_id {_ID_RULE}"),
                **{
                    c: _text_column(r"^[0-9.eE+-]+$", f"{c} must be a number") for c in VOTE_COLUMNS
                },
            }
        ),
        raw,
        source,
    )
    typed = text.astype({"eeg_id": "int64", **dict.fromkeys(VOTE_COLUMNS, "float64")})
    return _validate(_probability_rows_schema(), typed, source)


def validate_submission(frame: pd.DataFrame, source: str = "submission.csv") -> pd.DataFrame:
    """Check a typed submission frame before it is written."""
    check_columns(frame.columns, SUBMISSION_COLUMNS, source)
    return _validate(_probability_rows_schema(), frame, source)


def _is_numeric(kind: pyarrow.DataType) -> bool:
    return pyarrow.types.is_integer(kind) or pyarrow.types.is_floating(kind)


def layout_violations(
    schema: pyarrow.Schema, expected: Sequence[str], source: str
) -> list[Violation]:
    """The HMS layout of a signal file from its schema alone: exactly ``expected`` columns
    in order, each a float column (NaN allowed: the public files have NaN stretches) but
    ``time``, which holds numeric seconds."""
    try:
        check_columns(schema.names, expected, source)
    except HmsContractError as error:
        return error.violations
    return [
        Violation(source, rule, None, field.name, str(field.type))
        for field in schema
        for rule, holds in (
            ("time must be numeric seconds", _is_numeric(field.type))
            if field.name == SPECTROGRAM_TIME_COLUMN
            else ("must be a float column", pyarrow.types.is_floating(field.type)),
        )
        if not holds
    ]


def _frame_layout(frame: pd.DataFrame, expected: Sequence[str], source: str) -> pd.DataFrame:
    violations = layout_violations(
        pyarrow.Schema.from_pandas(frame, preserve_index=False), expected, source
    )
    if violations:
        raise HmsContractError(violations)
    return frame


def validate_eeg_frame(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """An EEG parquet: the 20 channels in order, float microvolts at 200 Hz."""
    return _frame_layout(frame, EEG_CHANNELS, source)


def validate_spectrogram_frame(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """A spectrogram parquet: ``time`` then the 400 region/frequency power columns."""
    return _frame_layout(frame, SPECTROGRAM_COLUMNS, source)


Layout = Callable[[], ParquetLayout]


@dataclass(frozen=True)
class ReferencedFile:
    """One parquet file that a table's ``column`` names, and the rows whose windows it holds.

    ``layout`` loads what its footer says (and its ``time`` column); None when no such
    file exists.
    """

    table: str
    path: str
    column: str
    file_id: int
    rows: tuple[int, ...]
    offsets: tuple[float, ...]
    layout: Layout | None

    def violations(self, problem: str, rows: Sequence[int] | None = None) -> list[Violation]:
        """``problem`` reported on each of ``rows`` (default: every row using the file)."""
        return [
            Violation(self.table, referenced_file_rule(self.path, problem), row, self.column,
                      self.file_id)
            for row in rows or self.rows
        ]  # fmt: skip


def referenced_file_rule(path: str, problem: str) -> str:
    """The rule a row breaks when the file it names has ``problem``."""
    return f"referenced file {path} {problem}"


#: The folder (after ``<split>_``) of the files each id column names.
SIGNAL_FOLDERS = {"eeg_id": "eegs", "spectrogram_id": "spectrograms"}


def signal_folder(raw_data_dir: str, split: str, column: str) -> str:
    """The folder of the files ``column`` names: ``<raw_data_dir>/<split>_eegs`` or
    ``<raw_data_dir>/<split>_spectrograms``."""
    return str(Path(raw_data_dir) / f"{split}_{SIGNAL_FOLDERS[column]}")


def recorded_violations(
    problems: pd.DataFrame, source: str, raw_data_dir: str, split: str
) -> list[Violation]:
    """The broken rules the preprocessing pass recorded
    (``eeg_hba.preprocessing.shards.PROBLEM_KEYS``) as violations of ``source``'s rows, in
    row order."""
    violations = [
        Violation(
            source,
            referenced_file_rule(f"{signal_folder(raw_data_dir, split, column)}/{file_id}.parquet",
                                 problem),
            int(row), str(column), int(file_id),
        )
        for row, column, file_id, problem in problems.itertuples(index=False)
    ]  # fmt: skip
    return sorted(violations, key=lambda v: (v.row, v.column))


def referenced_files(
    table: pd.DataFrame,
    source: str,
    folder: str,
    column: str,
    offset_column: str,
    layouts: dict[str, Layout],
) -> list[ReferencedFile]:
    """One check per file named in ``column`` (ids are validated integers: no path escapes).

    Rows are named by ``table.index``: their row in ``source``.
    """
    return [
        ReferencedFile(
            source,
            f"{folder}/{file_id}.parquet",
            column,
            int(file_id),
            tuple(int(row) for row in rows.index),
            tuple(float(offset) for offset in rows[offset_column]),
            layouts.get(str(file_id)),
        )
        for file_id, rows in table.groupby(column, sort=True)
    ]


def check_referenced_file(file: ReferencedFile) -> list[Violation]:
    """From the file's footer and ``time`` column alone: it must exist, be readable parquet
    in the HMS layout with at least one row, and hold every window its rows cut. The data
    in each window is checked where it is read (``eeg_hba.preprocessing.shards``)."""
    if file.layout is None:
        return file.violations("does not exist")
    try:
        layout = file.layout()
    except Exception as error:  # truncated, empty, not parquet: all of them unreadable
        return file.violations(unreadable_problem(error))
    is_eeg = file.column == "eeg_id"
    broken = layout_violations(
        layout.schema, EEG_CHANNELS if is_eeg else SPECTROGRAM_COLUMNS, file.path
    )
    if broken:
        rules = "; ".join(dict.fromkeys(v.rule for v in broken))
        kind = "EEG" if is_eeg else "spectrogram"
        return file.violations(f"must follow the HMS {kind} layout: {rules}")
    if layout.num_rows == 0:
        return file.violations("must have at least one row")
    times = None if is_eeg else layout.columns[SPECTROGRAM_TIME_COLUMN].to_numpy()
    violations = []
    for row, offset in zip(file.rows, file.offsets, strict=True):
        try:
            eeg_rows(layout.num_rows, offset) if is_eeg else spectrogram_rows(times, offset)
        except WindowError as error:
            violations += file.violations(f"must hold the window: {error}", [row])
    return violations


def referenced_file_violations(
    table: pd.DataFrame,
    source: str,
    raw_data_dir: str,
    split: str,
    eeg_layouts: dict[str, Layout],
    spectrogram_layouts: dict[str, Layout],
    workers: int | None = None,
) -> list[Violation]:
    """Every ``<split>_eegs`` and ``<split>_spectrograms`` file the rows name, checked from
    its footer (and a spectrogram's ``time`` column): present, readable, in the HMS
    layout, holding the window. Threads suffice: reading parquet releases the GIL
    (``workers``: None = one per CPU core)."""
    files = [
        file
        for column, offset, layouts in (
            ("eeg_id", "eeg_label_offset_seconds", eeg_layouts),
            ("spectrogram_id", "spectrogram_label_offset_seconds", spectrogram_layouts),
        )
        for file in referenced_files(
            table, source, signal_folder(raw_data_dir, split, column), column, offset, layouts
        )
    ]
    with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        found = [v for checked in pool.map(check_referenced_file, files) for v in checked]
    return sorted(found, key=lambda v: (v.row, v.column))
