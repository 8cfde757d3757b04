"""The HMS data contract: schemas for every public file, with errors that name file, row and rule.

Tables are read as text (every cell a string) and checked cell by cell before any type
conversion, so a malformed cell is reported where it is instead of silently coerced.
Identifiers must be plain non-negative integers: they become file names, so they can
never point outside the data folder. Nothing here imports Kedro.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from eeg_hba.hms import (
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


def _raise_schema_failures(error: SchemaErrors, source: str) -> None:
    """Turn pandera's failure table into file/row/rule violations, one per row and rule."""
    violations: dict[tuple, Violation] = {}
    cases = error.failure_cases.sort_values(["index", "column"], na_position="first")
    for _, case in cases.iterrows():
        row = None if pd.isna(case["index"]) else int(case["index"])
        whole_row = case["schema_context"] == "DataFrameSchema"
        column = None if whole_row or pd.isna(case["column"]) else str(case["column"])
        value = None if whole_row else case["failure_case"]
        key = (row, column, str(case["check"]))
        violations.setdefault(key, Violation(source, str(case["check"]), row, column, value))
    raise HmsContractError(list(violations.values())) from error


def _validate(schema: pa.DataFrameSchema, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    try:
        return schema.validate(frame, lazy=True)
    except SchemaErrors as error:
        _raise_schema_failures(error, source)
        raise  # unreachable: keeps type checkers content


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
_TRAIN_TYPED_SCHEMA = pa.DataFrameSchema(
    {"label_id": pa.Column("int64", _unique_check("label_id"))},
    checks=[
        pa.Check(
            lambda df: df[list(VOTE_COLUMNS)].sum(axis=1) > 0,
            error="the six votes must not sum to 0",
        )
    ],
)


def parse_train_table(raw: pd.DataFrame, source: str = "train.csv") -> pd.DataFrame:
    """Check train.csv read as text and return it typed as the public file is."""
    check_columns(raw.columns, TRAIN_COLUMNS, source)
    text = _validate(_TRAIN_TEXT_SCHEMA, raw, source)
    typed = text.astype(
        {
            **dict.fromkeys(TRAIN_ID_COLUMNS, "int64"),
            **dict.fromkeys(OFFSET_COLUMNS, "float64"),
            **dict.fromkeys(VOTE_COLUMNS, "int64"),
        }
    )
    return _validate(_TRAIN_TYPED_SCHEMA, typed, source)


_TEST_TEXT_SCHEMA = pa.DataFrameSchema(
    {c: _text_column(PLAIN_INTEGER, f"{c} {_ID_RULE}") for c in TEST_COLUMNS}
)


def parse_test_table(raw: pd.DataFrame, source: str = "test.csv") -> pd.DataFrame:
    """Check test.csv read as text and return it with int64 ids."""
    check_columns(raw.columns, TEST_COLUMNS, source)
    text = _validate(_TEST_TEXT_SCHEMA, raw, source)
    typed = text.astype(dict.fromkeys(TEST_COLUMNS, "int64"))
    return _validate(
        pa.DataFrameSchema({"eeg_id": pa.Column("int64", _unique_check("eeg_id"))}), typed, source
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


def _float_columns_schema(
    columns: Sequence[str], extra: dict[str, pa.Column]
) -> pa.DataFrameSchema:
    floats = {
        c: pa.Column(
            checks=pa.Check(pd.api.types.is_float_dtype, error="must be a float column"),
            nullable=True,  # the public files contain NaN stretches
        )
        for c in columns
        if c not in extra
    }
    return pa.DataFrameSchema({**extra, **floats})


_EEG_SCHEMA = _float_columns_schema(EEG_CHANNELS, {})
_SPECTROGRAM_SCHEMA = _float_columns_schema(
    SPECTROGRAM_COLUMNS,
    {
        SPECTROGRAM_TIME_COLUMN: pa.Column(
            checks=pa.Check(pd.api.types.is_numeric_dtype, error="time must be numeric seconds")
        )
    },
)


def validate_eeg_frame(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """An EEG parquet: the 20 channels in order, float microvolts at 200 Hz."""
    check_columns(frame.columns, EEG_CHANNELS, source)
    return _validate(_EEG_SCHEMA, frame, source)


def validate_spectrogram_frame(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """A spectrogram parquet: ``time`` then the 400 region/frequency power columns."""
    check_columns(frame.columns, SPECTROGRAM_COLUMNS, source)
    return _validate(_SPECTROGRAM_SCHEMA, frame, source)
