"""Model-input features on signals with known answers, at the default and the Kaggle size."""

import numpy as np
import pyarrow as pa
import pytest
from scipy.ndimage import zoom
from scipy.signal import ShortTimeFFT
from scipy.signal.windows import hann

from eeg_hba.hms.layout import (
    EEG_CHANNELS,
    EEG_SAMPLING_HZ,
    LEFT_CHANNELS,
    REGIONS,
    RIGHT_CHANNELS,
    SPECTROGRAM_COLUMNS,
    SPECTROGRAM_FREQUENCIES,
)
from eeg_hba.hms.windows import WindowError, eeg_window, spectrogram_window
from eeg_hba.preprocessing.model_inputs import (
    _psd_window,
    _resize_panels,
    central_frames,
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

from .projects import feature_config

#: The ImageNet layout (conf/kaggle: linear rows, each panel standardised) at 64 x 64.
CONFIG = feature_config("kaggle", image_height=64, image_width=64)
N = 50 * EEG_SAMPLING_HZ
rng = np.random.default_rng(0)


#: The layouts: linear rows and per-panel standardisation (64 x 64 and conf/kaggle's
#: 512 x 512), and conf/base's log rows with fixed scaling.
LAYOUTS = [CONFIG, feature_config(), feature_config("kaggle")]
LAYOUT_IDS = ["64x64", "base", "kaggle"]


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


@pytest.mark.parametrize("config", LAYOUTS, ids=LAYOUT_IDS)
def test_a_sine_lands_in_the_image_rows_of_its_frequency(config):
    """In the image itself: the right half's LL panel is brightest in the row standing for
    the sine's frequency, in every layout (on the log scale rows are wider up high)."""
    height, width = config.panel_shape
    rows = eeg_panel_frequencies(config)
    assert len(rows) == height and np.all(np.diff(rows) > 0)  # lowest frequency on top
    for hz in (4.0, 11.0):
        image = model_input_image(_spectrogram_window(), _eeg({"T5": _sine(hz)}), config)
        ll_from_eeg = image[:height, width:]  # top panel, right half
        brightest = int(np.argmax(ll_from_eeg.mean(axis=1)))
        row_step = np.diff(rows)[min(brightest, height - 2)]
        assert abs(rows[brightest] - hz) <= max(row_step, 0.4)


def test_log_rows_give_the_low_band_most_of_the_panel():
    """conf/base's rows: geometric from 0.5 to 12 Hz, so 0.5-5 Hz (rates of discharges and
    rhythms) takes over two thirds of them, where linear rows to 20 Hz gave it a quarter."""
    base, rows = feature_config(), eeg_panel_frequencies(feature_config())
    assert base.frequency_scale == "log" and rows[0] == 0.5 and rows[-1] == pytest.approx(12)
    np.testing.assert_allclose(rows[1:] / rows[:-1], (12 / 0.5) ** (1 / (len(rows) - 1)))
    assert np.mean(rows <= 5) > 2 / 3 and np.mean(eeg_panel_frequencies(CONFIG) <= 5) < 0.3


@pytest.mark.parametrize("config", LAYOUTS, ids=LAYOUT_IDS)
def test_a_burst_lands_in_the_image_columns_of_its_time(config):
    """An 8 Hz burst from 20 s to 30 s of the 50 s window: the 8 Hz row is bright in the
    columns whose STFT frame lies inside it, dark in those whose frame does not touch it."""
    width = config.panel_shape[1]
    image = model_input_image(_spectrogram_window(), _eeg({"T5": _sine(8.0, (20, 30))}), config)
    row = int(np.argmin(np.abs(eeg_panel_frequencies(config) - 8.0)))
    columns = image[row, width:]
    times = eeg_panel_times(config)
    assert len(times) == width and times[0] < 3 and times[-1] > 47
    half_frame = config.stft_window_samples / EEG_SAMPLING_HZ / 2
    inside = (times > 20 + half_frame) & (times < 30 - half_frame)
    outside = (times < 20 - half_frame - 1) | (times > 30 + half_frame + 1)
    assert inside.any() and outside.any()
    # standard deviations (per panel), or half the fixed scale's range
    assert columns[inside].min() > columns[outside].max() + 1.0


def test_kaggle_images_are_512_square_with_256_frames_per_eeg_panel():
    config = feature_config("kaggle")
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
    """With linear rows the left half keeps its meaning: the clipped, log, standardised
    600 s window, linearly zoomed to the panel (what scipy.ndimage.zoom computed before)."""
    window = _spectrogram_window()
    window[10:40] = np.nan
    frequencies = np.asarray(SPECTROGRAM_FREQUENCIES)
    for config in (CONFIG, feature_config("kaggle")):
        normalised = normalise_spectrogram(given_panels(window), config)
        factors = (1, config.panel_shape[0] / 100, config.panel_shape[1] / 300)
        expected = zoom(normalised, factors, order=1, grid_mode=True, mode="nearest")
        image = model_input_image(window, _eeg({"T5": _sine(4.0)}), config)
        left = image[:, : config.panel_shape[1]].reshape(4, *config.panel_shape)
        np.testing.assert_allclose(left, expected, rtol=1e-5, atol=1e-5)
        resized = _resize_panels(normalised, config.panel_shape, frequencies, config)
        np.testing.assert_allclose(resized, expected, rtol=1e-5, atol=1e-5)


def test_given_half_shows_the_central_seconds_on_the_log_rows():
    """conf/base's left half: the central 240 s of the 600 s window (frames 90-209), its
    rows the given bins interpolated at the same log frequencies as the EEG half's."""
    config = feature_config()
    frames = np.broadcast_to(np.arange(300.0), (4, 100, 300))
    shown = central_frames(frames, config)
    assert config.given_seconds == 240 and shown.shape == (4, 100, 120)
    assert shown[0, 0, 0] == 90 and shown[0, 0, -1] == 209
    window = np.ones((300, 400), np.float32)
    lit = np.argmin(np.abs(np.asarray(SPECTROGRAM_FREQUENCIES) - 3.91))  # a bin of each region
    window[:, lit + 100 * np.arange(4)] = 1000.0
    window[:90] = window[210:] = 1e4  # outside the central 240 s: never shown
    left = model_input_image(window, _eeg({"T5": _sine(4.0)}), config)[:, : config.panel_shape[1]]
    panel = left[: config.panel_shape[0]]  # LL
    brightest = eeg_panel_frequencies(config)[np.argmax(panel.mean(axis=1))]
    assert abs(brightest - 3.91) < 0.5
    assert panel.max() < 1.0  # 1e4 would be near the ceiling of the fixed scale


def test_fixed_scaling_keeps_a_lateralised_field_brighter_than_its_other_side():
    """A field three times stronger on the left: with fixed scaling the left panels are
    brighter than the right ones in both halves; per-panel standardisation erases that."""
    eeg = _eeg({**{c: rng.normal(0, 60, N) for c in LEFT_CHANNELS},
                **{c: rng.normal(0, 20, N) for c in RIGHT_CHANNELS}})  # fmt: skip
    given = _spectrogram_window()
    given[:, 100:200] /= 9  # RL
    given[:, 300:400] /= 9  # RP
    for config, brighter in ((feature_config(), True), (CONFIG, False)):
        image = model_input_image(given, eeg, config)
        ll, rl = np.split(image, 4, axis=0)[:2]
        for half in (slice(0, config.panel_shape[1]), slice(config.panel_shape[1], None)):
            difference = ll[:, half].mean() - rl[:, half].mean()
            # the fixed scale's [-1, 1]: 9x the power is ln(9) / 5.5 = 0.4 brighter
            assert (difference > 0.25) if brighter else (abs(difference) < 0.1)


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
        feature_config(image_height=66, image_width=64)


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
