"""Where the 19 scalp electrodes sit, and the spatial fields of activity over them."""

import numpy as np

from eeg_hba.hms.layout import EEG_CHANNELS, EKG_CHANNEL
from eeg_hba.hms.spectrogram import BIPOLAR_INDEX

SCALP: tuple[str, ...] = tuple(c for c in EEG_CHANNELS if c != EKG_CHANNEL)
N_SCALP = len(SCALP)
EKG_INDEX = EEG_CHANNELS.index(EKG_CHANNEL)
#: Electrode positions on a unit disc seen from above (nose at +y), 10-20 system.
POSITIONS: dict[str, tuple[float, float]] = {
    "Fp1": (-0.31, 0.95), "Fp2": (0.31, 0.95),
    "F7": (-0.81, 0.59), "F3": (-0.41, 0.52), "Fz": (0.0, 0.5), "F4": (0.41, 0.52),
    "F8": (0.81, 0.59), "T3": (-1.0, 0.0), "C3": (-0.5, 0.0), "Cz": (0.0, 0.0),
    "C4": (0.5, 0.0), "T4": (1.0, 0.0), "T5": (-0.81, -0.59), "P3": (-0.41, -0.52),
    "Pz": (0.0, -0.5), "P4": (0.41, -0.52), "T6": (0.81, -0.59), "O1": (-0.31, -0.95),
    "O2": (0.31, -0.95),
}  # fmt: skip
XY = np.array([POSITIONS[c] for c in SCALP])


def channel_indices(names: tuple[str, ...] | list[str]) -> np.ndarray:
    return np.array([EEG_CHANNELS.index(n) for n in names], dtype=np.int64)


def focal_field(focus: str, width: float = 0.45) -> np.ndarray:
    """Gain per scalp electrode of activity maximal at ``focus``, decaying with distance."""
    distance = np.linalg.norm(XY - np.asarray(POSITIONS[focus]), axis=1)
    return np.exp(-0.5 * (distance / width) ** 2)


def generalised_field(rng: np.random.Generator) -> np.ndarray:
    """Both hemispheres alike, frontally predominant (a front-to-back gradient that the
    bipolar chains see), a little uneven from electrode to electrode."""
    return (0.8 + 0.4 * XY[:, 1]) * rng.uniform(0.8, 1.2, N_SCALP)


def lateralised_field(focus: str, lateralisation: float, rng: np.random.Generator) -> np.ndarray:
    """Between a focal field (lateralisation 1) and a generalised one (0), scaled so that
    its largest bipolar difference is 1 (what a reader of the bipolar montage sees)."""
    field = lateralisation * focal_field(focus) + (1 - lateralisation) * generalised_field(rng)
    return field / max(largest_bipolar_gain(field), 1 / 3)


def largest_bipolar_gain(field: np.ndarray) -> float:
    """The largest |difference| of a scalp field over the 16 double-banana chains."""
    anodes, cathodes = BIPOLAR_INDEX[..., 0].ravel(), BIPOLAR_INDEX[..., 1].ravel()
    return float(np.abs(field[anodes] - field[cathodes]).max())


def posterior_field() -> np.ndarray:
    """The posterior dominant rhythm: occipital and parietal, both sides."""
    return np.clip(0.35 - 0.8 * XY[:, 1], 0.1, 1.2)


def central_field() -> np.ndarray:
    """Sleep spindles and vertex waves: maximal at the vertex (Cz)."""
    return focal_field("Cz", 0.55)
