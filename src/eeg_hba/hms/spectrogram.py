"""Bipolar montage and region spectrograms on the grid and in the units of the public files.

The public spectrogram files hold, every 2 s, the power of four regions, each the
average over the bipolar differences of one double-banana chain, for the bins
k * 200/1024 Hz, k = 3..102 (0.59-19.92 Hz), frames centred at t = 1, 3, 5, ... s; they
are multitaper estimates. This module matches the grid, the frame times, the region
averaging, power as a one-sided density (µV²/Hz) and NaN wherever a frame's samples hold
NaN. The taper set is our choice (the public files do not document theirs): 2 DPSS
tapers, time-half-bandwidth 1.5, over 1024 samples (5.12 s), i.e. +-0.29 Hz smoothing.
No Kedro imports.
"""

from functools import cache

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy.fft import rfft
from scipy.signal.windows import dpss

from eeg_hba.hms.layout import (
    EEG_CHANNELS,
    EEG_SAMPLING_HZ,
    REGIONS,
    SPECTROGRAM_COLUMNS,
    SPECTROGRAM_FFT_SIZE,
    SPECTROGRAM_FIRST_BIN,
    SPECTROGRAM_N_BINS,
    SPECTROGRAM_STEP_SECONDS,
    SPECTROGRAM_TIME_COLUMN,
    bipolar_pairs,
)

_CHANNEL_INDEX = {name: i for i, name in enumerate(EEG_CHANNELS)}
#: (anode, cathode) channel indices for each region, shape (4 regions, 4 chains, 2).
BIPOLAR_INDEX = np.array(
    [[(_CHANNEL_INDEX[a], _CHANNEL_INDEX[c]) for a, c in bipolar_pairs(r)] for r in REGIONS]
)
TIME_HALF_BANDWIDTH = 1.5
N_TAPERS = 2


def bipolar_signals(eeg: np.ndarray) -> np.ndarray:
    """Double-banana differences: (samples, 20 channels) -> (4 regions, 4 chains, samples)."""
    channels_first = np.ascontiguousarray(eeg.T)
    return channels_first[BIPOLAR_INDEX[..., 0]] - channels_first[BIPOLAR_INDEX[..., 1]]


@cache
def tapers() -> np.ndarray:
    """The DPSS tapers, (3, 1024), each of unit energy."""
    return dpss(SPECTROGRAM_FFT_SIZE, TIME_HALF_BANDWIDTH, N_TAPERS).astype(np.float32)


def public_frame_times(n_samples: int) -> np.ndarray:
    """Frame centres of a recording in seconds: 1, 3, 5, ... up to its end."""
    duration = n_samples / EEG_SAMPLING_HZ
    step = SPECTROGRAM_STEP_SECONDS
    return np.arange(step / 2, duration, step)


def region_power(eeg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Power of each region as (4 regions, 100 bins, frames) and the frame times in seconds.

    Each frame is the 1024 samples around its centre (zeros beyond the recording); each
    region the mean of its four chains' multitaper power.
    """
    times = public_frame_times(eeg.shape[0])
    half = SPECTROGRAM_FFT_SIZE // 2
    chains = bipolar_signals(eeg.astype(np.float32, copy=False))
    first = round(times[0] * EEG_SAMPLING_HZ) if len(times) else 0
    step = SPECTROGRAM_STEP_SECONDS * EEG_SAMPLING_HZ
    right = max(first + step * (len(times) - 1) + half - eeg.shape[0], 0)
    padded = np.pad(chains, [(0, 0), (0, 0), (half, right)])
    frames = sliding_window_view(padded, SPECTROGRAM_FFT_SIZE, axis=-1)
    frames = frames[:, :, first : first + step * len(times) : step]  # a view, no copy
    bins = slice(SPECTROGRAM_FIRST_BIN, SPECTROGRAM_FIRST_BIN + SPECTROGRAM_N_BINS)
    power = np.zeros((*frames.shape[:3], SPECTROGRAM_N_BINS), dtype=np.float32)
    for taper in tapers():
        power += np.abs(rfft(frames * taper, axis=-1)[..., bins]) ** 2
    density = power.mean(axis=1, dtype=np.float64) * (2 / (N_TAPERS * EEG_SAMPLING_HZ))
    return density.transpose(0, 2, 1), times


def public_spectrogram_frame(eeg: np.ndarray) -> pd.DataFrame:
    """A whole recording's spectrogram in the public parquet layout (``time`` + 400 columns)."""
    power, times = region_power(eeg)
    values = power.transpose(2, 0, 1).reshape(len(times), -1).astype(np.float32)
    frame = pd.DataFrame(values, columns=list(SPECTROGRAM_COLUMNS[1:]))
    frame.insert(0, SPECTROGRAM_TIME_COLUMN, np.round(times).astype(np.int64))
    return frame
