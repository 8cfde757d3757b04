"""Model inputs from raw HMS windows: one tiled image per window, both modalities.

Left half: the four given spectrogram panels (LL, RL, LP, RP) of the central
``given_seconds`` of the 600 s window, clipped and log-transformed. Right half: four
spectrograms computed from the 50 s raw EEG window over the same bipolar chains
(band-pass 0.5-20 Hz, clip +-1024 uV, STFT power averaged over each region's chains).
Two layouts, by knob (``parameters_preprocessing.yml``):

- ``frequency_scale: linear`` and ``scaling: per_panel`` (``conf/kaggle``, the layout of the
  strong public solutions, made for ImageNet weights): each panel standardised on its own,
  rows linear in frequency (the given half all 100 bins, the EEG half up to
  ``max_frequency_hz``), the whole 600 s on the left.
- ``frequency_scale: log`` and ``scaling: fixed`` (``conf/base``, small images from
  scratch): rows on one log-frequency grid from ``min_frequency_hz`` to
  ``max_frequency_hz`` in both halves (a harmonic comb keeps its shape at every rate,
  and the 0.5-5 Hz band where discharge and rhythm rates live gets most rows), and one
  fixed map of log power onto about [-1, 1] for every panel, so that a lateralised field
  stays brighter than its other side and a prominent pattern brighter than background.

Only what the image keeps is computed: a right-hand panel ``W`` pixels wide is ``W``
STFT frames, one every 50 s / ``W`` (rounded down to a sample), the grid centred in the
window (``eeg_panel_times``); its rows interpolate the FFT bins linearly
(``eeg_panel_frequencies``, lowest frequency on top).

The 1-D model reads the same filtered chains as signals (``model_input_signals``): the 16
chains of the central ``signal_seconds``, every ``200 / signal_sampling_hz``-th sample (the
band-pass, run forward and backward, leaves little above its upper edge to alias), divided
by one fixed ``signal_scale_uv``, so that amplitude differences between chains, windows
and patients stay. Training and inference call the same functions. Functions take numpy
windows (``eeg_hba.hms.windows`` cuts them from the files). No Kedro.
"""

import warnings
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.fft import rfft, rfftfreq
from scipy.signal import butter, sosfiltfilt
from scipy.signal.windows import hann

from eeg_hba.hms.layout import (
    BIPOLAR_CHAINS,
    EEG_SAMPLING_HZ,
    EEG_WINDOW_SECONDS,
    REGIONS,
    SPECTROGRAM_FREQUENCIES,
    SPECTROGRAM_N_BINS,
    SPECTROGRAM_STEP_SECONDS,
)
from eeg_hba.hms.spectrogram import bipolar_signals
from eeg_hba.hms.windows import EEG_SAMPLES, SPECTROGRAM_FRAMES

_STANDARDISE_EPSILON = 1e-6
#: A panel whose spread is below this share of its mean is flat: float32 rounding noise.
_FLAT_SPREAD = 1e-5
_DECIBEL_FLOOR = 1e-10
FREQUENCY_SCALES = ("linear", "log")
SCALINGS = ("per_panel", "fixed")


@dataclass(frozen=True)
class FeatureConfig:
    """Knobs from ``parameters_preprocessing.yml``, their only home: no defaults here."""

    image_height: int
    image_width: int
    spectrogram_floor: float
    spectrogram_ceiling: float
    bandpass_low_hz: float
    bandpass_high_hz: float
    filter_order: int
    clip_uv: float
    stft_window_samples: int
    max_frequency_hz: float
    min_frequency_hz: float  # the top row on the log scale
    frequency_scale: str  # linear | log
    scaling: str  # per_panel | fixed
    given_seconds: int  # the centre of the 600 s window
    signal_seconds: int  # the 1-D model's signals: the centre of the 50 s window
    signal_sampling_hz: int
    signal_scale_uv: float  # signals in units of this many uV

    def __post_init__(self) -> None:
        if self.image_height % len(REGIONS) or self.image_width % 2:
            raise ValueError(
                "image_height must be a multiple of 4 (four panels) and image_width even "
                f"(two modalities), got {self.image_height} x {self.image_width}"
            )
        if self.frequency_scale not in FREQUENCY_SCALES or self.scaling not in SCALINGS:
            raise ValueError(
                f"frequency_scale must be one of {FREQUENCY_SCALES} and scaling one of "
                f"{SCALINGS}, got {self.frequency_scale!r} and {self.scaling!r}"
            )
        frames = self.given_seconds // SPECTROGRAM_STEP_SECONDS
        if self.given_seconds % SPECTROGRAM_STEP_SECONDS or not 0 < frames <= SPECTROGRAM_FRAMES:
            raise ValueError(
                f"given_seconds must be a multiple of {SPECTROGRAM_STEP_SECONDS} s up to "
                f"{SPECTROGRAM_FRAMES * SPECTROGRAM_STEP_SECONDS} s, got {self.given_seconds}"
            )
        if (
            EEG_SAMPLING_HZ % self.signal_sampling_hz
            or not 2 * self.bandpass_high_hz <= self.signal_sampling_hz
            or not 0 < self.signal_seconds <= EEG_WINDOW_SECONDS
        ):
            raise ValueError(
                f"signal_sampling_hz must divide {EEG_SAMPLING_HZ} and be at least twice "
                f"bandpass_high_hz ({self.bandpass_high_hz}), and signal_seconds at most "
                f"{EEG_WINDOW_SECONDS}, got {self.signal_sampling_hz} Hz and "
                f"{self.signal_seconds} s"
            )
        if not 0 < self.min_frequency_hz < self.max_frequency_hz:
            raise ValueError(
                "min_frequency_hz must be above 0 and below max_frequency_hz, got "
                f"{self.min_frequency_hz} and {self.max_frequency_hz}"
            )

    @property
    def panel_shape(self) -> tuple[int, int]:
        return self.image_height // len(REGIONS), self.image_width // 2

    @property
    def signal_shape(self) -> tuple[int, int]:
        """(samples, chains) of the 1-D model's input (``model_input_signals``)."""
        return self.signal_seconds * self.signal_sampling_hz, len(BIPOLAR_CHAINS)


# --- resizing ------------------------------------------------------------------------------


@cache
def _linear_resize(source: int, target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper source indices and upper weights of linear interpolation at the
    centres of ``target`` equal parts of ``source`` samples, edges held: what
    ``scipy.ndimage.zoom(order=1, grid_mode=True, mode="nearest")`` computes."""
    position = np.clip((np.arange(target) + 0.5) * source / target - 0.5, 0, source - 1)
    lower = np.floor(position).astype(np.int64)
    return lower, np.minimum(lower + 1, source - 1), position - lower


@cache
def _linear_at(source: tuple[float, ...], target: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """Lower and upper indices and upper weights of linear interpolation of samples at
    ``source`` (increasing) onto ``target``, edges held: what ``np.interp`` computes."""
    position = np.interp(target, source, np.arange(len(source)))
    lower = np.floor(position).astype(np.int64)
    return lower, np.minimum(lower + 1, len(source) - 1), position - lower


def _resize_axis(
    values: np.ndarray, axis: int, target: int, at: tuple[np.ndarray, ...] | None = None
) -> np.ndarray:
    """``values`` linearly interpolated to ``target`` samples along ``axis`` (or at the
    interpolation ``at`` of ``_linear_at``); only the two source samples next to each
    target sample are read."""
    if at is None and values.shape[axis] == target:
        return values
    lower, upper, weight = at or _linear_resize(values.shape[axis], target)
    weight = weight.reshape([-1 if a == axis % values.ndim else 1 for a in range(values.ndim)])
    below, above = np.take(values, lower, axis=axis), np.take(values, upper, axis=axis)
    return below + (above - below) * weight


def _resize_panels(
    panels: np.ndarray, shape: tuple[int, int], frequencies: np.ndarray, config: FeatureConfig
) -> np.ndarray:
    """(4, F, T) -> (4, *shape) by linear interpolation; low frequencies stay at the top.

    ``frequencies`` are the panels' rows (Hz): on the log scale the rows are interpolated
    at ``log_frequencies(config)``, on the linear one resized evenly."""
    resized = _resize_axis(panels, -1, shape[1])
    if config.frequency_scale == "linear":
        return _resize_axis(resized, -2, shape[0])
    at = _linear_at(tuple(frequencies), tuple(log_frequencies(config)))
    return _resize_axis(resized, -2, shape[0], at)


def log_frequencies(config: FeatureConfig) -> np.ndarray:
    """The frequency (Hz) of each panel row on the log scale, lowest first."""
    return np.geomspace(config.min_frequency_hz, config.max_frequency_hz, config.panel_shape[0])


# --- the given spectrograms ----------------------------------------------------------------


def given_panels(window: np.ndarray) -> np.ndarray:
    """A 600 s window of a spectrogram file's 400 value columns (300 frames, 400) as
    (4 regions, 100 bins, 300 frames)."""
    return window.reshape(SPECTROGRAM_FRAMES, len(REGIONS), SPECTROGRAM_N_BINS).transpose(1, 2, 0)


def standardise_panels(panels: np.ndarray) -> np.ndarray:
    """Each panel to zero mean and unit variance, ignoring NaN; NaN, empty and flat panels
    -> 0. A flat panel (e.g. power below the floor everywhere, clipped to it) has a spread
    of rounding noise only, which standardising would blow up to about +-0.5."""
    axes = tuple(range(1, panels.ndim))
    if not np.isnan(panels).any():  # the usual case: np.std's own steps, each done once
        mean = panels.mean(axis=axes, keepdims=True)
        centred = panels - mean
        std = np.sqrt(np.mean(centred * centred, axis=axes, keepdims=True))
        standardised = centred / (std + _STANDARDISE_EPSILON)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN panel has no mean
            mean = np.nan_to_num(np.nanmean(panels, axis=axes, keepdims=True))
            std = np.nan_to_num(np.nanstd(panels, axis=axes, keepdims=True))
        standardised = np.nan_to_num(
            (panels - mean) / (std + _STANDARDISE_EPSILON), nan=0.0, posinf=0.0, neginf=0.0
        )
    flat = std <= _FLAT_SPREAD * np.abs(mean)
    return np.where(flat, 0.0, standardised).astype(np.float32, copy=False)


def scale_log_power(log_power: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Natural-log power (uV^2/Hz) to model-input values, NaN -> 0: each panel
    standardised (``per_panel``), or clipped to the floor and ceiling and mapped linearly
    onto [-1, 1] (``fixed``), the same map for every panel, window and file."""
    if config.scaling == "per_panel":
        return standardise_panels(log_power)
    low, high = np.log(config.spectrogram_floor), np.log(config.spectrogram_ceiling)
    scaled = (np.clip(log_power, low, high) - (low + high) / 2) / ((high - low) / 2)
    return np.nan_to_num(scaled, nan=0.0).astype(np.float32, copy=False)


def central_frames(panels: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """The frames of the central ``given_seconds`` of a (4, bins, 300 frames) window."""
    frames = config.given_seconds // SPECTROGRAM_STEP_SECONDS
    first = (panels.shape[-1] - frames) // 2
    return panels[..., first : first + frames]


def normalise_spectrogram(panels: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """The central ``given_seconds`` of the window, clipped at a small floor,
    log-transformed and scaled (``scale_log_power``; per panel: over the frames shown)."""
    clipped = np.clip(central_frames(panels, config), config.spectrogram_floor,
                      config.spectrogram_ceiling)  # fmt: skip
    return scale_log_power(np.log(clipped), config)


# --- spectrograms from the raw EEG -------------------------------------------------------


def fill_gaps(eeg: np.ndarray) -> np.ndarray:
    """Interpolate each channel's NaN stretches linearly; a channel with no data becomes 0."""
    missing = np.isnan(eeg)
    if not missing.any():
        return eeg
    filled = eeg.copy()
    index = np.arange(len(eeg))
    for channel in np.flatnonzero(missing.any(axis=0)):
        gaps = missing[:, channel]
        if gaps.all():
            filled[:, channel] = 0.0
        else:
            filled[gaps, channel] = np.interp(index[gaps], index[~gaps], eeg[~gaps, channel])
    return filled


@cache
def bandpass_sos(low_hz: float, high_hz: float, order: int) -> np.ndarray:
    """The Butterworth band-pass of the EEG (second-order sections, float64), designed once
    per setting: the model inputs and the classical features filter with it."""
    return butter(order, [low_hz, high_hz], btype="bandpass", fs=EEG_SAMPLING_HZ, output="sos")


@cache
def _psd_window(window_samples: int) -> np.ndarray:
    """Periodic Hann window scaled for power spectral density, as
    ``scipy.signal.ShortTimeFFT(..., scale_to="psd")`` scales it."""
    window = hann(window_samples, sym=False)
    return (window / np.sqrt(EEG_SAMPLING_HZ * np.sum(window**2))).astype(np.float32)


def frame_power(
    signal: np.ndarray, window: np.ndarray, first_centre: int, hop: int, frames: int, n_bins: int
) -> np.ndarray:
    """Power of the first ``n_bins`` one-sided FFT bins of ``frames`` frames centred at
    ``first_centre``, ``first_centre + hop``, ...

    signal : ndarray, shape (..., n_samples); window : shape (m,); a frame centred at
    sample ``c`` holds samples ``[c - m // 2, c - m // 2 + m)``, zero beyond the signal
    (``scipy.signal.ShortTimeFFT``'s convention). Returns shape (..., n_bins, frames).
    The frames are a strided view of the signal: only their windowed copy is made.
    """
    m = len(window)
    first, last = first_centre - m // 2, first_centre + (frames - 1) * hop - m // 2
    before, after = max(0, -first), max(0, last + m - signal.shape[-1])
    padded = np.pad(signal, [(0, 0)] * (signal.ndim - 1) + [(before, after)])
    views = sliding_window_view(padded, m, axis=-1)[..., first + before :: hop, :][..., :frames, :]
    spectrum = rfft(views * window, axis=-1)[..., :n_bins]
    return np.moveaxis(spectrum.real**2 + spectrum.imag**2, -1, -2)


def eeg_frequencies(config: FeatureConfig) -> np.ndarray:
    """The frequency (Hz) of each row of an ``eeg_spectrogram`` panel: FFT bins up to
    ``max_frequency_hz``."""
    frequencies = rfftfreq(config.stft_window_samples, 1 / EEG_SAMPLING_HZ)
    return frequencies[frequencies <= config.max_frequency_hz]


def eeg_frame_grid(width: int) -> tuple[int, int]:
    """(first centre, hop) in samples of the ``width`` STFT frames of an EEG panel: one
    every ``50 s / width`` (rounded down to a sample), the grid centred in the window."""
    hop = EEG_SAMPLES // width
    return (EEG_SAMPLES - (width - 1) * hop) // 2, hop


def eeg_panel_times(config: FeatureConfig) -> np.ndarray:
    """Seconds into the 50 s window of each column of a right-hand (EEG) panel."""
    width = config.panel_shape[1]
    first, hop = eeg_frame_grid(width)
    return (first + hop * np.arange(width)) / EEG_SAMPLING_HZ


def eeg_panel_frequencies(config: FeatureConfig) -> np.ndarray:
    """The frequency (Hz) each row of a right-hand (EEG) panel of the image stands for."""
    if config.frequency_scale == "log":
        return log_frequencies(config)
    return _resize_axis(eeg_frequencies(config), 0, config.panel_shape[0])


def filtered_chains(eeg: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """The 16 double-banana chains of a 50 s window, gaps filled, band-passed and clipped
    at +-``clip_uv``: what the EEG spectrograms and the 1-D model's signals are made of.

    (samples, 20 channels) -> (4 regions, 4 chains, samples), float32.
    """
    if len(eeg) != EEG_SAMPLES:
        raise ValueError(f"an EEG window holds {EEG_SAMPLES} samples ({EEG_WINDOW_SECONDS} s)")
    # float32 (as the files hold it): a third of the time of float64, and the microvolts
    # the filter gives differ by 1e-4 of the signal
    chains = bipolar_signals(fill_gaps(eeg)).astype(np.float32, copy=False)
    sos = bandpass_sos(config.bandpass_low_hz, config.bandpass_high_hz, config.filter_order)
    sos = sos.astype(np.float32)
    return np.clip(sosfiltfilt(sos, chains, axis=-1), -config.clip_uv, config.clip_uv)


def chains_spectrogram(filtered: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Power in dB of each region's four ``filtered_chains``, one frame per column of the
    image's EEG panel: their dB averaged (``per_panel``, as the public solutions did), or
    the dB of their mean power (``fixed``, as the given spectrogram's regions are made, so
    that one flat chain does not drag its region down to the decibel floor).

    (4 regions, 4 chains, samples) -> (4 regions, ``eeg_frequencies``, ``eeg_panel_times``).
    """
    width = config.panel_shape[1]
    power = frame_power(
        filtered,
        _psd_window(config.stft_window_samples),
        *eeg_frame_grid(width),
        width,
        len(eeg_frequencies(config)),
    )  # (4 regions, 4 chains, frequencies, frames)
    if config.scaling == "fixed":
        return 10 * np.log10(power.mean(axis=1) + _DECIBEL_FLOOR)
    return (10 * np.log10(power + _DECIBEL_FLOOR)).mean(axis=1)


def eeg_spectrogram(eeg: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """``chains_spectrogram`` of a raw 50 s window (samples, 20 channels)."""
    return chains_spectrogram(filtered_chains(eeg, config), config)


def model_input_signals(filtered: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """The 1-D model's input from ``filtered_chains``: (samples, 16 chains) float32, the
    central ``signal_seconds`` at ``signal_sampling_hz``, in units of ``signal_scale_uv``.
    Chains in the order LL, RL, LP, RP, each from front to back (Fp1-F7 first)."""
    length = config.signal_seconds * EEG_SAMPLING_HZ
    first = (filtered.shape[-1] - length) // 2
    step = EEG_SAMPLING_HZ // config.signal_sampling_hz
    central = filtered[..., first : first + length : step]
    return (central.reshape(-1, central.shape[-1]).T / config.signal_scale_uv).astype(np.float32)


# --- the model-input image ----------------------------------------------------------------


def model_inputs(
    spectrogram_window: np.ndarray, eeg_window: np.ndarray, config: FeatureConfig
) -> dict[str, np.ndarray]:
    """What the models read from one window, by shard key, the EEG filtered once for both:
    ``images`` (height, width), given panels on the left and EEG panels on the right, each
    half stacking LL, RL, LP, RP from top to bottom; ``signals`` (``model_input_signals``).

    ``spectrogram_window``: the 600 s window's 400 value columns (300, 400);
    ``eeg_window``: the 50 s window's 20 channels (10000, 20).
    """
    filtered = filtered_chains(eeg_window, config)
    given = normalise_spectrogram(given_panels(spectrogram_window), config)
    decibels = chains_spectrogram(filtered, config)
    computed = scale_log_power(decibels * (np.log(10) / 10), config)  # dB -> natural log
    halves = [
        _resize_panels(panels, config.panel_shape, frequencies, config).reshape(
            -1, config.panel_shape[1]
        )
        for panels, frequencies in (
            (given, np.asarray(SPECTROGRAM_FREQUENCIES)),
            (computed, eeg_frequencies(config)),
        )
    ]
    return {
        "images": np.concatenate(halves, axis=1).astype(np.float32),
        "signals": model_input_signals(filtered, config),
    }


def model_input_image(
    spectrogram_window: np.ndarray, eeg_window: np.ndarray, config: FeatureConfig
) -> np.ndarray:
    """The ``images`` input of ``model_inputs``: one (height, width) float32 image."""
    return model_inputs(spectrogram_window, eeg_window, config)["images"]
