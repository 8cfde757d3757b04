"""Labelled windows: where each lies in its files, what its data must hold, and which
windows become model-input images.

Ingestion places every window from a file's footer (row count) and ``time`` column
alone; the pass that reads each file's data once checks the data of every window and
cuts the images. Light on imports (numpy, pandas): the worker processes of that pass
import it. No Kedro imports.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from eeg_hba.hms.layout import (
    EEG_CHANNELS,
    EEG_SAMPLING_HZ,
    EEG_WINDOW_SECONDS,
    SPECTROGRAM_STEP_SECONDS,
    SPECTROGRAM_TIME_COLUMN,
    SPECTROGRAM_VALUE_COLUMNS,
    SPECTROGRAM_WINDOW_SECONDS,
)

SPECTROGRAM_FRAMES = SPECTROGRAM_WINDOW_SECONDS // SPECTROGRAM_STEP_SECONDS
EEG_SAMPLES = EEG_WINDOW_SECONDS * EEG_SAMPLING_HZ


class WindowError(ValueError):
    """A labelled window does not fit inside its file."""


@dataclass(frozen=True)
class ParquetLayout:
    """A parquet file as its footer describes it, and the few columns read from it (a
    spectrogram's ``time``): enough to place windows without reading the file's data.

    ``schema`` leaves out the columns pandas stores its index in: reading the file with
    pandas would not show them as columns either.
    """

    schema: pa.Schema
    num_rows: int
    columns: pa.Table


def read_layout(source: "pa.NativeFile | str", columns: Sequence[str] = ()) -> ParquetLayout:
    """What a parquet file's footer says (its stored pandas index left out) and those of
    ``columns`` it has: all that placing windows needs."""
    parquet = pq.ParquetFile(source)
    schema = parquet.schema_arrow
    index = (schema.pandas_metadata or {}).get("index_columns", [])
    stored_index = {name for name in index if isinstance(name, str)}
    schema = pa.schema([field for field in schema if field.name not in stored_index])
    wanted = [name for name in columns if name in schema.names]
    return ParquetLayout(schema, parquet.metadata.num_rows, parquet.read(columns=wanted))


def unreadable_problem(error: Exception) -> str:
    """What is wrong with a file that failed to load: truncated, empty, not parquet."""
    reason = str(error).strip().splitlines()[-1] if str(error).strip() else repr(error)
    return f"must be a readable parquet file ({reason})"


def eeg_rows(n_rows: int, offset_seconds: float) -> slice:
    """The rows of the 50 s EEG window at ``offset_seconds``: [offset*200, (offset+50)*200)."""
    start = round(offset_seconds * EEG_SAMPLING_HZ)
    if start < 0 or start + EEG_SAMPLES > n_rows:
        raise WindowError(
            f"the 50 s EEG window at offset {offset_seconds} s needs rows {start}-"
            f"{start + EEG_SAMPLES - 1}, the file has {n_rows} rows"
        )
    return slice(start, start + EEG_SAMPLES)


def spectrogram_rows(times: np.ndarray, offset_seconds: float) -> np.ndarray:
    """The rows of the 600 s spectrogram window at ``offset_seconds``, in file order:
    those with ``offset <= time < offset + 600``, as in the public data."""
    inside = (times >= offset_seconds) & (times < offset_seconds + SPECTROGRAM_WINDOW_SECONDS)
    rows = np.flatnonzero(inside)
    if len(rows) != SPECTROGRAM_FRAMES:
        raise WindowError(
            f"the 600 s window at offset {offset_seconds} s has {len(rows)} of "
            f"{SPECTROGRAM_FRAMES} frames (file covers {times.min()}-{times.max()} s)"
        )
    return rows


def column_values(
    table: pa.Table, columns: Sequence[str], start: int, stop: int, dtype: type
) -> np.ndarray:
    """Rows ``[start, stop)`` of ``columns`` as one (rows, columns) array in column order
    (Fortran); nulls are NaN.

    Only those rows are converted (by Arrow, in one pass): a long file costs its read,
    not a copy of it."""
    part = table.select(list(columns)).slice(start, stop - start)
    kind = pa.from_numpy_dtype(dtype)
    if any(field.type != kind for field in part.schema):
        part = part.cast(pa.schema([(name, kind) for name in part.column_names]))
    return np.asarray(part.to_tensor(null_to_nan=True, row_major=False))


def eeg_window(table: pa.Table, offset_seconds: float) -> np.ndarray:
    """The 50 s window at ``offset_seconds`` of an EEG file: (10000 samples, 20 channels)."""
    rows = eeg_rows(table.num_rows, offset_seconds)
    return column_values(table, EEG_CHANNELS, rows.start, rows.stop, np.float32)


def spectrogram_window(table: pa.Table, offset_seconds: float) -> np.ndarray:
    """The 600 s window at ``offset_seconds`` of a spectrogram file: (300 frames, 400)."""
    rows = spectrogram_rows(table[SPECTROGRAM_TIME_COLUMN].to_numpy(), offset_seconds)
    values = column_values(table, SPECTROGRAM_VALUE_COLUMNS, rows[0], rows[-1] + 1, np.float32)
    return values[rows - rows[0]]


def eeg_window_problems(
    missing: np.ndarray, offset_seconds: float, max_all_nan_channels: int
) -> list[str]:
    """What is wrong with the data of one EEG window, from its NaN mask (samples, 20
    channels): only NaN, or more all-NaN channels than allowed (real files sometimes lack
    a channel)."""
    if missing.all():
        return [f"has only NaN in the window at offset {offset_seconds} s"]
    names = [c for c, nan in zip(EEG_CHANNELS, missing.all(axis=0), strict=True) if nan]
    if len(names) > max_all_nan_channels:
        return [
            f"may have at most {max_all_nan_channels} all-NaN channel(s) in the window "
            f"at offset {offset_seconds} s, has {len(names)}: {names}"
        ]
    return []


def non_finite_problems(
    infinite: np.ndarray, offset_seconds: float, columns: Sequence[str]
) -> list[str]:
    """What is wrong with a window holding +inf or -inf, from its mask (rows, columns):
    which columns. NaN is a gap the other rules weigh; an infinity is corrupt data, and
    would turn every filtered sample and spectrum it touches into NaN or inf."""
    if not infinite.any():
        return []
    names = [c for c, bad in zip(columns, infinite.any(axis=0), strict=True) if bad]
    shown = names if len(names) <= 5 else [*names[:5], "..."]
    return [
        f"must hold only finite values or NaN in the window at offset {offset_seconds} s, "
        f"has +inf or -inf in {len(names)} column(s): {shown}"
    ]


def spectrogram_window_problems(missing: np.ndarray, offset_seconds: float) -> list[str]:
    """What is wrong with the data of one spectrogram window, from its NaN mask: only NaN."""
    if missing.all():
        return [f"has only NaN in the window at offset {offset_seconds} s"]
    return []
