"""The public HMS data layout as constants: the one place every other module imports from.

Facts from the competition data: 20 referential EEG channels at 200 Hz, spectrograms
of four bipolar-chain regions with 100 bins from 0.59 to 19.92 Hz every 2 s, six
classes voted by experts. Nothing here imports Kedro.
"""

from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

EEG_CHANNELS: tuple[str, ...] = (
    "Fp1", "F3", "C3", "P3", "F7", "T3", "T5", "O1", "Fz", "Cz",
    "Pz", "Fp2", "F4", "C4", "P4", "F8", "T4", "T6", "O2", "EKG",
)  # fmt: skip
EKG_CHANNEL = "EKG"
EEG_SAMPLING_HZ = 200
EEG_WINDOW_SECONDS = 50
SPECTROGRAM_WINDOW_SECONDS = 600
SPECTROGRAM_STEP_SECONDS = 2
LABELLED_SECONDS = 10

#: The double-banana chains, each as its electrodes in order; consecutive pairs are
#: the bipolar differences (Fp1-F7, F7-T3, ...). Order is the spectrogram file's order.
REGION_CHAINS: dict[str, tuple[str, ...]] = {
    "LL": ("Fp1", "F7", "T3", "T5", "O1"),
    "RL": ("Fp2", "F8", "T4", "T6", "O2"),
    "LP": ("Fp1", "F3", "C3", "P3", "O1"),
    "RP": ("Fp2", "F4", "C4", "P4", "O2"),
}
REGIONS: tuple[str, ...] = tuple(REGION_CHAINS)
LEFT_CHANNELS: tuple[str, ...] = ("Fp1", "F3", "C3", "P3", "F7", "T3", "T5", "O1")
RIGHT_CHANNELS: tuple[str, ...] = ("Fp2", "F4", "C4", "P4", "F8", "T4", "T6", "O2")
MIDLINE_CHANNELS: tuple[str, ...] = ("Fz", "Cz", "Pz")


def bipolar_pairs(region: str) -> list[tuple[str, str]]:
    """The (anode, cathode) pairs of one region's chain, e.g. LL -> [(Fp1, F7), ...]."""
    chain = REGION_CHAINS[region]
    return list(pairwise(chain))


#: The 16 bipolar chains in the order of the 1-D model's input channels: LL, RL, LP, RP,
#: each from front to back ("Fp1-F7", "F7-T3", ...).
BIPOLAR_CHAINS: tuple[str, ...] = tuple(
    f"{anode}-{cathode}" for region in REGIONS for anode, cathode in bipolar_pairs(region)
)


#: Spectrogram bins are FFT bins 3..102 of a 1024-point FFT at 200 Hz (step 0.1953 Hz).
SPECTROGRAM_FFT_SIZE = 1024
SPECTROGRAM_FIRST_BIN = 3
SPECTROGRAM_N_BINS = 100
SPECTROGRAM_FREQUENCIES: tuple[float, ...] = tuple(
    k * EEG_SAMPLING_HZ / SPECTROGRAM_FFT_SIZE
    for k in range(SPECTROGRAM_FIRST_BIN, SPECTROGRAM_FIRST_BIN + SPECTROGRAM_N_BINS)
)


def _frequency_label(frequency: float) -> str:
    """The public files round half up to 2 decimals and drop trailing zeros (4.1, 3.13)."""
    rounded = Decimal(repr(frequency)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return format(rounded.normalize(), "f")


SPECTROGRAM_TIME_COLUMN = "time"
SPECTROGRAM_VALUE_COLUMNS: tuple[str, ...] = tuple(
    f"{region}_{_frequency_label(f)}" for region in REGIONS for f in SPECTROGRAM_FREQUENCIES
)
SPECTROGRAM_COLUMNS: tuple[str, ...] = (SPECTROGRAM_TIME_COLUMN, *SPECTROGRAM_VALUE_COLUMNS)

CLASSES: tuple[str, ...] = ("Seizure", "LPD", "GPD", "LRDA", "GRDA", "Other")
VOTE_COLUMNS: tuple[str, ...] = (
    "seizure_vote", "lpd_vote", "gpd_vote", "lrda_vote", "grda_vote", "other_vote",
)  # fmt: skip
#: Normalised-target columns of the label table, in class order.
TARGET_COLUMNS: tuple[str, ...] = tuple(c.replace("_vote", "_target") for c in VOTE_COLUMNS)

TRAIN_COLUMNS: tuple[str, ...] = (
    "eeg_id", "eeg_sub_id", "eeg_label_offset_seconds",
    "spectrogram_id", "spectrogram_sub_id", "spectrogram_label_offset_seconds",
    "label_id", "patient_id", "expert_consensus", *VOTE_COLUMNS,
)  # fmt: skip
TEST_COLUMNS: tuple[str, ...] = ("spectrogram_id", "eeg_id", "patient_id")
SUBMISSION_COLUMNS: tuple[str, ...] = ("eeg_id", *VOTE_COLUMNS)
TRAIN_ID_COLUMNS: tuple[str, ...] = (
    "eeg_id", "eeg_sub_id", "spectrogram_id", "spectrogram_sub_id", "label_id", "patient_id",
)  # fmt: skip
OFFSET_COLUMNS: tuple[str, ...] = ("eeg_label_offset_seconds", "spectrogram_label_offset_seconds")
