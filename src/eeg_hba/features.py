"""Model inputs from raw HMS files: one tiled image per labelled window, both modalities.

Left half: the four given spectrogram panels (LL, RL, LP, RP) of the 600 s window,
clipped, log-transformed and standardised per panel, as in the original study. Right
half: four spectrograms computed from the 50 s raw EEG window over the same bipolar
chains (band-pass 0.5-20 Hz, clip +-1024 uV, STFT power in dB, averaged per chain,
standardised). This is the layout the strong public solutions used. Training and
inference call the same functions. No Kedro imports.
"""

import warnings
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy.fft import rfft
from scipy.ndimage import zoom
from scipy.signal import ShortTimeFFT, butter, sosfiltfilt
from scipy.signal.windows import hann

from eeg_hba.hms import (
    EEG_CHANNELS,
    EEG_SAMPLING_HZ,
    EEG_WINDOW_SECONDS,
    REGIONS,
    SPECTROGRAM_N_BINS,
    SPECTROGRAM_STEP_SECONDS,
    SPECTROGRAM_TIME_COLUMN,
    SPECTROGRAM_VALUE_COLUMNS,
    SPECTROGRAM_WINDOW_SECONDS,
)
from eeg_hba.spectrogram import bipolar_signals

SPECTROGRAM_FRAMES = SPECTROGRAM_WINDOW_SECONDS // SPECTROGRAM_STEP_SECONDS
EEG_SAMPLES = EEG_WINDOW_SECONDS * EEG_SAMPLING_HZ
_STANDARDISE_EPSILON = 1e-6


class WindowError(ValueError):
    """A labelled window does not fit inside its file."""


@dataclass(frozen=True)
class FeatureConfig:
    """Knobs from ``parameters_preprocessing.yml``."""

    image_height: int = 128
    image_width: int = 128
    spectrogram_floor: float = float(np.exp(-4))
    spectrogram_ceiling: float = float(np.exp(8))
    bandpass_low_hz: float = 0.5
    bandpass_high_hz: float = 20.0
    filter_order: int = 4
    clip_uv: float = 1024.0
    stft_window_samples: int = 512
    stft_hop_samples: int = 50
    max_frequency_hz: float = 20.0

    def __post_init__(self) -> None:
        if self.image_height % len(REGIONS) or self.image_width % 2:
            raise ValueError(
                "image_height must be a multiple of 4 (four panels) and image_width even "
                f"(two modalities), got {self.image_height} x {self.image_width}"
            )

    @property
    def panel_shape(self) -> tuple[int, int]:
        return self.image_height // len(REGIONS), self.image_width // 2


# --- the given spectrograms ------------------------------------------------------------


def spectrogram_window(frame: pd.DataFrame, offset_seconds: float) -> np.ndarray:
    """The 600 s window starting at ``offset_seconds``: (4 regions, 100 bins, 300 frames).

    Rows are those with ``offset <= time < offset + 600``, as in the public data.
    """
    time = frame[SPECTROGRAM_TIME_COLUMN].to_numpy()
    rows = (time >= offset_seconds) & (time < offset_seconds + SPECTROGRAM_WINDOW_SECONDS)
    values = frame.loc[rows, list(SPECTROGRAM_VALUE_COLUMNS)].to_numpy(dtype=np.float32)
    if len(values) != SPECTROGRAM_FRAMES:
        raise WindowError(
            f"the 600 s window at offset {offset_seconds} s has {len(values)} of "
            f"{SPECTROGRAM_FRAMES} frames (file covers {time.min()}-{time.max()} s)"
        )
    return values.reshape(SPECTROGRAM_FRAMES, len(REGIONS), SPECTROGRAM_N_BINS).transpose(1, 2, 0)


def standardise_panels(panels: np.ndarray) -> np.ndarray:
    """Each panel to zero mean and unit variance, ignoring NaN; NaN (and empty panels) -> 0."""
    axes = tuple(range(1, panels.ndim))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN panel has no mean
        mean = np.nanmean(panels, axis=axes, keepdims=True)
        std = np.nanstd(panels, axis=axes, keepdims=True)
    standardised = (panels - np.nan_to_num(mean)) / (np.nan_to_num(std) + _STANDARDISE_EPSILON)
    return np.nan_to_num(standardised, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def normalise_spectrogram(window: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Clip at a small floor, log-transform, standardise per panel, NaN -> 0."""
    clipped = np.clip(window, config.spectrogram_floor, config.spectrogram_ceiling)
    return standardise_panels(np.log(clipped))


# --- spectrograms from the raw EEG -------------------------------------------------------


def eeg_window(frame: pd.DataFrame, offset_seconds: float) -> np.ndarray:
    """The 50 s window at ``offset_seconds``: rows [offset*200, (offset+50)*200) of the file."""
    start = round(offset_seconds * EEG_SAMPLING_HZ)
    values = frame[list(EEG_CHANNELS)].to_numpy(dtype=np.float64)[start : start + EEG_SAMPLES]
    if start < 0 or len(values) != EEG_SAMPLES:
        raise WindowError(
            f"the 50 s EEG window at offset {offset_seconds} s needs rows {start}-"
            f"{start + EEG_SAMPLES - 1}, the file has {len(frame)} rows"
        )
    return values


def fill_gaps(eeg: np.ndarray) -> np.ndarray:
    """Interpolate each channel's NaN stretches linearly; a channel with no data becomes 0."""
    filled = eeg.copy()
    index = np.arange(len(eeg))
    for channel in range(eeg.shape[1]):
        missing = np.isnan(eeg[:, channel])
        if missing.all():
            filled[:, channel] = 0.0
        elif missing.any():
            filled[missing, channel] = np.interp(
                index[missing], index[~missing], eeg[~missing, channel]
            )
    return filled


@cache
def _bandpass(low_hz: float, high_hz: float, order: int) -> np.ndarray:
    return butter(order, [low_hz, high_hz], btype="bandpass", fs=EEG_SAMPLING_HZ, output="sos")


@cache
def _eeg_stft(window_samples: int, hop_samples: int) -> ShortTimeFFT:
    return ShortTimeFFT(
        hann(window_samples, sym=False), hop=hop_samples, fs=EEG_SAMPLING_HZ, scale_to="psd"
    )


def _power_spectrogram(stft: ShortTimeFFT, signal: np.ndarray) -> np.ndarray:
    """``stft.spectrogram(signal, axis=-1)`` (zero padding, one-sided, real window), equal
    to machine precision, as one FFT over all frames: scipy's loops over frames in
    Python, the largest cost of preprocessing (``benchmarks/run.py``)."""
    n = signal.shape[-1]
    first, last = stft.p_min, stft.p_max(n)
    start = first * stft.hop - stft.m_num_mid
    end = (last - 1) * stft.hop - stft.m_num_mid + stft.m_num
    padding = [(0, 0)] * (signal.ndim - 1) + [(max(-start, 0), max(end - n, 0))]
    frames = sliding_window_view(np.pad(signal, padding), stft.m_num, axis=-1)
    frames = frames[..., :: stft.hop, :][..., : last - first, :]
    spectrum = rfft(frames * stft.win, n=stft.mfft, axis=-1)
    return np.moveaxis(np.abs(spectrum) ** 2, -1, -2)


def eeg_spectrogram(eeg: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Power in dB of each chain's bipolar differences, averaged per chain.

    (samples, 20 channels) -> (4 regions, frequencies up to ``max_frequency_hz``, frames).
    """
    chains = bipolar_signals(fill_gaps(eeg))
    sos = _bandpass(config.bandpass_low_hz, config.bandpass_high_hz, config.filter_order)
    filtered = np.clip(sosfiltfilt(sos, chains, axis=-1), -config.clip_uv, config.clip_uv)
    stft = _eeg_stft(config.stft_window_samples, config.stft_hop_samples)
    power = _power_spectrogram(stft, filtered)  # (4, 4, freq, frames)
    keep = stft.f <= config.max_frequency_hz
    decibels = 10 * np.log10(power[:, :, keep, :] + 1e-10)
    return decibels.mean(axis=1)


def eeg_frequencies(config: FeatureConfig) -> np.ndarray:
    """The frequency (Hz) of each row of an ``eeg_spectrogram`` panel."""
    frequencies = _eeg_stft(config.stft_window_samples, config.stft_hop_samples).f
    return frequencies[frequencies <= config.max_frequency_hz]


# --- the model-input image ----------------------------------------------------------------


def _resize_panels(panels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(4, F, T) -> (4, *shape) by linear interpolation; low frequencies stay at the top."""
    factors = (1, shape[0] / panels.shape[1], shape[1] / panels.shape[2])
    resized = zoom(panels, factors, order=1, grid_mode=True, mode="nearest")
    return resized[:, : shape[0], : shape[1]]


def model_input_image(
    spectrogram_frame: pd.DataFrame,
    spectrogram_offset: float,
    eeg_frame: pd.DataFrame,
    eeg_offset: float,
    config: FeatureConfig,
) -> np.ndarray:
    """One (height, width) float32 image: given panels on the left, EEG panels on the right.

    Each half stacks LL, RL, LP, RP from top to bottom.
    """
    given = normalise_spectrogram(spectrogram_window(spectrogram_frame, spectrogram_offset), config)
    computed = standardise_panels(eeg_spectrogram(eeg_window(eeg_frame, eeg_offset), config))
    halves = [
        _resize_panels(panels, config.panel_shape).reshape(-1, config.panel_shape[1])
        for panels in (given, computed)
    ]
    return np.concatenate(halves, axis=1).astype(np.float32)
