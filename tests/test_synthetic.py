"""The synthetic HMS data set: class morphology, votes, layout and determinism."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.signal import welch

from eeg_hba.contract import (
    parse_submission_table,
    parse_test_table,
    parse_train_table,
    validate_eeg_frame,
    validate_spectrogram_frame,
)
from eeg_hba.hms import (
    CLASSES,
    EEG_CHANNELS,
    EEG_SAMPLING_HZ,
    EKG_CHANNEL,
    LEFT_CHANNELS,
    RIGHT_CHANNELS,
    VOTE_COLUMNS,
)
from eeg_hba.spectrogram import region_power
from eeg_hba.synthetic import (
    LATENT_COLUMNS,
    Episode,
    SyntheticConfig,
    eeg_file_frame,
    eeg_files,
    episode_signal,
    plan_dataset,
    spectrogram_file_frame,
)

from .conftest import TINY_SYNTHETIC

SMALL = SyntheticConfig(**TINY_SYNTHETIC)
LEFT = [EEG_CHANNELS.index(c) for c in LEFT_CHANNELS]
RIGHT = [EEG_CHANNELS.index(c) for c in RIGHT_CHANNELS]


def _pure_episode(label: str, side: str = "left", eeg_id: int = 11) -> np.ndarray:
    latent = tuple(1.0 if c == label else 0.0 for c in CLASSES)
    episode = Episode(eeg_id, 7, 0, 120, 0, 120, latent, side)
    return episode_signal(episode, seed=3, nan_stretches_per_hour=0.0).astype(np.float64)


def _band_power(signal: np.ndarray, low: float, high: float) -> np.ndarray:
    """Mean power per channel between ``low`` and ``high`` Hz."""
    freqs, psd = welch(signal, fs=EEG_SAMPLING_HZ, nperseg=4 * EEG_SAMPLING_HZ, axis=0)
    band = (freqs >= low) & (freqs <= high)
    return psd[band].mean(axis=0)


def _dominant_rate(signal: np.ndarray) -> float:
    """Frequency (Hz) of the strongest periodicity of a rectified signal, 0.3-5 Hz."""
    freqs, psd = welch(np.abs(signal), fs=EEG_SAMPLING_HZ, nperseg=20 * EEG_SAMPLING_HZ)
    band = (freqs >= 0.3) & (freqs <= 5)
    return float(freqs[band][np.argmax(psd[band])])


@pytest.mark.parametrize("side", ["left", "right"])
def test_lrda_is_rhythmic_delta_on_one_hemisphere(side):
    delta = _band_power(_pure_episode("LRDA", side), 1, 3)
    near, far = (LEFT, RIGHT) if side == "left" else (RIGHT, LEFT)
    assert delta[near].mean() > 5 * delta[far].mean()


def test_grda_is_rhythmic_delta_on_both_hemispheres():
    delta = _band_power(_pure_episode("GRDA"), 1, 3)
    background = _band_power(_pure_episode("Other"), 1, 3)
    assert 0.4 < delta[LEFT].mean() / delta[RIGHT].mean() < 2.5
    assert delta[LEFT].mean() > 5 * background[LEFT].mean()


def test_lpd_is_periodic_around_1hz_on_one_hemisphere():
    signal = _pure_episode("LPD", "right")
    power = _band_power(signal, 0.5, 20)
    assert power[RIGHT].mean() > 5 * power[LEFT].mean()
    assert 0.6 <= _dominant_rate(signal[:, EEG_CHANNELS.index("C4")]) <= 1.7


def test_gpd_is_periodic_on_all_channels():
    signal = _pure_episode("GPD")
    power = _band_power(signal, 0.5, 20)
    assert 0.4 < power[LEFT].mean() / power[RIGHT].mean() < 2.5
    assert 0.6 <= _dominant_rate(signal[:, EEG_CHANNELS.index("Cz")]) <= 1.7


def test_seizure_is_high_amplitude_3_to_8hz():
    seizure = _band_power(_pure_episode("Seizure"), 3, 8)
    background = _band_power(_pure_episode("Other"), 3, 8)
    assert seizure[:19].mean() > 10 * background[:19].mean()


def test_background_is_one_over_f_and_ekg_beats_at_heart_rate():
    signal = _pure_episode("Other")
    assert _band_power(signal, 1, 2)[:19].mean() > 3 * _band_power(signal, 10, 12)[:19].mean()
    ekg = signal[:, EEG_CHANNELS.index(EKG_CHANNEL)]
    ekg = ekg - ekg.mean()
    lags = np.arange(int(0.4 * EEG_SAMPLING_HZ), int(1.5 * EEG_SAMPLING_HZ))
    autocorrelation = [np.dot(ekg[:-lag], ekg[lag:]) for lag in lags]
    beat_seconds = lags[int(np.argmax(autocorrelation))] / EEG_SAMPLING_HZ
    assert 60 / 110 <= beat_seconds <= 60 / 55


def test_votes_are_bimodal_mixtures_with_more_seizures_in_low_vote_rows():
    config = SyntheticConfig(n_patients=200, n_spectrograms=400, n_eegs=2000, n_rows=4000,
                             n_test_patients=2, n_test_eegs=2)  # fmt: skip
    plan = plan_dataset(config)
    experts = plan.train[list(VOTE_COLUMNS)].sum(axis=1)
    assert experts.between(1, 7).any() and experts.between(10, 28).any()
    assert (experts.between(1, 7) | experts.between(10, 28)).all()
    latent = plan.train_latent[list(LATENT_COLUMNS)].to_numpy()
    assert np.allclose(latent.sum(axis=1), 1.0)
    assert (latent.max(axis=1) < 0.999).all()  # mixtures, never a pure class
    dominant = np.asarray(CLASSES)[latent.argmax(axis=1)]
    high = plan.train_latent["high_vote"].to_numpy()
    assert (dominant[~high] == "Seizure").mean() > 2 * (dominant[high] == "Seizure").mean()


def test_counts_are_exact_and_windows_share_centres_inside_their_files():
    plan = plan_dataset(SMALL)
    train = plan.train
    assert len(train) == SMALL.n_rows and train["eeg_id"].nunique() == SMALL.n_eegs
    assert train["spectrogram_id"].nunique() == SMALL.n_spectrograms
    assert train["patient_id"].nunique() == SMALL.n_patients
    assert len(plan.test) == SMALL.n_test_eegs
    assert not set(plan.test["patient_id"]) & set(train["patient_id"])
    episodes = {e.eeg_id: e for r in plan.train_recordings for e in r.episodes}
    durations = {r.spectrogram_id: r.duration_seconds for r in plan.train_recordings}
    for row in train.itertuples():
        episode = episodes[row.eeg_id]
        eeg_centre = episode.eeg_start_seconds + row.eeg_label_offset_seconds + 25
        assert eeg_centre == row.spectrogram_label_offset_seconds + 300
        assert row.eeg_label_offset_seconds + 50 <= episode.eeg_duration_seconds
        assert row.spectrogram_label_offset_seconds >= 0
        assert row.spectrogram_label_offset_seconds + 600 <= durations[row.spectrogram_id]


def test_full_preset_plans_the_public_counts():
    full = SyntheticConfig(n_patients=1950, n_spectrograms=11138, n_eegs=17089, n_rows=106800,
                           n_test_patients=60, n_test_eegs=200)  # fmt: skip
    plan = plan_dataset(full)
    assert len(plan.train) == 106_800
    assert plan.train["eeg_id"].nunique() == 17_089
    assert plan.train["spectrogram_id"].nunique() == 11_138
    assert plan.train["patient_id"].nunique() == 1_950
    assert plan.train["label_id"].is_unique
    files = eeg_files(plan.train_recordings)  # plans of files; no signal is made yet
    assert len(files) == 17_089


def test_generator_is_deterministic_for_a_seed():
    first, second = plan_dataset(SMALL), plan_dataset(SMALL)
    pd.testing.assert_frame_equal(first.train, second.train)
    pd.testing.assert_frame_equal(first.test_latent, second.test_latent)
    recording = first.train_recordings[0]
    pd.testing.assert_frame_equal(
        spectrogram_file_frame(recording, SMALL), spectrogram_file_frame(recording, SMALL)
    )
    other_seed = plan_dataset(replace(SMALL, seed=SMALL.seed + 1))
    assert not first.train["eeg_id"].equals(other_seed.train["eeg_id"])


def test_nan_stretches_and_whole_nan_channels_appear():
    config = replace(SMALL, nan_stretches_per_hour=200.0, nan_channel_probability=1.0)
    plan = plan_dataset(config)
    episode = plan.train_recordings[0].episodes[0]
    frame = eeg_file_frame(episode, config)
    whole = frame.isna().all()
    assert whole.sum() == 1
    assert frame.loc[:, ~whole].isna().to_numpy().any()  # stretches in the other channels


@pytest.mark.slow
def test_kedro_run_writes_the_public_layout(run_pipeline, kedro_project: Path):
    realism = {"nan_channel_probability": 0.0}
    run_pipeline(
        "synthetic", synthetic={"presets": {"default": TINY_SYNTHETIC}, "realism": realism}
    )
    folder = kedro_project / "data/01_raw/synthetic"
    assert sorted(p.name for p in folder.iterdir()) == [
        "sample_submission.csv", "test.csv", "test_eegs", "test_spectrograms",
        "train.csv", "train_eegs", "train_spectrograms",
    ]  # fmt: skip
    read_text = {"dtype": str, "keep_default_na": False}
    train = parse_train_table(pd.read_csv(folder / "train.csv", **read_text), "train.csv")
    test = parse_test_table(pd.read_csv(folder / "test.csv", **read_text), "test.csv")
    parse_submission_table(pd.read_csv(folder / "sample_submission.csv", **read_text))
    latent = pd.read_csv(kedro_project / "data/01_raw/synthetic_truth/train_latent.csv")
    assert latent["label_id"].tolist() == train["label_id"].tolist()
    assert (kedro_project / "data/01_raw/synthetic_truth/manifest.json").exists()

    for row in train.drop_duplicates("eeg_id").itertuples():
        eeg = validate_eeg_frame(
            pd.read_parquet(folder / f"train_eegs/{row.eeg_id}.parquet"), f"{row.eeg_id}.parquet"
        )
        spectrogram = validate_spectrogram_frame(
            pd.read_parquet(folder / f"train_spectrograms/{row.spectrogram_id}.parquet"), "s"
        )
        sub_windows = train[train["eeg_id"] == row.eeg_id]
        assert len(eeg) >= (sub_windows["eeg_label_offset_seconds"].max() + 50) * EEG_SAMPLING_HZ
        for window in sub_windows.itertuples():
            start = window.spectrogram_label_offset_seconds
            rows = spectrogram[(spectrogram["time"] >= start) & (spectrogram["time"] < start + 600)]
            assert len(rows) == 300
        _assert_shared_centre(eeg, spectrogram, row)

    for row in test.itertuples():
        assert (
            len(pd.read_parquet(folder / f"test_eegs/{row.eeg_id}.parquet")) == 50 * EEG_SAMPLING_HZ
        )
        assert (
            len(pd.read_parquet(folder / f"test_spectrograms/{row.spectrogram_id}.parquet")) == 300
        )


def _assert_shared_centre(eeg: pd.DataFrame, spectrogram: pd.DataFrame, row) -> None:
    """The spectrogram frame 1 s after the window centre is computable from the EEG window.

    Recomputing it from the EEG file proves both windows are cut around the same instant.
    """
    begin = int(row.eeg_label_offset_seconds + 23) * EEG_SAMPLING_HZ  # frame t=3 s -> centre + 1 s
    power, times = region_power(eeg.to_numpy()[begin : begin + 10 * EEG_SAMPLING_HZ])
    from_eeg = power[:, :, list(times).index(3.0)].reshape(-1)
    centre = row.spectrogram_label_offset_seconds + 300
    from_file = spectrogram.loc[spectrogram["time"] == centre + 1].iloc[0, 1:].to_numpy()
    np.testing.assert_allclose(from_file, from_eeg, rtol=1e-3, equal_nan=True)
