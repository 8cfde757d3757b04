"""Model-input features on signals with known answers."""

import numpy as np
import pandas as pd
import pytest

from eeg_hba.features import (
    FeatureConfig,
    WindowError,
    _eeg_stft,
    _power_spectrogram,
    eeg_frequencies,
    eeg_spectrogram,
    eeg_window,
    fill_gaps,
    model_input_image,
    spectrogram_window,
)
from eeg_hba.hms import (
    EEG_CHANNELS,
    EEG_SAMPLING_HZ,
    LEFT_CHANNELS,
    REGIONS,
    SPECTROGRAM_COLUMNS,
)

CONFIG = FeatureConfig(image_height=64, image_width=64)
N = 50 * EEG_SAMPLING_HZ
rng = np.random.default_rng(0)


def _eeg(channels: dict[str, np.ndarray], seconds: int = 50) -> np.ndarray:
    eeg = np.zeros((seconds * EEG_SAMPLING_HZ, len(EEG_CHANNELS)))
    for name, signal in channels.items():
        eeg[:, EEG_CHANNELS.index(name)] = signal
    return eeg


def _spectrogram_frame(n_rows: int = 300, regions: tuple[str, ...] = REGIONS) -> pd.DataFrame:
    values = np.zeros((n_rows, len(SPECTROGRAM_COLUMNS) - 1), dtype=np.float32)
    for region in regions:
        start = REGIONS.index(region) * 100
        values[:, start : start + 100] = rng.gamma(1.0, 5.0, (n_rows, 100))
    frame = pd.DataFrame(values, columns=list(SPECTROGRAM_COLUMNS[1:]))
    frame.insert(0, "time", np.arange(1, 2 * n_rows, 2, dtype=np.int64))
    return frame


def test_4hz_sine_on_the_left_lateral_chain_peaks_at_4hz_in_ll_only():
    sine = 100 * np.sin(2 * np.pi * 4.0 * np.arange(N) / EEG_SAMPLING_HZ)
    panels = eeg_spectrogram(_eeg({"T5": sine}), CONFIG)  # T5 sits on the LL chain only
    spectrum = panels.mean(axis=2)
    frequencies = eeg_frequencies(CONFIG)
    ll, rl, rp = (REGIONS.index(r) for r in ("LL", "RL", "RP"))
    assert abs(frequencies[np.argmax(spectrum[ll])] - 4.0) <= 0.4
    at_4hz = np.argmin(np.abs(frequencies - 4.0))
    assert spectrum[ll, at_4hz] - spectrum[rl, at_4hz] > 60  # dB
    assert spectrum[ll, at_4hz] - spectrum[rp, at_4hz] > 60


def test_left_only_signal_lands_in_the_left_panels():
    eeg = _eeg({c: rng.normal(0, 30, N) for c in LEFT_CHANNELS})
    frame = pd.DataFrame(eeg, columns=list(EEG_CHANNELS))
    image = model_input_image(_spectrogram_frame(regions=("LL", "LP")), 0, frame, 0, CONFIG)
    panels = np.split(image, 4, axis=0)  # LL, RL, LP, RP from top to bottom
    for region, panel in zip(REGIONS, panels, strict=True):
        for half in np.split(panel, 2, axis=1):  # given | from EEG
            if region in ("LL", "LP"):
                assert half.std() > 0.2
            else:
                assert np.abs(half).max() < 1e-3


def test_spectrogram_window_takes_rows_from_offset_to_offset_plus_600():
    frame = _spectrogram_frame(n_rows=600)  # times 1, 3, ..., 1199
    frame["LL_0.59"] = frame["time"].astype(np.float32)
    window = spectrogram_window(frame, 100.0)
    assert window.shape == (4, 100, 300)
    assert window[0, 0, 0] == 101 and window[0, 0, -1] == 699
    with pytest.raises(WindowError, match="has 250 of 300 frames"):
        spectrogram_window(frame, 700.0)


def test_eeg_window_rows_and_bounds():
    frame = pd.DataFrame(
        _eeg({"Fp1": np.arange(60 * EEG_SAMPLING_HZ)}, 60), columns=list(EEG_CHANNELS)
    )
    window = eeg_window(frame, 4.0)
    assert window[0, 0] == 4 * EEG_SAMPLING_HZ and len(window) == N
    with pytest.raises(WindowError, match="the file has 12000 rows"):
        eeg_window(frame, 12.0)


def test_gaps_are_interpolated_and_empty_channels_zeroed():
    eeg = np.column_stack([[0.0, np.nan, np.nan, 3.0], [np.nan] * 4])
    np.testing.assert_array_equal(fill_gaps(eeg), [[0, 0], [1, 0], [2, 0], [3, 0]])


def test_nan_input_gives_finite_output():
    eeg = rng.normal(0, 30, (N, len(EEG_CHANNELS)))
    eeg[1000:3000, 3] = np.nan
    eeg[:, EEG_CHANNELS.index("O2")] = np.nan
    eeg[500, 7] = 1e6  # a huge artefact is clipped
    spectrogram = _spectrogram_frame()
    spectrogram.iloc[10:40, 1:] = np.nan
    spectrogram.iloc[:, 101:201] = np.nan  # a whole region missing
    image = model_input_image(
        spectrogram, 0, pd.DataFrame(eeg, columns=list(EEG_CHANNELS)), 0, CONFIG
    )
    assert image.shape == (64, 64) and np.isfinite(image).all()


def test_image_size_must_tile_four_panels_and_two_halves():
    with pytest.raises(ValueError, match="multiple of 4"):
        FeatureConfig(image_height=66, image_width=64)


@pytest.mark.parametrize(
    ("samples", "window", "hop"), [(10000, 512, 50), (9999, 256, 64), (300, 512, 50)]
)
def test_vectorised_power_spectrogram_equals_scipys(samples, window, hop):
    stft = _eeg_stft(window, hop)
    signal = rng.normal(0, 50, (4, 4, samples))
    expected = stft.spectrogram(signal, axis=-1)
    np.testing.assert_allclose(
        _power_spectrogram(stft, signal), expected, rtol=1e-9, atol=1e-12 * expected.max()
    )
