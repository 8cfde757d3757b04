"""Bipolar montage and region spectrograms, built the way the public HMS files are.

The public spectrogram files hold, every 2 s, the power of four regions, each the
average over the bipolar differences of one double-banana chain, for FFT bins 3..102
of a 1024-point FFT at 200 Hz (0.59-19.92 Hz). Frames are centred at t = 1, 3, 5, ... s.
A frame whose samples contain NaN is NaN, as in the public files. No Kedro imports.
"""

from functools import cache

import numpy as np
import pandas as pd
from scipy.signal import ShortTimeFFT
from scipy.signal.windows import hann

from eeg_hba.hms import (
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


def bipolar_signals(eeg: np.ndarray) -> np.ndarray:
    """Double-banana differences: (samples, 20 channels) -> (4 regions, 4 chains, samples)."""
    channels_first = np.ascontiguousarray(eeg.T)
    return channels_first[BIPOLAR_INDEX[..., 0]] - channels_first[BIPOLAR_INDEX[..., 1]]


@cache
def public_stft() -> ShortTimeFFT:
    """Hann-windowed 1024-point STFT with a 2 s hop, power scaled as a density."""
    hop = SPECTROGRAM_STEP_SECONDS * EEG_SAMPLING_HZ
    return ShortTimeFFT(
        hann(SPECTROGRAM_FFT_SIZE, sym=False),
        hop=hop,
        fs=EEG_SAMPLING_HZ,
        mfft=SPECTROGRAM_FFT_SIZE,
        scale_to="psd",
    )


def public_frame_times(n_samples: int) -> np.ndarray:
    """Frame centres of a recording in seconds: 1, 3, 5, ... up to its end."""
    duration = n_samples / EEG_SAMPLING_HZ
    step = SPECTROGRAM_STEP_SECONDS
    return np.arange(step / 2, duration, step)


def region_power(eeg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Power of each region as (4 regions, 100 bins, frames) and the frame times in seconds.

    Each region is the mean of its four chains' power; frames are centred at odd seconds.
    """
    stft = public_stft()
    offset = -EEG_SAMPLING_HZ * SPECTROGRAM_STEP_SECONDS // 2  # centres at 1 s, 3 s, ...
    chains = bipolar_signals(eeg.astype(np.float64, copy=False))
    power = stft.spectrogram(chains, k_offset=offset, axis=-1)  # (4, 4, freq, frames)
    frame_times = stft.t(eeg.shape[0], k_offset=offset)
    wanted = public_frame_times(eeg.shape[0])
    keep = np.isin(np.round(frame_times, 6), np.round(wanted, 6))
    bins = slice(SPECTROGRAM_FIRST_BIN, SPECTROGRAM_FIRST_BIN + SPECTROGRAM_N_BINS)
    return power[:, :, bins, :][..., keep].mean(axis=1), frame_times[keep]


def public_spectrogram_frame(eeg: np.ndarray) -> pd.DataFrame:
    """A whole recording's spectrogram in the public parquet layout (``time`` + 400 columns)."""
    power, times = region_power(eeg)
    values = power.transpose(2, 0, 1).reshape(len(times), -1).astype(np.float32)
    frame = pd.DataFrame(values, columns=list(SPECTROGRAM_COLUMNS[1:]))
    frame.insert(0, SPECTROGRAM_TIME_COLUMN, np.round(times).astype(np.int64))
    return frame
