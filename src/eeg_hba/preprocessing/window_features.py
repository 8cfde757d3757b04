"""The classical baseline's feature vector of one labelled window.

``window_features`` turns one labelled window (the given 600 s spectrogram window and the
raw 50 s EEG window) into a vector of ``FEATURE_NAMES``: log band powers per region,
band ratios, left-right asymmetry, and morphology/periodicity measures of the band-passed
double-banana chains over the central 10 s the experts labelled. The preprocessing pass
computes it beside the model-input image, from the same reads; the classifier that
reads it is ``eeg_hba.training.classical``. scipy only, no scikit-learn, no Kedro imports.

Missing data (every feature is finite for any window of the right shape; infinite values
and negative spectrogram power are errors, not missing data):
- EEG: a bipolar pair is *unusable* when fewer than half of its samples in the central
  10 s are present (an all-NaN channel makes its two pairs unusable); other NaN stretches
  are interpolated with ``model_inputs.fill_gaps``. A region's measure is the mean over its
  usable pairs. A region with no usable pair takes the value of its mirror region
  (LL <-> RL, LP <-> RP), so its asymmetry reads 0, "no evidence of lateralisation";
  failing that the mean of the other regions; failing that (no EEG at all) a neutral
  constant: 0 for logs, ratios, asymmetries, correlations, shape measures and frequencies.
- Spectrogram: NaN frames are ignored; a region whose central 10 s are all NaN takes its
  whole-window value, then the same fallbacks as the EEG.
- ``*_missing_fraction`` features tell the model how much was filled in.
"""


import warnings

import numpy as np
from scipy.signal import fftconvolve, find_peaks, sosfiltfilt, welch
from scipy.stats import kurtosis

from eeg_hba.hms.layout import (
    EEG_CHANNELS,
    EEG_SAMPLING_HZ,
    LABELLED_SECONDS,
    REGIONS,
    SPECTROGRAM_FREQUENCIES,
    SPECTROGRAM_N_BINS,
    SPECTROGRAM_STEP_SECONDS,
)
from eeg_hba.hms.spectrogram import bipolar_signals
from eeg_hba.preprocessing.model_inputs import FeatureConfig, bandpass_sos, fill_gaps

#: Clinical EEG bands in Hz, [low, high); beta stops where the given spectrograms do.
BANDS: dict[str, tuple[float, float]] = {
    "delta": (0.5, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 20.0),
}
#: Homologous region pairs (left, right) for asymmetry.
HEMISPHERE_PAIRS: dict[str, tuple[str, str]] = {
    "lateral": ("LL", "RL"),
    "parasagittal": ("LP", "RP"),
}
#: Per-region measures of the raw EEG beyond band powers and ratios.
EEG_MEASURES: tuple[str, ...] = (
    "log_amplitude",  # log 5th-95th percentile range, robust to spikes and clipped artefacts
    "log_line_length",  # log mean |sample-to-sample change| per second
    "kurtosis",  # Fisher kurtosis: 0 for Gaussian background, large for spiky signals
    "sharpness",  # log1p of the median steepness of peaks that stand out (0 if none)
    "discharge_rate_hz",  # standing-out peaks per second
    "dominant_hz",  # frequency of the largest Welch power in 0.5-20 Hz
    "peak_prominence",  # log of that power over the median power in 0.5-20 Hz
    "periodicity",  # autocorrelation peak of the rectified signal at 0.25-3.3 s lags
    "periodicity_hz",  # 1 / lag of that peak (0 if none)
)

WELCH_SEGMENT_SECONDS = 4  # 0.25 Hz resolution over the central 10 s
#: Discharges recur at 0.3-4 Hz: autocorrelation lags of 0.25-3.33 s.
PERIODICITY_HZ = (0.3, 4.0)
#: A peak of the rectified signal "stands out" when its prominence exceeds this many
#: times the median rectified amplitude (a sinusoid's peaks reach about 1.4 times).
PEAK_PROMINENCE_FACTOR = 4.0
PEAK_MIN_DISTANCE_SECONDS = 0.2
MIN_PRESENT_FRACTION = 0.5
_POWER_FLOOR = 1e-6  # keeps the log of a flat (all-zero) signal finite

_CENTRE_SAMPLES = LABELLED_SECONDS * EEG_SAMPLING_HZ
#: The band-pass filter runs over the labelled 10 s and this much either side, so its
#: edge transients (a few 0.5 Hz time constants) settle before the centre.
_FILTER_MARGIN_SAMPLES = 5 * EEG_SAMPLING_HZ
_MIRROR = [REGIONS.index({"L": "R", "R": "L"}[r[0]] + r[1:]) for r in REGIONS]
_PAIR_INDEX = {name: (REGIONS.index(left), REGIONS.index(right))
               for name, (left, right) in HEMISPHERE_PAIRS.items()}  # fmt: skip
_SPECTROGRAM_HZ = np.asarray(SPECTROGRAM_FREQUENCIES)


def _source_names(source: str) -> list[str]:
    """Band powers, ratio and asymmetries shared by both sources ("spec_centre", "eeg")."""
    return [
        *(f"{source}_{region}_{band}" for region in REGIONS for band in BANDS),
        *(f"{source}_{region}_slow_fast_ratio" for region in REGIONS),
        *(f"{source}_{pair}_{band}_asymmetry" for pair in HEMISPHERE_PAIRS for band in BANDS),
        *(f"{source}_{band}_abs_asymmetry" for band in BANDS),
    ]


FEATURE_NAMES: tuple[str, ...] = (
    *_source_names("spec_centre"),
    *(f"spec_whole_{region}_{band}" for region in REGIONS for band in BANDS),
    *(f"spec_whole_{region}_power_sd" for region in REGIONS),
    "spec_centre_missing_fraction",
    *_source_names("eeg"),
    *(f"eeg_{region}_{measure}" for region in REGIONS for measure in EEG_MEASURES),
    *(f"eeg_{pair}_envelope_correlation" for pair in HEMISPHERE_PAIRS),
    "eeg_centre_missing_fraction",
    "eeg_clipped_fraction",
)


def _nan_mean(values: np.ndarray, axis: int | tuple[int, ...]) -> np.ndarray:
    """``np.nanmean`` that quietly gives NaN for an all-NaN slice."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def _impute_regions(values: np.ndarray) -> np.ndarray:
    """Fill NaN region rows of (4 regions, k): mirror region, then mean of regions, then
    the neutral 0; see the module docstring."""
    filled = np.where(np.isnan(values), values[_MIRROR], values)
    filled = np.where(np.isnan(filled), _nan_mean(filled, axis=0), filled)
    return np.nan_to_num(filled, nan=0.0)


def _in_band(frequencies: np.ndarray, band: str) -> np.ndarray:
    low, high = BANDS[band]
    return (low <= frequencies) & (frequencies < high)


def _log(power: np.ndarray) -> np.ndarray:
    return np.log(power + _POWER_FLOOR)


def _band_summary(log_band_power: np.ndarray) -> np.ndarray:
    """(4 regions, 4 bands) log powers -> powers, slowing ratio, signed and absolute
    asymmetries, in ``_source_names`` order."""
    power = np.exp(log_band_power)
    slow_fast = np.log((power[:, 0] + power[:, 1]) / (power[:, 2] + power[:, 3]))
    asymmetry = np.stack([log_band_power[left] - log_band_power[right]
                          for left, right in _PAIR_INDEX.values()])  # fmt: skip
    return np.concatenate(
        [log_band_power.ravel(), slow_fast, asymmetry.ravel(), np.abs(asymmetry).mean(axis=0)]
    )


# --- the given spectrogram ------------------------------------------------------------------


def _spectrogram_band_power(power: np.ndarray) -> np.ndarray:
    """(4, 100 bins, frames) power -> (4 regions, 4 bands) mean power, NaN where no data."""
    return np.stack(
        [_nan_mean(power[:, _in_band(_SPECTROGRAM_HZ, band)], axis=(1, 2)) for band in BANDS],
        axis=1,
    )


def _spectrogram_features(power: np.ndarray) -> np.ndarray:
    frame_centres = (np.arange(power.shape[2]) + 0.5) * SPECTROGRAM_STEP_SECONDS
    middle = power.shape[2] * SPECTROGRAM_STEP_SECONDS / 2
    centre = np.abs(frame_centres - middle) <= LABELLED_SECONDS / 2
    whole = _log(_spectrogram_band_power(power))
    central = _log(_spectrogram_band_power(power[:, :, centre]))
    central = _impute_regions(np.where(np.isnan(central), whole, central))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # regions without two frames
        power_sd = np.nanstd(_log(_nan_mean(power, axis=1)), axis=1, keepdims=True)
    return np.concatenate(
        [
            _band_summary(central),
            _impute_regions(whole).ravel(),
            _impute_regions(power_sd).ravel(),
            [np.isnan(power[:, :, centre]).mean()],
        ]
    )


# --- the raw EEG ------------------------------------------------------------------------------


def _pair_spectra(centre: np.ndarray, config: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """Welch power of each pair in the band-pass (0.5-20 Hz): frequencies (f,), power
    (4, 4, f)."""
    segment = WELCH_SEGMENT_SECONDS * EEG_SAMPLING_HZ
    frequencies, power = welch(centre, fs=EEG_SAMPLING_HZ, nperseg=segment, axis=-1)
    keep = (frequencies >= config.bandpass_low_hz) & (frequencies < config.bandpass_high_hz)
    return frequencies[keep], power[..., keep]


def _band_power(frequencies: np.ndarray, power: np.ndarray) -> np.ndarray:
    """(..., f) power density -> (..., 4 bands) power in each band (µV²)."""
    step = frequencies[1] - frequencies[0]
    return np.stack(
        [power[..., _in_band(frequencies, band)].sum(axis=-1) * step for band in BANDS], axis=-1
    )


def _periodicity(rectified: np.ndarray, usable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Highest peak of each region's autocorrelation of the rectified signal at lags of
    discharges recurring at 0.3-4 Hz (0.25-3.33 s).

    The autocorrelation (normalised per pair) is averaged over the region's usable pairs.
    (4, 4, samples) -> score in [-1, 1] and its frequency (1 / lag), each (4,); NaN for a
    region without a usable non-flat pair, 0 and 0 where the autocorrelation has no peak.
    """
    centred = rectified - rectified.mean(axis=-1, keepdims=True)
    n = centred.shape[-1]
    correlation = fftconvolve(centred, centred[..., ::-1], mode="full", axes=-1)[..., n - 1 :]
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = correlation / correlation[..., :1]
    correlation[~usable] = np.nan
    first = int(EEG_SAMPLING_HZ / PERIODICITY_HZ[1])
    last = int(EEG_SAMPLING_HZ / PERIODICITY_HZ[0])
    score, frequency = np.full(len(REGIONS), np.nan), np.full(len(REGIONS), np.nan)
    for region, lags in enumerate(_nan_mean(correlation, axis=1)):
        if np.isnan(lags[0]):
            continue
        peaks, _ = find_peaks(lags[first - 1 : last + 2])  # a lag either side finds edge peaks
        peaks = peaks[(peaks >= 1) & (peaks <= last - first + 1)] + first - 1
        if peaks.size:
            best = peaks[np.argmax(lags[peaks])]
            score[region], frequency[region] = lags[best], EEG_SAMPLING_HZ / best
        else:
            score[region] = frequency[region] = 0.0
    return score, frequency


def _peak_shape(rectified: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sharpness and rate of the peaks that stand out from the rectified signal.

    Sharpness: log1p of the median over those peaks of prominence / width at half
    prominence, in units of the median rectified amplitude per second (0 if none).
    (..., samples) -> sharpness, rate in Hz, each (...); NaN for a flat signal.
    """
    flat = rectified.reshape(-1, rectified.shape[-1])
    typical = np.median(flat, axis=-1)
    sharpness, rate = np.full(len(flat), np.nan), np.full(len(flat), np.nan)
    seconds = flat.shape[-1] / EEG_SAMPLING_HZ
    for i in np.flatnonzero(typical > 0):
        peaks, shape = find_peaks(
            flat[i],
            prominence=PEAK_PROMINENCE_FACTOR * typical[i],
            distance=PEAK_MIN_DISTANCE_SECONDS * EEG_SAMPLING_HZ,
            width=0,
            rel_height=0.5,
        )
        rate[i] = peaks.size / seconds
        steepness = shape["prominences"] / typical[i] / (shape["widths"] / EEG_SAMPLING_HZ)
        sharpness[i] = np.log1p(np.median(steepness)) if peaks.size else 0.0
    return sharpness.reshape(rectified.shape[:-1]), rate.reshape(rectified.shape[:-1])


def _envelope_correlation(rectified: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Mean correlation of homologous pairs' rectified signals (synchrony across the
    hemispheres, high for generalised patterns); NaN where no homologous pair is usable."""
    correlations = []
    for left, right in _PAIR_INDEX.values():
        values = [
            np.corrcoef(rectified[left, k], rectified[right, k])[0, 1]
            for k in range(rectified.shape[1])
            if usable[left, k] and usable[right, k]
            and rectified[left, k].std() > 0 and rectified[right, k].std() > 0
        ]  # fmt: skip
        correlations.append(np.mean(values) if values else np.nan)
    return np.array(correlations)


def _eeg_features(eeg: np.ndarray, config: FeatureConfig) -> np.ndarray:
    first = (len(eeg) - _CENTRE_SAMPLES) // 2
    segment = slice(
        max(first - _FILTER_MARGIN_SAMPLES, 0), first + _CENTRE_SAMPLES + _FILTER_MARGIN_SAMPLES
    )
    chains = bipolar_signals(eeg[segment])  # (4 regions, 4 pairs, samples), NaN as the channels
    middle = slice(first - segment.start, first - segment.start + _CENTRE_SAMPLES)
    missing = np.isnan(chains[..., middle])
    usable = (~missing).mean(axis=-1) >= MIN_PRESENT_FRACTION
    filled = fill_gaps(chains.reshape(-1, chains.shape[-1]).T).T.reshape(chains.shape)
    sos = bandpass_sos(config.bandpass_low_hz, config.bandpass_high_hz, config.filter_order)
    centre = sosfiltfilt(sos, filled, axis=-1)[..., middle]
    clip = config.clip_uv  # as the model inputs are clipped
    clipped_fraction = (np.abs(centre[usable]) > clip).mean() if usable.any() else 0.0
    centre = np.clip(centre, -clip, clip)
    rectified = np.abs(centre)

    frequencies, spectra = _pair_spectra(centre, config)
    spectra[~usable] = np.nan
    region_spectra = _nan_mean(spectra, axis=1)  # (4 regions, f), as the spectrogram averages
    band_power = _log(_band_power(frequencies, region_spectra))
    dominant = np.argmax(np.nan_to_num(region_spectra, nan=-1.0), axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # kurtosis of a flat signal
        pair_kurtosis = kurtosis(centre, axis=-1)
    per_pair = np.stack(
        [
            _log(np.subtract(*np.percentile(centre, [95, 5], axis=-1))),
            _log(np.abs(np.diff(centre, axis=-1)).mean(axis=-1) * EEG_SAMPLING_HZ),
            pair_kurtosis,
            *_peak_shape(rectified),
        ],
        axis=-1,
    )  # (4 regions, 4 pairs, measures)
    per_pair[~usable] = np.nan
    per_region = np.column_stack(
        [
            _nan_mean(per_pair, axis=1),
            np.where(np.isnan(region_spectra[:, 0]), np.nan, frequencies[dominant]),
            np.log((region_spectra.max(axis=-1) + _POWER_FLOOR)
                   / (np.median(region_spectra, axis=-1) + _POWER_FLOOR)),
            *_periodicity(rectified, usable),
        ]
    )  # fmt: skip
    return np.concatenate(
        [
            _band_summary(_impute_regions(band_power)),
            _impute_regions(per_region).ravel(),
            np.nan_to_num(_envelope_correlation(rectified, usable)),
            [missing.mean(), clipped_fraction],
        ]
    )


def window_features(
    spectrogram_window: np.ndarray, eeg_window: np.ndarray, config: FeatureConfig
) -> np.ndarray:
    """Hand-crafted features of one labelled window, in ``FEATURE_NAMES`` order; the EEG
    band-passed and clipped as the model inputs are (``config``).

    Parameters
    ----------
    spectrogram_window : ndarray, shape (4 regions, 100 bins, 300 frames)
        Raw power of the given 600 s spectrogram window
        (``eeg_hba.hms.windows.spectrogram_window``); may contain NaN.
    eeg_window : ndarray, shape (10000 samples, 20 channels)
        The raw 50 s EEG window in µV (``eeg_hba.hms.windows.eeg_window``); may contain NaN.

    Returns
    -------
    ndarray, shape (len(FEATURE_NAMES),), float64, every value finite.

    Raises
    ------
    ValueError
        For a wrong shape, an infinite value or negative spectrogram power.
    """
    _check_window(spectrogram_window, eeg_window)
    return np.concatenate(
        [
            _spectrogram_features(spectrogram_window.astype(np.float64)),
            _eeg_features(eeg_window.astype(np.float64), config),
        ]
    )


def _check_window(spectrogram_window: np.ndarray, eeg_window: np.ndarray) -> None:
    spectrogram_shape = (len(REGIONS), SPECTROGRAM_N_BINS)
    if spectrogram_window.ndim != 3 or spectrogram_window.shape[:2] != spectrogram_shape:
        raise ValueError(
            f"spectrogram_window must have shape ({len(REGIONS)}, {SPECTROGRAM_N_BINS}, "
            f"frames), got {spectrogram_window.shape}"
        )
    channels = len(EEG_CHANNELS)
    if eeg_window.ndim != 2 or eeg_window.shape[1] != channels or len(eeg_window) < _CENTRE_SAMPLES:
        raise ValueError(
            f"eeg_window must have shape (>= {_CENTRE_SAMPLES} samples, {channels} channels), "
            f"got {eeg_window.shape}"
        )
    if np.isinf(spectrogram_window).any() or np.isinf(eeg_window).any():
        raise ValueError("spectrogram_window and eeg_window must not contain infinite values")
    if (spectrogram_window < 0).any():
        raise ValueError("spectrogram_window must not contain negative power")
