"""Patient-grouped splits of the label table: a held-out share, then K validation folds,
and the (seed, fold) runs a model trains.

Validating by patient is what the strong HMS solutions did: windows of one patient are
alike, so a patient in two splits flatters every score. No Kedro imports.
"""

import hashlib
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, GroupShuffleSplit, StratifiedGroupKFold

from eeg_hba.hms.layout import VOTE_COLUMNS

logger = logging.getLogger(__name__)
HOLDOUT_SPLIT = "holdout"
TRAIN_SPLIT = "train"


def assign_splits(
    table: pd.DataFrame, holdout_fraction: float, n_folds: int, seed: int
) -> pd.DataFrame:
    """Hold out a patient-grouped share of the EEGs, then K patient-grouped validation folds.

    ``split`` is ``holdout`` or ``train``; ``fold`` is the validation fold of a train row
    (stratified by expert consensus) and -1 for held-out rows. No patient is in two of them.
    """
    patients = table["patient_id"].nunique()
    if patients < n_folds + 1:
        raise ValueError(
            f"{patients} patients cannot fill a held-out split and {n_folds} folds; "
            "lower ingestion.n_folds or add data"
        )
    outer = GroupShuffleSplit(n_splits=1, test_size=holdout_fraction, random_state=seed)
    train_idx, holdout_idx = next(outer.split(table, groups=table["patient_id"]))
    split = np.full(len(table), TRAIN_SPLIT, dtype=object)
    split[holdout_idx] = HOLDOUT_SPLIT
    fold = np.full(len(table), -1, dtype=np.int64)
    rest = table.iloc[train_idx]
    if rest["patient_id"].nunique() < n_folds:
        raise ValueError(
            f"{rest['patient_id'].nunique()} training patients cannot fill {n_folds} folds; "
            "lower ingestion.n_folds or ingestion.holdout_fraction"
        )
    consensus = rest["expert_consensus"]
    if consensus.value_counts().max() >= n_folds:
        inner = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    else:
        logger.warning(
            "Too few rows per class to stratify %d folds: grouping by patient only", n_folds
        )
        inner = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (_, val_idx) in enumerate(inner.split(rest, consensus, groups=rest["patient_id"])):
        fold[train_idx[val_idx]] = k
    return table.assign(split=pd.Series(split, index=table.index, dtype="str"), fold=fold)


def data_set_tag(raw_data_dir: str, table: pd.DataFrame) -> str:
    """Which data a model was trained and scored on: the raw folder and a digest of the
    label table (EEGs, votes, split, folds), e.g. ``data/01_raw/synthetic #3fa2c9e01b7d``."""
    columns = ["eeg_id", *VOTE_COLUMNS, "split", "fold"]
    digest = hashlib.sha256(pd.util.hash_pandas_object(table[columns], index=False).to_numpy())
    return f"{raw_data_dir} #{digest.hexdigest()[:12]}"


def holdout_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The held-out rows: patients no model trains on, stops early on or is fitted on."""
    return table[table["split"] == HOLDOUT_SPLIT]


def fold_rows(table: pd.DataFrame, fold: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, validation) rows: one fold out of the training split; held-out rows untouched."""
    train_split = table[table["split"] == TRAIN_SPLIT]
    if fold not in set(train_split["fold"]):
        raise ValueError(
            f"validation fold {fold} does not exist: the label table has folds "
            f"{sorted(set(train_split['fold']))} (ingestion.n_folds); lower training_defaults.folds"
        )
    in_fold = train_split["fold"] == fold
    return train_split[~in_fold], train_split[in_fold]


@dataclass(frozen=True)
class ModelRun:
    """One model of a cross-validated model: the seed it trained with and the fold it
    never saw (its validation fold)."""

    seed: int
    fold: int

    @property
    def name(self) -> str:
        return f"seed-{self.seed}_fold-{self.fold}"

    @classmethod
    def from_name(cls, name: str) -> "ModelRun":
        seed, fold = (part.split("-", 1)[1] for part in name.split("_"))
        return cls(int(seed), int(fold))


def model_runs(first_seed: int, seeds: int, folds: int) -> list[ModelRun]:
    """Every (seed, fold) a model trains: ``seeds`` seeds from ``first_seed``, folds
    0 .. ``folds`` - 1, seeds outermost."""
    return [
        ModelRun(first_seed + offset, fold) for offset in range(seeds) for fold in range(folds)
    ]

