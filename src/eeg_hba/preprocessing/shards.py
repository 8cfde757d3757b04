"""Model inputs as shards: the one pass that reads the data of every raw file.

Label rows are grouped by spectrogram file (every EEG of a recording shares it; all the
rows of an EEG share its spectrogram), whole groups per shard, so each file is read by
exactly one shard, once. While a file is in memory, the data of every labelled window
(sub-window) that uses it is checked (``eeg_hba.hms.windows``: not all NaN, not too many
all-NaN channels, no +inf or -inf) and the windows that become images are cut from the
rows that pass.
A shard records the rows that broke a rule with the rule; whether they stop the run or
are left out is decided after the pass, so a shard's content never depends on it.

Each window becomes the inputs of both kinds of model (``model_inputs.model_inputs``): an
image (``images``) and the 16 filtered chains (``signals``), stored as float16
(``SHARD_INPUT_DTYPE``): values of a few units, kept to about 3 significant digits, half
the size of float32; the training input pipeline reads them back as float32 (one array
at a time: a model reads only its own). The classical baseline's features
(``window_features.window_features``) of each image window are computed in the same pass,
from the same windows. Shards are computed one at a time per worker; memory does not grow
with the number of windows. No pandera, no scikit-learn (worker processes and the served
model import this module). No Kedro imports.
"""

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from eeg_hba.hms.labels import image_windows
from eeg_hba.hms.layout import (
    EEG_CHANNELS,
    SPECTROGRAM_TIME_COLUMN,
    SPECTROGRAM_VALUE_COLUMNS,
    TARGET_COLUMNS,
    VOTE_COLUMNS,
)
from eeg_hba.hms.windows import (
    WindowError,
    column_values,
    eeg_rows,
    eeg_window_problems,
    non_finite_problems,
    spectrogram_rows,
    spectrogram_window_problems,
    unreadable_problem,
)
from eeg_hba.preprocessing.model_inputs import FeatureConfig, given_panels, model_inputs
from eeg_hba.preprocessing.window_features import FEATURE_NAMES, window_features

Loader = Callable[[], pa.Table]
ShardLoader = Callable[[], Mapping[str, np.ndarray]]
SHARD_INPUT_DTYPE = np.float16
#: What a shard records about each rule a row broke: its row, the column naming the
#: file (eeg_id or spectrogram_id), the file's id and the problem with the file.
PROBLEM_KEYS = ("problem_row", "problem_column", "problem_file_id", "problem")


def plan_shards(windows: pd.DataFrame, shard_size: int) -> pd.DataFrame:
    """Add ``shard`` and ``position``: whole spectrogram groups, about ``shard_size`` each."""
    ordered = windows.sort_values(["spectrogram_id", "eeg_id"], kind="stable").reset_index(
        drop=True
    )
    group_sizes = ordered.groupby("spectrogram_id", sort=False).size()
    shard_of_group = (group_sizes.cumsum().shift(fill_value=0) // shard_size).to_numpy()
    shard_numbers = np.repeat(shard_of_group, group_sizes.to_numpy())
    _, dense = np.unique(shard_numbers, return_inverse=True)  # no empty shard numbers
    ordered["shard"] = [f"shard-{n:05d}" for n in dense]
    ordered["position"] = ordered.groupby("shard").cumcount()
    return ordered


def plan_rows(rows: pd.DataFrame, shard_size: int, per_eeg: int | None = 1) -> pd.DataFrame:
    """Every label row with the ``shard`` that reads its files: the spectrogram groups of
    its image windows (``per_eeg`` of each EEG, ``image_windows``), about ``shard_size``
    images per shard. Rows are named by ``row``."""
    planned = plan_shards(image_windows(rows, per_eeg), shard_size)
    shard_of = planned.drop_duplicates("spectrogram_id").set_index("spectrogram_id")["shard"]
    ordered = rows.sort_values(["spectrogram_id", "eeg_id", "row"], kind="stable")
    return ordered.assign(shard=shard_of.loc[ordered["spectrogram_id"]].to_numpy()).reset_index(
        drop=True
    )


@dataclass(frozen=True)
class ShardJob:
    """Everything one worker needs for one shard: rows and the loaders of their files."""

    name: str
    rows: pd.DataFrame
    spectrograms: dict[str, Loader]
    eegs: dict[str, Loader]
    config: FeatureConfig
    max_all_nan_channels: int
    images_per_eeg: int | None = 1  # ``image_windows``' per_eeg: None, every sub-window


def shard_jobs(
    planned: pd.DataFrame,
    spectrograms: dict[str, Loader],
    eegs: dict[str, Loader],
    config: FeatureConfig,
    max_all_nan_channels: int,
    images_per_eeg: int | None = 1,
) -> Iterator[ShardJob]:
    """One job per shard, carrying only the loaders its rows need."""
    for name, rows in planned.groupby("shard", sort=True):
        yield ShardJob(
            name,
            rows.drop(columns="shard"),
            {str(s): spectrograms[str(s)] for s in rows["spectrogram_id"].unique()},
            {str(e): eegs[str(e)] for e in rows["eeg_id"].unique()},
            config,
            max_all_nan_channels,
            images_per_eeg,
        )


def shard_fingerprint(job: ShardJob) -> np.ndarray:
    """What a shard's content follows from: its rows in order, the knobs and the classical
    features' names. A shard on disk with the same fingerprint (and no rule broken) need
    not be computed again."""
    knobs = (job.config, job.max_all_nan_channels, job.images_per_eeg, FEATURE_NAMES)
    digest = hashlib.sha256(repr(knobs).encode())
    digest.update(pd.util.hash_pandas_object(job.rows, index=False).to_numpy().tobytes())
    return np.array(digest.hexdigest())


def _cut_windows(
    table: pa.Table, columns: tuple[str, ...], dtype: type, places: dict[float, np.ndarray]
) -> tuple[dict[float, np.ndarray], dict[float, np.ndarray], dict[float, np.ndarray]]:
    """The windows at ``places`` (rows of ``table`` per offset), their NaN masks and their
    +-inf masks, converted and masked once over the rows they span; windows of consecutive
    rows are views."""
    if not places:
        return {}, {}, {}
    first = min(int(rows[0]) for rows in places.values())
    last = max(int(rows[-1]) for rows in places.values())
    values = column_values(table, columns, first, last + 1, dtype)
    missing, infinite = np.isnan(values), np.isinf(values)
    where = {
        offset: slice(rows[0] - first, rows[-1] - first + 1)
        if rows[-1] - rows[0] + 1 == len(rows)
        else rows - first
        for offset, rows in places.items()
    }
    return tuple(
        {offset: array[part] for offset, part in where.items()}
        for array in (values, missing, infinite)
    )


@dataclass(frozen=True)
class _FileKind:
    """How windows are placed in, cut from and checked in one kind of signal file."""

    column: str
    place: Callable[[pa.Table, float], np.ndarray]
    columns: tuple[str, ...]
    dtype: type


def _eeg_place(table: pa.Table, offset: float) -> np.ndarray:
    rows = eeg_rows(table.num_rows, offset)
    return np.arange(rows.start, rows.stop)


def _spectrogram_place(table: pa.Table, offset: float) -> np.ndarray:
    return spectrogram_rows(table[SPECTROGRAM_TIME_COLUMN].to_numpy(), offset)


_EEG = _FileKind("eeg_id", _eeg_place, EEG_CHANNELS, np.float32)  # as the files hold it
_SPECTROGRAM = _FileKind(
    "spectrogram_id", _spectrogram_place, SPECTROGRAM_VALUE_COLUMNS, np.float32
)


def _checked_windows(
    load: Loader,
    offsets: np.ndarray,
    kind: _FileKind,
    check: Callable[[np.ndarray, float], list[str]],
) -> tuple[dict[float, np.ndarray], dict[float, list[str]]]:
    """The windows of one file at ``offsets``, and what is wrong with each (``check``
    looks at a window's NaN mask; every window is checked for +-inf too): a problem of the
    whole file (unreadable data) is one of every window."""
    try:
        table = load()
    except Exception as error:  # data pages that do not decode
        return {}, {offset: [unreadable_problem(error)] for offset in offsets}
    places, problems = {}, {}
    for offset in offsets:
        try:
            places[offset] = kind.place(table, offset)
        except WindowError as error:  # the file changed since ingestion read its footer
            problems[offset] = [f"must hold the window: {error}"]
    windows, masks, infinite = _cut_windows(table, kind.columns, kind.dtype, places)
    for offset, missing in masks.items():
        problems[offset] = check(missing, offset) + non_finite_problems(
            infinite[offset], offset, kind.columns
        )
    return windows, {offset: found for offset, found in problems.items() if found}


def compute_shard(job: ShardJob) -> dict[str, np.ndarray]:
    """One shard: every row's windows checked, each file read once, and the images and
    classical-baseline features (and targets, for labelled rows) of the image windows of
    the rows that pass, with the rules broken and the shard's fingerprint."""
    rows = job.rows.reset_index(drop=True)
    ids = {kind: rows[kind.column].to_numpy() for kind in (_EEG, _SPECTROGRAM)}
    offsets = {kind: rows[kind.column.replace("_id", "_label_offset_seconds")].to_numpy()
               for kind in (_EEG, _SPECTROGRAM)}  # fmt: skip
    rows_of_eeg = rows.groupby("eeg_id").indices
    planned = image_windows(rows, job.images_per_eeg).sort_values(
        ["spectrogram_id", "eeg_id"], kind="stable"
    )
    planned_of_eeg = planned.groupby("eeg_id", sort=False).indices  # several, if need be
    planned_windows = list(planned.itertuples())
    found: list[tuple[int, str, int, str]] = []
    inputs: dict[str, list[np.ndarray]] = {"images": [], "signals": []}
    features, windows = [], []

    def check_file(kind: _FileKind, load: Loader, at: np.ndarray, check) -> tuple[dict, np.ndarray]:
        """Checked windows of the file for rows ``at``, and which of those rows break a rule."""
        cut, problems = _checked_windows(load, np.unique(offsets[kind][at]), kind, check)
        broken = np.zeros(len(at), dtype=bool)
        for number, row in enumerate(at):
            for problem in problems.get(offsets[kind][row], []):
                found.append((int(rows.at[row, "row"]), kind.column, int(ids[kind][row]), problem))
                broken[number] = True
        return cut, broken

    def eeg_check(missing: np.ndarray, offset: float) -> list[str]:
        return eeg_window_problems(missing, offset, job.max_all_nan_channels)

    eegs_of_spectrogram = planned.groupby("spectrogram_id", sort=False)["eeg_id"].unique()
    for spectrogram_id, eeg_ids in eegs_of_spectrogram.items():
        at = np.concatenate([rows_of_eeg[e] for e in eeg_ids])
        given, given_broken = check_file(
            _SPECTROGRAM, job.spectrograms[str(spectrogram_id)], at, spectrogram_window_problems
        )
        broken_rows = set(at[given_broken])
        for eeg_id in eeg_ids:
            at = rows_of_eeg[eeg_id]
            eeg, eeg_broken = check_file(_EEG, job.eegs[str(eeg_id)], at, eeg_check)
            passing = [row for row, bad in zip(at, eeg_broken, strict=True)
                       if not bad and row not in broken_rows]  # fmt: skip
            chosen = (
                [planned_windows[number] for number in planned_of_eeg[eeg_id]]
                if len(passing) == len(at)  # else the image windows are chosen again
                else list(image_windows(rows.iloc[passing], job.images_per_eeg).itertuples())
            )
            for window in chosen:
                given_window = given[window.spectrogram_label_offset_seconds]
                eeg_window = eeg[window.eeg_label_offset_seconds]
                for key, values in model_inputs(given_window, eeg_window, job.config).items():
                    inputs[key].append(values)
                features.append(
                    window_features(given_panels(given_window), eeg_window, job.config)
                )
                windows.append(window)
    made = pd.DataFrame(windows)
    columns = list(zip(*found, strict=True)) or [(), (), (), ()]
    shapes = {
        "images": (job.config.image_height, job.config.image_width),
        "signals": job.config.signal_shape,
    }  # of one window, also when the shard has none
    arrays = {
        **{
            key: np.array(inputs[key], dtype=SHARD_INPUT_DTYPE).reshape(-1, *shape)
            for key, shape in shapes.items()
        },
        "features": np.array(features, dtype=np.float32).reshape(-1, len(FEATURE_NAMES)),
        "eeg_id": made["eeg_id"].to_numpy(np.int64) if windows else np.empty(0, np.int64),
        "fingerprint": shard_fingerprint(job),
        **{
            key: np.array(values, dtype=dtype)
            for key, values, dtype in zip(
                PROBLEM_KEYS, columns, (np.int64, str, np.int64, str), strict=True
            )
        },
    }
    if set(VOTE_COLUMNS) <= set(job.rows.columns):  # labelled rows
        targets = made[list(TARGET_COLUMNS)] if windows else np.empty((0, len(TARGET_COLUMNS)))
        arrays["targets"] = np.asarray(targets, dtype=np.float32)
    return arrays


def unfinished_jobs(
    jobs: dict[str, ShardJob], written: dict[str, ShardLoader]
) -> dict[str, ShardJob]:
    """The jobs whose shard is not yet written with the same fingerprint, or recorded a
    broken rule (the file may have been fixed since).

    ``written`` loads each shard on disk. Shards are saved atomically, so one on disk is
    complete; an unreadable one is computed again.
    """

    def is_done(name: str, job: ShardJob) -> bool:
        if name not in written:
            return False
        try:
            arrays = written[name]()
            fingerprint, problem_rows = arrays["fingerprint"], arrays["problem_row"]
        except Exception:  # unreadable or written by older code: compute again
            return False
        return bool(fingerprint == shard_fingerprint(job)) and len(problem_rows) == 0

    return {name: job for name, job in jobs.items() if not is_done(name, job)}


def gather(index: pd.DataFrame, shards: dict[str, ShardLoader], key: str) -> np.ndarray:
    """One array of the shards (e.g. ``features``), its row ``i`` for row ``i`` of ``index``."""
    gathered = None
    for name, rows in index.groupby("shard", sort=True):
        values = shards[name]()[key][rows["position"].to_numpy()]
        if gathered is None:
            gathered = np.empty((len(index), *values.shape[1:]), values.dtype)
        gathered[index.index.get_indexer(rows.index)] = values
    return gathered


def recorded_problems(shards: dict[str, ShardLoader]) -> pd.DataFrame:
    """Every broken rule the shards recorded, one row each (``PROBLEM_KEYS``)."""
    tables = [pd.DataFrame({k: load()[k] for k in PROBLEM_KEYS}) for load in shards.values()]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=PROBLEM_KEYS)


def shard_positions(shards: dict[str, ShardLoader]) -> pd.DataFrame:
    """Where each image is: ``eeg_id``, ``shard`` and ``position`` in it."""
    tables = [
        pd.DataFrame({"eeg_id": ids, "shard": name, "position": np.arange(len(ids))})
        for name, ids in ((name, shards[name]()["eeg_id"]) for name in sorted(shards))
    ]
    columns = ["eeg_id", "shard", "position"]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)


def model_input_index(windows: pd.DataFrame, shards: dict[str, ShardLoader]) -> pd.DataFrame:
    """Every image with its ``shard`` and ``position`` in it (the shards of its plan) and
    its EEG's row of ``windows`` (one row per eeg_id: split, fold, ...); an EEG has as
    many images as the pass cut from its sub-windows."""
    index = windows.merge(shard_positions(shards), on="eeg_id", how="left", validate="one_to_many")
    missing = index.loc[index["shard"].isna(), "eeg_id"].tolist()
    if missing:
        raise ValueError(f"no model-input image was made for eeg_id {missing[:20]}")
    return index.sort_values(["shard", "position"], ignore_index=True)
