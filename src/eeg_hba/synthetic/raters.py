"""The expert panel: how a segment's features become votes, and their expected distribution.

Each segment is described by five perceptual features, in rater units: 0 is where the
population of experts is split in half and 1 is one standard deviation of what experts
perceive (a personal bias plus noise of each reading). A rater walks the decision tree
of the ACNS 2021 terminology on what they perceive:

1. no IIIC pattern clear enough (``prominence`` < 0)                   -> Other
2. definite evolution (``evolution`` > 0), or periodic discharges faster
   than about 2.5 Hz (``periodicity`` > 0 and ``rate`` > 0)             -> Seizure
3. periodic discharges (``periodicity`` > 0) or rhythmic delta (< 0), lateralised
   (``lateralisation`` > 0) or generalised                             -> LPD, GPD, LRDA, GRDA

so votes split only between neighbours of the IIIC continuum: LPD/LRDA/Seizure,
GPD/GRDA, any pattern/Other (and L/G where the field is borderline). A small lapse rate
spreads a few votes anywhere. Biases are independent across features, so the population's
expected vote distribution (the oracle) is a product of normal CDFs, exactly.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from eeg_hba.hms.layout import CLASSES

FEATURES: tuple[str, ...] = ("prominence", "periodicity", "evolution", "rate", "lateralisation")
PROMINENCE, PERIODICITY, EVOLUTION, RATE, LATERALISATION = range(len(FEATURES))
SEIZURE, LPD, GPD, LRDA, GRDA, OTHER = (
    CLASSES.index(c) for c in ("Seizure", "LPD", "GPD", "LRDA", "GRDA", "Other")
)


@dataclass(frozen=True)
class RaterModel:
    """Spread of the experts: ``bias_sd**2 + noise_sd**2 == 1`` (features are in rater units).

    ``bias_sd`` is how much experts differ from each other (fixed per expert),
    ``noise_sd`` how much one expert's reading varies from segment to segment, and
    ``lapse`` the share of votes given at random.
    """

    bias_sd: float = 0.6
    noise_sd: float = 0.8
    lapse: float = 0.02

    def __post_init__(self) -> None:
        if not np.isclose(self.bias_sd**2 + self.noise_sd**2, 1.0):
            raise ValueError(
                f"bias_sd**2 + noise_sd**2 must be 1 (features are in rater units), "
                f"got {self.bias_sd}, {self.noise_sd}"
            )


def _decision_tree(features: np.ndarray, scale: float) -> np.ndarray:
    """Class probabilities of a reader whose perception of ``features`` has noise ``scale``.

    ``features``: shape (..., 5) -> probabilities (..., 6), in ``CLASSES`` order.
    """
    with np.errstate(invalid="ignore"):  # -inf prominence (no pattern at all) is fine
        pattern, periodic, evolving, fast, lateral = ndtr(np.moveaxis(features, -1, 0) / scale)
    static = pattern * (1 - evolving)
    out = np.empty((*features.shape[:-1], len(CLASSES)))
    out[..., SEIZURE] = pattern * evolving + static * periodic * fast
    out[..., LPD] = static * periodic * (1 - fast) * lateral
    out[..., GPD] = static * periodic * (1 - fast) * (1 - lateral)
    out[..., LRDA] = static * (1 - periodic) * lateral
    out[..., GRDA] = static * (1 - periodic) * (1 - lateral)
    out[..., OTHER] = 1 - pattern
    return out


def _with_lapse(probabilities: np.ndarray, model: RaterModel) -> np.ndarray:
    return (1 - model.lapse) * probabilities + model.lapse / len(CLASSES)


def expected_votes(features: np.ndarray, model: RaterModel) -> np.ndarray:
    """The population's expected vote distribution for segments with these features.

    ``features``: (..., 5) in rater units -> (..., 6). This is the oracle: the best
    prediction possible from the segment itself, whoever the experts are.
    """
    return _with_lapse(_decision_tree(np.asarray(features, dtype=np.float64), 1.0), model)


def mixed_expected_votes(
    first: np.ndarray, second: np.ndarray, share_second: np.ndarray, model: RaterModel
) -> np.ndarray:
    """Expected votes on a window that shows ``second`` for ``share_second`` of its time."""
    share = np.asarray(share_second, dtype=np.float64)[..., None]
    return (1 - share) * expected_votes(first, model) + share * expected_votes(second, model)


def draw_biases(rng: np.random.Generator, n_raters: int, model: RaterModel) -> np.ndarray:
    """A panel of ``n_raters`` experts: each one's fixed bias on every feature, (n, 5)."""
    return rng.normal(0.0, model.bias_sd, (n_raters, len(FEATURES)))


def panel_choices(
    rng: np.random.Generator,
    perceived: np.ndarray,
    perceived_second: np.ndarray,
    share_second: np.ndarray,
    model: RaterModel,
) -> np.ndarray:
    """The class each expert votes (indices into CLASSES), from the features as each
    perceives them (``features + bias``, shape (..., 5)), with reading noise; a window
    showing a second segment for ``share_second`` of its time is read as it with that
    probability."""
    first = _decision_tree(perceived, model.noise_sd)
    second = _decision_tree(perceived_second, model.noise_sd)
    share = np.asarray(share_second)[..., None]
    probabilities = _with_lapse((1 - share) * first + share * second, model)
    cumulative = np.cumsum(probabilities, axis=-1)
    draws = rng.random(cumulative.shape[:-1])[..., None] * cumulative[..., -1:]
    return (draws > cumulative).sum(axis=-1)


def panel_votes(
    rng: np.random.Generator, features: np.ndarray, biases: np.ndarray, model: RaterModel
) -> np.ndarray:
    """Vote counts (6,) of one panel (``biases``: (n experts, 5)) reading one segment."""
    chosen = panel_choices(rng, features + biases, features + biases, np.zeros(1), model)
    return np.bincount(chosen, minlength=len(CLASSES))
