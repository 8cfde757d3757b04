"""The classical baseline: features of signals with known answers, and a soft-target
classifier that recovers a known vote-generating model."""

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import skops.io
from kedro.io import DatasetError
from scipy.special import softmax
from sklearn.base import clone
from skops.io.exceptions import UntrustedTypesFoundException

from eeg_hba.catalog.datasets import ClassicalModelDataset
from eeg_hba.evaluation.metrics import kl_divergence
from eeg_hba.hms.layout import CLASSES, EEG_CHANNELS, EEG_SAMPLING_HZ, RIGHT_CHANNELS
from eeg_hba.hms.spectrogram import public_spectrogram_frame
from eeg_hba.hms.windows import eeg_window, spectrogram_window
from eeg_hba.preprocessing.model_inputs import given_panels
from eeg_hba.preprocessing.window_features import (
    BANDS,
    FEATURE_NAMES,
    HEMISPHERE_PAIRS,
    window_features,
)
from eeg_hba.training.classical import CLASSIFIER_KINDS, ClassicalModel, SoftTargetClassifier

from .projects import feature_config

CONFIG = feature_config()  # the project's band-pass and clip

EEG_SAMPLES = 50 * EEG_SAMPLING_HZ
#: Every other electrode along the LL and LP chains: each left bipolar pair then carries
#: the signal (Fp1-F7 = s, F7-T3 = -s, ...) and no right pair does.
ALTERNATE_LEFT = ("Fp1", "T3", "O1", "C3")


def _feature(values: np.ndarray, name: str) -> float:
    return float(values[FEATURE_NAMES.index(name)])


def _eeg(seconds: int, left_signal: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """10 µV white background on every channel, ``left_signal`` on ALTERNATE_LEFT."""
    eeg = np.random.default_rng(seed).normal(0, 10, (seconds * EEG_SAMPLING_HZ, len(EEG_CHANNELS)))
    if left_signal is not None:
        for name in ALTERNATE_LEFT:
            eeg[:, EEG_CHANNELS.index(name)] += left_signal
    return eeg


def _given_spectrogram(eeg: np.ndarray) -> np.ndarray:
    """The 600 s spectrogram window of a 600 s recording, as the public files hold it."""
    table = pa.Table.from_pandas(public_spectrogram_frame(eeg), preserve_index=False)
    return given_panels(spectrogram_window(table, 0.0))


@pytest.fixture(scope="module")
def background() -> np.ndarray:
    spectrogram = np.random.default_rng(1).gamma(1.0, 5.0, (4, 100, 300))
    return window_features(spectrogram, _eeg(50), CONFIG)


# --- features ---------------------------------------------------------------------------


def test_one_value_per_feature_name(background):
    assert background.shape == (len(FEATURE_NAMES),)
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert 30 <= len(FEATURE_NAMES) <= 150


def test_2hz_rhythm_on_the_left_chains_raises_left_delta_and_lateralises():
    seconds = np.arange(600 * EEG_SAMPLING_HZ) / EEG_SAMPLING_HZ
    recording = _eeg(600, 40 * np.sin(2 * np.pi * 2.0 * seconds))
    centre = slice(275 * EEG_SAMPLING_HZ, 325 * EEG_SAMPLING_HZ)
    values = window_features(_given_spectrogram(recording), recording[centre], CONFIG)
    for source in ("spec_centre", "spec_whole", "eeg"):
        for left, right in HEMISPHERE_PAIRS.values():
            # 800 µV² of rhythm against ~40 µV² of delta background: about e^3 more power
            delta_left = _feature(values, f"{source}_{left}_delta")
            assert delta_left - _feature(values, f"{source}_{right}_delta") > 2.5
    for source in ("spec_centre", "eeg"):
        for pair in HEMISPHERE_PAIRS:
            assert _feature(values, f"{source}_{pair}_delta_asymmetry") > 2.5  # left minus right
            assert abs(_feature(values, f"{source}_{pair}_beta_asymmetry")) < 0.3  # noise only
        assert _feature(values, f"{source}_delta_abs_asymmetry") > 2.5
        assert _feature(values, f"{source}_LL_slow_fast_ratio") > _feature(
            values, f"{source}_RL_slow_fast_ratio"
        )
    assert _feature(values, "eeg_LL_dominant_hz") == pytest.approx(2.0, abs=0.25)


def _spike_train_and_sinusoid(rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Narrow (15 ms) Gaussian spikes at ``rate_hz`` and a sinusoid, both of 10 µV rms."""
    seconds = np.arange(EEG_SAMPLES) / EEG_SAMPLING_HZ
    sinusoid = np.sin(2 * np.pi * rate_hz * seconds)
    spikes = sum(
        np.exp(-0.5 * ((seconds - at) / 0.015) ** 2) for at in np.arange(0.3, 50, 1 / rate_hz)
    )
    spikes = (spikes - spikes.mean()) / spikes.std()
    return 10 * spikes, 10 * sinusoid / sinusoid.std()


def test_periodic_spikes_are_sharper_and_more_periodic_than_a_sinusoid_of_equal_power():
    """Over the same background noise: without noise a rectified sinusoid is perfectly
    periodic too, but its rectified swings are small beside the noise's."""
    spikes, sinusoid = _spike_train_and_sinusoid(1.5)
    spectrogram = np.random.default_rng(1).gamma(1.0, 5.0, (4, 100, 300))
    with_spikes = window_features(spectrogram, _eeg(50, spikes), CONFIG)
    with_sinusoid = window_features(spectrogram, _eeg(50, sinusoid), CONFIG)
    for region in ("LL", "LP"):
        for measure, margin in (("periodicity", 0.2), ("sharpness", 3.0), ("kurtosis", 5.0)):
            assert _feature(with_spikes, f"eeg_{region}_{measure}") > margin + _feature(
                with_sinusoid, f"eeg_{region}_{measure}"
            )
        # the spike train recurs at 1.5 Hz; the sinusoid's power peaks at 1.5 Hz
        assert _feature(with_spikes, f"eeg_{region}_periodicity_hz") == pytest.approx(1.5, abs=0.1)
        assert _feature(with_spikes, f"eeg_{region}_discharge_rate_hz") == pytest.approx(
            1.5,
            abs=0.3,  # a few noise peaks stand out too
        )
        assert _feature(with_sinusoid, f"eeg_{region}_dominant_hz") == pytest.approx(1.5, abs=0.25)
        assert _feature(with_sinusoid, f"eeg_{region}_discharge_rate_hz") == 0  # none stands out
    # the spikes' steep flanks travel further per second than the sinusoid
    assert _feature(with_spikes, "eeg_LL_log_line_length") > _feature(
        with_sinusoid, "eeg_LL_log_line_length"
    )


def test_gaps_and_an_empty_channel_give_finite_features_and_spare_the_other_chains(background):
    spectrogram = np.random.default_rng(1).gamma(1.0, 5.0, (4, 100, 300))
    spectrogram[:, :, 140:160] = np.nan  # frames over the labelled centre
    spectrogram[1, 5:9, :] = np.nan
    eeg = _eeg(50)
    eeg[4500:4900, :5] = np.nan  # a stretch inside the labelled 10 s
    eeg[:2000, 7] = np.nan
    eeg[:, EEG_CHANNELS.index("Fp2")] = np.nan  # feeds only the RL and RP chains
    values = window_features(spectrogram, eeg, CONFIG)
    assert np.isfinite(values).all()
    assert _feature(values, "eeg_centre_missing_fraction") > 0
    assert _feature(values, "spec_centre_missing_fraction") == 1.0
    # with its central frames missing, the spectrogram's centre falls back to the whole window
    for region in ("LL", "RP"):
        assert _feature(values, f"spec_centre_{region}_delta") == pytest.approx(
            _feature(values, f"spec_whole_{region}_delta")
        )
    untouched = [n for n in FEATURE_NAMES if n.startswith(("eeg_LL_", "eeg_LP_"))]
    gap_free = _eeg(50)
    gap_free[:, EEG_CHANNELS.index("Fp2")] = np.nan
    spared = window_features(spectrogram, gap_free, CONFIG)
    np.testing.assert_array_equal(
        [_feature(spared, n) for n in untouched], [_feature(background, n) for n in untouched]
    )


def test_a_missing_hemisphere_reads_as_symmetric():
    eeg = _eeg(50, 40 * np.sin(2 * np.pi * 2.0 * np.arange(EEG_SAMPLES) / EEG_SAMPLING_HZ))
    eeg[:, [EEG_CHANNELS.index(c) for c in RIGHT_CHANNELS]] = np.nan
    values = window_features(np.random.default_rng(1).gamma(1.0, 5.0, (4, 100, 300)), eeg, CONFIG)
    for pair in HEMISPHERE_PAIRS:
        for band in BANDS:
            assert _feature(values, f"eeg_{pair}_{band}_asymmetry") == 0
    assert _feature(values, "eeg_RL_periodicity") == _feature(values, "eeg_LL_periodicity")


def test_a_window_without_any_data_gets_neutral_values():
    values = window_features(np.full((4, 100, 300), np.nan), np.full((EEG_SAMPLES, 20), np.nan), CONFIG)
    missing = {"eeg_centre_missing_fraction", "spec_centre_missing_fraction"}
    assert {n for n, v in zip(FEATURE_NAMES, values, strict=True) if v != 0} == missing
    assert all(_feature(values, n) == 1.0 for n in missing)


def test_windows_of_the_wrong_shape_or_with_impossible_values_are_rejected():
    spectrogram, eeg = np.zeros((4, 100, 300)), np.zeros((EEG_SAMPLES, 20))
    with pytest.raises(ValueError, match=r"spectrogram_window must have shape \(4, 100, frames\)"):
        window_features(spectrogram[0], eeg, CONFIG)
    with pytest.raises(ValueError, match="20 channels"):
        window_features(spectrogram, eeg[:, :19], CONFIG)
    eeg[100, 3] = np.inf
    with pytest.raises(ValueError, match="must not contain infinite values"):
        window_features(spectrogram, eeg, CONFIG)
    spectrogram[0, 0, 0] = -1.0
    with pytest.raises(ValueError, match="must not contain negative power"):
        window_features(spectrogram, np.zeros((EEG_SAMPLES, 20)), CONFIG)


def test_window_cutters_feed_window_features():
    """The functions the pipeline calls per row hand over arrays of the expected shapes."""
    recording = _eeg(600)
    eeg_table = pa.Table.from_pandas(pd.DataFrame(recording, columns=list(EEG_CHANNELS)))
    values = window_features(_given_spectrogram(recording), eeg_window(eeg_table, 275.0), CONFIG)
    assert np.isfinite(values).all()


# --- the soft-target classifier ----------------------------------------------------------------


def _soft_targets_from_a_softmax_model(
    n_rows: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, vote distributions (12 multinomial votes each) and the true probabilities."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n_rows, 4))
    true = softmax(features @ rng.normal(0, 1.5, (4, len(CLASSES))) + rng.normal(0, 0.5, 6), axis=1)
    votes = np.array([rng.multinomial(12, p) for p in true])
    return features, votes / votes.sum(axis=1, keepdims=True), true


@pytest.mark.parametrize(
    ("kind", "slack"), [("logistic_regression", 0.03), ("gradient_boosting", 0.06)]
)
def test_recovers_a_known_vote_distribution_and_not_shuffled_votes(kind, slack):
    features, targets, true = _soft_targets_from_a_softmax_model(2400)
    fit, held = slice(0, 1600), slice(1600, None)
    prior = np.tile(targets[fit].mean(axis=0), (800, 1))
    kl_prior = kl_divergence(targets[held], prior)
    kl_true = kl_divergence(targets[held], true[held])
    assert kl_prior - kl_true > 0.6  # the features carry a lot of information

    model = SoftTargetClassifier(kind=kind, seed=0).fit(features[fit], targets[fit])
    kl_model = kl_divergence(targets[held], model.predict_proba(features[held]))
    assert kl_model < kl_true + slack
    assert kl_prior - kl_model > 0.5

    shuffled = np.random.default_rng(1).permutation(targets[fit])
    blind = SoftTargetClassifier(kind=kind, seed=0).fit(features[fit], shuffled)
    assert kl_divergence(targets[held], blind.predict_proba(features[held])) > kl_prior - 0.1


@pytest.mark.parametrize("kind", CLASSIFIER_KINDS)
def test_classes_absent_from_training_keep_their_column(kind):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 2))
    lrda_share = np.where(features[:, 0] > 0, 0.9, 0.1)  # only LRDA and Other get votes
    targets = np.zeros((300, len(CLASSES)))
    targets[:, CLASSES.index("LRDA")] = lrda_share
    targets[:, CLASSES.index("Other")] = 1 - lrda_share
    model = SoftTargetClassifier(kind=kind, seed=0, absent_class_floor=1e-4)
    probabilities = model.fit(features, targets).predict_proba(np.array([[2.0, 0], [-2.0, 0]]))
    assert probabilities.shape == (2, len(CLASSES))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1)
    absent = [CLASSES.index(c) for c in ("Seizure", "LPD", "GPD", "GRDA")]
    np.testing.assert_allclose(probabilities[:, absent], 1e-4 / (1 + 4e-4))
    assert probabilities[0, CLASSES.index("LRDA")] > 0.7  # columns in CLASSES order
    assert probabilities[1, CLASSES.index("Other")] > 0.7
    assert list(model.predict(np.array([[2.0, 0]]))) == ["LRDA"]


@pytest.mark.parametrize("kind", CLASSIFIER_KINDS)
def test_same_seed_same_predictions(kind):
    features, targets, _ = _soft_targets_from_a_softmax_model(400)
    model = SoftTargetClassifier(kind=kind, seed=3, boosting_max_iter=30)
    first = model.fit(features, targets).predict_proba(features)
    second = clone(model).fit(features, targets).predict_proba(features)
    np.testing.assert_array_equal(first, second)


def test_targets_that_are_not_distributions_are_rejected():
    features = np.zeros((3, 2))
    targets = np.full((3, 6), 1 / 6)
    targets[1] = [1, 1, 0, 0, 0, 0]
    with pytest.raises(ValueError, match=r"target rows \[1\] are not probability distributions"):
        SoftTargetClassifier().fit(features, targets)
    with pytest.raises(ValueError, match="kind must be one of"):
        SoftTargetClassifier(kind="svm").fit(features, np.full((3, 6), 1 / 6))


@pytest.mark.parametrize("kind", CLASSIFIER_KINDS)
def test_the_saved_model_predicts_the_mean_of_its_classifiers_as_before(kind, tmp_path):
    features, targets, _ = _soft_targets_from_a_softmax_model(400)
    classifiers = [
        SoftTargetClassifier(kind=kind, seed=seed, boosting_max_iter=30).fit(
            features[seed::2], targets[seed::2]
        )
        for seed in (0, 1)
    ]
    model = ClassicalModel(classifiers)
    mean = (classifiers[0].predict_proba(features) + classifiers[1].predict_proba(features)) / 2
    np.testing.assert_allclose(model.predict_proba(features), mean)
    dataset = ClassicalModelDataset(filepath=str(tmp_path / "classical/model.skops"))
    dataset.save(model)
    assert [p.name for p in (tmp_path / "classical").iterdir()] == ["model.skops"]
    np.testing.assert_array_equal(dataset.load().predict_proba(features), model.predict_proba(features))


def test_a_model_file_holding_an_untrusted_type_is_refused(tmp_path):
    path = tmp_path / "model.skops"
    path.write_bytes(skops.io.dumps(ClassicalModel([os.system])))
    with pytest.raises(DatasetError, match=r"Untrusted types .*posix\.system") as raised:
        ClassicalModelDataset(filepath=str(path)).load()
    assert isinstance(raised.value.__cause__, UntrustedTypesFoundException)
