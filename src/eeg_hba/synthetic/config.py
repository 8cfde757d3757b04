"""Size and realism knobs of the synthetic data set (``conf/base/parameters_synthetic.yml``).

The defaults here are the YAML's values (``tests/test_synthetic.py`` checks that they
agree), so code that builds a config by hand gets the same data set as a ``kedro run``.
"""

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from eeg_hba.hms.layout import CLASSES

#: How a high- or low-vote EEG's segment is placed relative to the experts' thresholds.
AGREEMENT_DESIGNS: tuple[str, ...] = ("idealized", "typical", "proto", "edge")


@dataclass(frozen=True)
class SyntheticConfig:
    """Sizes, vote structure, patient effects and artefact rates; see the YAML for meanings."""

    seed: int = 42
    n_patients: int = 122
    n_spectrograms: int = 696
    n_eegs: int = 1068
    n_rows: int = 6675
    n_test_patients: int = 8
    n_test_eegs: int = 24
    high_vote_fraction: float = 0.374
    low_vote_range: tuple[int, int] = (1, 7)
    high_vote_range: tuple[int, int] = (10, 28)
    low_vote_class_prior: tuple[float, ...] = (0.38, 0.13, 0.09, 0.11, 0.09, 0.20)
    high_vote_class_prior: tuple[float, ...] = (0.04, 0.17, 0.17, 0.16, 0.17, 0.29)
    high_vote_agreement: tuple[float, ...] = (0.30, 0.15, 0.25, 0.30)
    low_vote_agreement: tuple[float, ...] = (0.50, 0.30, 0.10, 0.10)
    patient_pattern_types: int = 2
    patient_affinity: float = 0.95
    transition_probability: float = 0.08
    eeg_gap_seconds: tuple[int, int] = (20, 360)
    max_sub_window_step_seconds: int = 6
    repeat_votes_probability: float = 0.8
    rater_bias_sd: float = 0.6
    rater_noise_sd: float = 0.8
    rater_lapse: float = 0.02
    muscle_bursts_per_hour: float = 30.0
    eye_movements_per_hour: float = 150.0
    electrode_pops_per_hour: float = 6.0
    movement_artefacts_per_hour: float = 4.0
    drifts_per_hour: float = 4.0
    saturations_per_hour: float = 1.0
    line_noise_probability: float = 0.5
    flat_channel_probability: float = 0.05
    nan_stretches_per_hour: float = 6.0
    nan_channel_probability: float = 0.03

    @classmethod
    def from_params(cls, params: dict) -> "SyntheticConfig":
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        return cls(**values)

    def __post_init__(self) -> None:
        counts = (self.n_patients, self.n_spectrograms, self.n_eegs, self.n_rows)
        if not all(a <= b for a, b in pairwise(counts)) or self.n_patients < 1:
            raise ValueError(
                "synthetic sizes must satisfy 1 <= n_patients <= n_spectrograms <= n_eegs"
                f" <= n_rows, got {counts}"
            )
        if self.n_test_eegs and self.n_test_patients < 1:
            raise ValueError("test EEGs need at least one test patient (n_test_patients >= 1)")
        for name, size in (
            ("low_vote_class_prior", len(CLASSES)),
            ("high_vote_class_prior", len(CLASSES)),
            ("low_vote_agreement", len(AGREEMENT_DESIGNS)),
            ("high_vote_agreement", len(AGREEMENT_DESIGNS)),
        ):
            shares = getattr(self, name)
            if len(shares) != size or not np.isclose(sum(shares), 1.0) or min(shares) < 0:
                raise ValueError(f"{name} needs {size} non-negative shares summing to 1: {shares}")
