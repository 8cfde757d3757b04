"""Labels: expert votes into targets, the windows that become model-input images, and the
label table (one row per EEG, its sub-windows' votes summed).

Collapsing sub-windows (sum the votes, normalise) is what the strong HMS solutions did;
the high-vote flag marks rows like the hidden test set's. Light on imports (numpy,
pandas): the worker processes of the preprocessing pass import it. No Kedro imports.
"""

import numpy as np
import pandas as pd

from eeg_hba.hms.layout import CLASSES, OFFSET_COLUMNS, TARGET_COLUMNS, VOTE_COLUMNS


def build_label_table(train: pd.DataFrame, high_vote_threshold: int) -> pd.DataFrame:
    """One row per eeg_id: its image window (the middle sub-window's offsets), summed
    votes and targets (``image_windows``), with the panel size.

    ``n_experts`` is the largest panel that voted on any of the EEG's sub-windows; rows
    with at least ``high_vote_threshold`` experts are flagged ``high_vote``.
    """
    table = image_windows(train)
    panel_sizes = train[list(VOTE_COLUMNS)].sum(axis=1).groupby(train["eeg_id"]).max()
    after_sub_windows = table.columns.get_loc("n_sub_windows") + 1
    table.insert(after_sub_windows, "n_experts", panel_sizes.loc[table["eeg_id"]].to_numpy())
    votes = table[list(VOTE_COLUMNS)]
    table.insert(table.columns.get_loc(VOTE_COLUMNS[-1]) + 1, "vote_total", votes.sum(axis=1))
    table["expert_consensus"] = np.asarray(CLASSES)[np.argmax(votes.to_numpy(), axis=1)]
    table["high_vote"] = table["n_experts"] >= high_vote_threshold
    return table


def image_windows(rows: pd.DataFrame, per_eeg: int | None = 1) -> pd.DataFrame:
    """The windows that become images, sorted by eeg_id: each EEG's sub-windows (in time
    order) split into ``per_eeg`` runs of consecutive ones (each sub-window its own run
    when None or when it has fewer), one image at each run's middle sub-window (ids and
    offsets), with the number of the EEG's sub-windows and, for labelled rows, the run's
    votes summed and normalised into targets.

    With one per EEG this is the EEG's middle sub-window with all its votes: the label
    table's row. Rows of one eeg_id share one spectrogram and patient (the contract
    checks it)."""
    sort = [c for c in ("eeg_id", "eeg_label_offset_seconds", "eeg_sub_id") if c in rows]
    ordered = rows.sort_values(sort, kind="stable")
    eeg = ordered.groupby("eeg_id", sort=True)
    sizes = eeg["eeg_id"].transform("size").to_numpy()
    runs = sizes if per_eeg is None else np.minimum(sizes, per_eeg)
    ordered = ordered.assign(_run=eeg.cumcount().to_numpy() * runs // sizes)
    grouped = ordered.groupby(["eeg_id", "_run"], sort=True)
    middle = ordered[grouped.cumcount() == grouped["eeg_id"].transform("size") // 2]
    ids = [c for c in ("spectrogram_id", "patient_id") if c in rows]
    windows = middle.set_index(["eeg_id", "_run"])[[*ids, *OFFSET_COLUMNS]]
    windows["n_sub_windows"] = eeg.size().loc[middle["eeg_id"]].to_numpy()
    if set(VOTE_COLUMNS) <= set(rows.columns):
        votes = grouped[list(VOTE_COLUMNS)].sum()
        windows = windows.join(votes)
        windows[list(TARGET_COLUMNS)] = normalise_votes(votes)
    return windows.reset_index().drop(columns="_run")


def normalise_votes(votes: pd.DataFrame | np.ndarray) -> np.ndarray:
    """Votes over their row sum: the targets the metric scores against."""
    counts = np.asarray(votes, dtype=np.float64)
    return counts / counts.sum(axis=1, keepdims=True)
