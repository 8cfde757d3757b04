"""The oracle: on synthetic data, the generator's expected vote distribution of every
labelled row (the latent truth table it writes beside the HMS folder), and the best
prediction it implies. Real data have no such table. No Kedro imports.
"""

import numpy as np
import pandas as pd

from eeg_hba.hms.layout import VOTE_COLUMNS
from eeg_hba.hms.prediction_table import as_prediction_table

#: The latent truth table's class columns, one per vote column.
LATENT_COLUMNS: tuple[str, ...] = tuple(c.replace("_vote", "_latent") for c in VOTE_COLUMNS)


def oracle_by_eeg(latent: pd.DataFrame) -> pd.DataFrame:
    """The oracle per eeg_id as the label table sees it: the label table
    (``eeg_hba.hms.labels.build_label_table``) sums the votes of an EEG's sub-windows, so
    its oracle is the mean of the rows' expected vote distributions weighted by their vote
    counts (``n_votes``).

    Returns a frame indexed by ``eeg_id`` with the ``LATENT_COLUMNS``.
    """
    missing = {"eeg_id", "n_votes", *LATENT_COLUMNS} - set(latent.columns)
    if missing:
        raise ValueError(f"the latent table lacks columns {sorted(missing)}")
    weights = latent["n_votes"].to_numpy(np.float64)
    weighted = latent[list(LATENT_COLUMNS)].mul(weights, axis=0)
    sums = weighted.groupby(latent["eeg_id"].to_numpy()).sum()
    totals = pd.Series(weights).groupby(latent["eeg_id"].to_numpy()).sum()
    if (totals <= 0).any():
        raise ValueError(f"eeg_ids {totals.index[totals <= 0][:5].tolist()} have no votes")
    return sums.div(totals, axis=0).rename_axis("eeg_id")


def oracle_baseline(oracle: pd.DataFrame, eeg_ids: pd.Series) -> pd.DataFrame | None:
    """The generator's expected vote distribution per EEG (indexed by ``eeg_id``, the six
    classes in order): the best achievable prediction on synthetic data. None when it does
    not cover every EEG (e.g. real data, no sidecar)."""
    if oracle.empty or not eeg_ids.isin(oracle.index).all():
        return None
    return as_prediction_table(eeg_ids.to_numpy(), oracle.loc[eeg_ids].to_numpy())
