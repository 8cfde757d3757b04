"""Model-input features on signals with known answers, at the default and the Kaggle size."""

import numpy as np
import pyarrow as pa
import pytest
from kedro.config import OmegaConfigLoader
from scipy.ndimage import zoom
from scipy.signal import ShortTimeFFT
from scipy.signal.windows import hann

from eeg_hba.features import (
    FeatureConfig,
    _psd_window,
    _resize_panels,
    eeg_frequencies,
    eeg_panel_frequencies,
    eeg_panel_times,
    eeg_spectrogram,
    fill_gaps,
    frame_power,
    given_panels,
    model_input_image,
    normalise_spectrogram,
    standardise_panels,
)
from eeg_hba.hms import (
    EEG_CHANNELS,
    EEG_SAMPLING_HZ,
    LEFT_CHANNELS,
    REGIONS,
    SPECTROGRAM_COLUMNS,
)
from eeg_hba.settings import CONFIG_LOADER_ARGS
from eeg_hba.windows import WindowError, eeg_window, spectrogram_window

from .conftest import PROJECT_ROOT

CONFIG = FeatureConfig(image_height=64, image_width=64)
N = 50 * EEG_SAMPLING_HZ
rng = np.random.default_rng(0)


def kaggle_features() -> FeatureConfig:
    """The features of ``--env=kaggle``: conf/kaggle soft-merged over conf/base."""
    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env="kaggle", **CONFIG_LOADER_ARGS)
    return FeatureConfig(**loader["parameters"]["preprocessing"]["features"])


def _eeg(channels: dict[str, np.ndarray], seconds: int = 50) -> np.ndarray:
    eeg = np.zeros((seconds * EEG_SAMPLING_HZ, len(EEG_CHANNELS)))
    for name, signal in channels.items():
        eeg[:, EEG_CHANNELS.index(name)] = signal
    return eeg


def _spectrogram_window(regions: tuple[str, ...] = REGIONS, n_rows: int = 300) -> np.ndarray:
    values = np.zeros((n_rows, len(SPECTROGRAM_COLUMNS) - 1), dtype=np.float32)
    for region in regions:
        start = REGIONS.index(region) * 100
        values[:, start : start + 100] = rng.gamma(1.0, 5.0, (n_rows, 100))
    return values


def _spectrogram_table(n_rows: int) -> pa.Table:
    values = _spectrogram_window(n_rows=n_rows).T
    table = pa.table(dict(zip(SPECTROGRAM_COLUMNS[1:], values, strict=True)))
    return table.add_column(0, "time", pa.array(np.arange(1, 2 * n_rows, 2, dtype=np.int64)))


def _sine(hz: float, seconds: tuple[float, float] = (0, 50)) -> np.ndarray:
    t = np.arange(N) / EEG_SAMPLING_HZ
    return np.where((t >= seconds[0]) & (t < seconds[1]), 100 * np.sin(2 * np.pi * hz * t), 0.0)


def test_4hz_sine_on_the_left_lateral_chain_peaks_at_4hz_in_ll_only():
    panels = eeg_spectrogram(_eeg({"T5": _sine(4.0)}), CONFIG)  # T5 sits on the LL chain only
    spectrum = panels.mean(axis=2)
    frequencies = eeg_frequencies(CONFIG)
    ll, rl, rp = (REGIONS.index(r) for r in ("LL", "RL", "RP"))
    assert abs(frequencies[np.argmax(spectrum[ll])] - 4.0) <= 0.4
    at_4hz = np.argmin(np.abs(frequencies - 4.0))
    assert spectrum[ll, at_4hz] - spectrum[rl, at_4hz] > 60  # dB
    assert spectrum[ll, at_4hz] - spectrum[rp, at_4hz] > 60


@pytest.mark.parametrize("config", [CONFIG, kaggle_features()], ids=["64x64", "kaggle"])
def test_a_sine_lands_in_the_image_rows_of_its_frequency(config):
    """In the image itself: the right half's LL panel is brightest in the row standing for
    the sine's frequency, at either image size."""
    height, width = config.panel_shape
    for hz in (4.0, 11.0):
        image = model_input_image(_spectrogram_window(), _eeg({"T5": _sine(hz)}), config)
        ll_from_eeg = image[:height, width:]  # top panel, right half
        brightest = eeg_panel_frequencies(config)[np.argmax(ll_from_eeg.mean(axis=1))]
        row_step = eeg_panel_frequencies(config)[1] - eeg_panel_frequencies(config)[0]
        assert abs(brightest - hz) <= max(row_step, 0.4)


@pytest.mark.parametrize("config", [CONFIG, kaggle_features()], ids=["64x64", "kaggle"])
def test_a_burst_lands_in_the_image_columns_of_its_time(config):
    """An 8 Hz burst from 20 s to 26 s of the 50 s window: bright in the columns whose
    STFT frame (2.56 s) lies inside it, dark in those whose frame does not touch it."""
    height, width = config.panel_shape
    image = model_input_image(_spectrogram_window(), _eeg({"T5": _sine(8.0, (20, 26))}), config)
    columns = image[:height, width:].mean(axis=0)
    times = eeg_panel_times(config)
    assert len(times) == width and times[0] < 1 and times[-1] > 49
    half_frame = config.stft_window_samples / EEG_SAMPLING_HZ / 2
    inside = (times > 20 + half_frame) & (times < 26 - half_frame)
    outside = (times < 20 - half_frame - 1) | (times > 26 + half_frame + 1)
    assert inside.any() and outside.any()
    assert columns[inside].min() > columns[outside].max() + 1.0  # standard deviations


def test_kaggle_images_are_512_square_with_256_frames_per_eeg_panel():
    config = kaggle_features()
    assert (config.image_height, config.image_width) == (512, 512)
    assert config.panel_shape == (128, 256)
    assert eeg_spectrogram(_eeg({"T5": _sine(4.0)}), config).shape == (4, 52, 256)
    image = model_input_image(_spectrogram_window(), _eeg({"T5": _sine(4.0)}), config)
    assert image.shape == (512, 512) and image.dtype == np.float32


def test_left_only_signal_lands_in_the_left_panels():
    eeg = _eeg({c: rng.normal(0, 30, N) for c in LEFT_CHANNELS})
    image = model_input_image(_spectrogram_window(regions=("LL", "LP")), eeg, CONFIG)
    panels = np.split(image, 4, axis=0)  # LL, RL, LP, RP from top to bottom
    for region, panel in zip(REGIONS, panels, strict=True):
        for half in np.split(panel, 2, axis=1):  # given | from EEG
            if region in ("LL", "LP"):
                assert half.std() > 0.2
            else:
                assert np.abs(half).max() < 1e-3


def test_given_half_is_the_normalised_window_zoomed_as_before():
    """The left half keeps its meaning: the clipped, log, standardised 600 s window,
    linearly zoomed to the panel (what scipy.ndimage.zoom computed before)."""
    window = _spectrogram_window()
    window[10:40] = np.nan
    for config in (CONFIG, kaggle_features()):
        normalised = normalise_spectrogram(given_panels(window), config)
        factors = (1, config.panel_shape[0] / 100, config.panel_shape[1] / 300)
        expected = zoom(normalised, factors, order=1, grid_mode=True, mode="nearest")
        image = model_input_image(window, _eeg({"T5": _sine(4.0)}), config)
        left = image[:, : config.panel_shape[1]].reshape(4, *config.panel_shape)
        np.testing.assert_allclose(left, expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(_resize_panels(normalised, config.panel_shape), expected,
                                   rtol=1e-5, atol=1e-5)  # fmt: skip


def test_spectrogram_window_takes_rows_from_offset_to_offset_plus_600():
    table = _spectrogram_table(600)  # times 1, 3, ..., 1199
    table = table.set_column(1, "LL_0.59", table["time"].cast(pa.float32()))
    window = given_panels(spectrogram_window(table, 100.0))
    assert window.shape == (4, 100, 300)
    assert window[0, 0, 0] == 101 and window[0, 0, -1] == 699
    with pytest.raises(WindowError, match="has 250 of 300 frames"):
        spectrogram_window(table, 700.0)


def test_eeg_window_rows_and_bounds():
    eeg = _eeg({"Fp1": np.arange(60 * EEG_SAMPLING_HZ)}, 60)
    table = pa.table(dict(zip(EEG_CHANNELS, eeg.T, strict=True)))
    window = eeg_window(table, 4.0)
    assert window[0, 0] == 4 * EEG_SAMPLING_HZ and len(window) == N
    with pytest.raises(WindowError, match="the file has 12000 rows"):
        eeg_window(table, 12.0)


def test_gaps_are_interpolated_and_empty_channels_zeroed():
    eeg = np.column_stack([[0.0, np.nan, np.nan, 3.0], [np.nan] * 4])
    np.testing.assert_array_equal(fill_gaps(eeg), [[0, 0], [1, 0], [2, 0], [3, 0]])


def test_nan_input_gives_finite_output():
    eeg = rng.normal(0, 30, (N, len(EEG_CHANNELS)))
    eeg[1000:3000, 3] = np.nan
    eeg[:, EEG_CHANNELS.index("O2")] = np.nan
    eeg[500, 7] = 1e6  # a huge artefact is clipped
    spectrogram = _spectrogram_window()
    spectrogram[10:40] = np.nan
    spectrogram[:, 100:200] = np.nan  # a whole region missing
    image = model_input_image(spectrogram, eeg, CONFIG)
    assert image.shape == (64, 64) and np.isfinite(image).all()
    assert np.array_equal(standardise_panels(np.full((1, 2, 2), np.nan)), np.zeros((1, 2, 2)))


def test_image_size_must_tile_four_panels_and_two_halves():
    with pytest.raises(ValueError, match="multiple of 4"):
        FeatureConfig(image_height=66, image_width=64)


@pytest.mark.parametrize(
    ("samples", "window", "hop"), [(10000, 512, 50), (9999, 256, 64), (300, 512, 50)]
)
def test_frames_at_given_centres_equal_scipys_stft(samples, window, hop):
    """On scipy's own frame grid, the frames computed at their centres are its STFT."""
    stft = ShortTimeFFT(hann(window, sym=False), hop=hop, fs=EEG_SAMPLING_HZ, scale_to="psd")
    signal = rng.normal(0, 50, (4, 4, samples))
    expected = stft.spectrogram(signal, axis=-1)
    frames = stft.p_max(samples) - stft.p_min
    power = frame_power(signal, stft.win, stft.p_min * hop, hop, frames, window // 2 + 1)
    np.testing.assert_allclose(power, expected, rtol=1e-9, atol=1e-12 * expected.max())
    np.testing.assert_allclose(_psd_window(window), stft.win, rtol=1e-6)  # the one we use
