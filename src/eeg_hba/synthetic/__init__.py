"""A synthetic HMS data set in exactly the public layout, whose difficulty comes from where
it comes from in real ICU EEG (see docs/synthetic_data.md).

- ``config``: sizes and realism knobs; ``plan``: patients, recordings, segments, votes;
- ``raters``: the expert panel and the oracle (expected votes);
- ``signals``, ``artefacts``, ``montage``: the EEG drawn from a plan, one file at a time;
- ``profile``: how the generated labels compare with the public facts.
No Kedro imports.
"""

import pandas as pd

from eeg_hba.hms.layout import VOTE_COLUMNS
from eeg_hba.synthetic.config import SyntheticConfig
from eeg_hba.synthetic.plan import (
    Episode,
    Recording,
    SyntheticPlan,
    plan_dataset,
)
from eeg_hba.synthetic.signals import eeg_file_frame, render, spectrogram_file_frame


def eeg_files(recordings: list[Recording]) -> dict[str, Episode]:
    """``{eeg_id: episode}``: what each EEG parquet is made from (see ``eeg_file_frame``)."""
    return {str(e.eeg_id): e for r in recordings for e in r.episodes}


def spectrogram_files(recordings: list[Recording]) -> dict[str, Recording]:
    """``{spectrogram_id: recording}``: what each spectrogram parquet is made from."""
    return {str(r.spectrogram_id): r for r in recordings}


def sample_submission(test: pd.DataFrame) -> pd.DataFrame:
    """The public sample submission: every test EEG with the uniform 1/6 prediction."""
    frame = pd.DataFrame({"eeg_id": test["eeg_id"].to_numpy()})
    for column in VOTE_COLUMNS:
        frame[column] = 1.0 / len(VOTE_COLUMNS)
    return frame


__all__ = [
    "Episode",
    "Recording",
    "SyntheticConfig",
    "SyntheticPlan",
    "eeg_file_frame",
    "eeg_files",
    "plan_dataset",
    "render",
    "sample_submission",
    "spectrogram_file_frame",
    "spectrogram_files",
]
