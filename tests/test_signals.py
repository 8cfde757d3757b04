"""The 1-D model's input and network, with known answers: which chain a sine lands in, at
which frequency and amplitude; the left/right swap; the network's start and weights."""

import numpy as np
import pytest
import tensorflow as tf
from scipy.fft import rfft, rfftfreq

from eeg_hba.hms.layout import BIPOLAR_CHAINS, EEG_CHANNELS, EEG_SAMPLING_HZ, REGIONS
from eeg_hba.preprocessing.model_inputs import (
    FeatureConfig,
    filtered_chains,
    model_input_signals,
    model_inputs,
)
from eeg_hba.training.inputs import augment_signals, swap_chains
from eeg_hba.training.models import WeightsUnavailableError, build_network

from .projects import augment_config, feature_config

CONFIG = feature_config("kaggle", image_height=32, image_width=32)  # signals: 20 s at 50 Hz, 100 uV
SAMPLES = CONFIG.signal_seconds * CONFIG.signal_sampling_hz
SEED = tf.constant([3, 4], tf.int64)


def _eeg(channels: dict[str, float], hz: float = 2.0, amplitude_uv: float = 100.0) -> np.ndarray:
    """50 s of the 20 channels: a sine of ``hz`` times each given weight, zero elsewhere."""
    t = np.arange(50 * EEG_SAMPLING_HZ) / EEG_SAMPLING_HZ
    eeg = np.zeros((len(t), len(EEG_CHANNELS)), np.float32)
    for name, weight in channels.items():
        eeg[:, EEG_CHANNELS.index(name)] = weight * amplitude_uv * np.sin(2 * np.pi * hz * t)
    return eeg


def _signals(eeg: np.ndarray, config: FeatureConfig = CONFIG) -> np.ndarray:
    return model_input_signals(filtered_chains(eeg, config), config)


def _amplitudes(signals: np.ndarray) -> dict[str, float]:
    """Each chain's amplitude away from the window's edges (where the filter rings)."""
    middle = signals[len(signals) // 4 : -len(signals) // 4]
    return dict(zip(BIPOLAR_CHAINS, np.abs(middle).max(axis=0), strict=True))


def test_a_2hz_sine_on_f7_appears_only_in_the_chains_through_f7_at_2hz():
    """F7 is the cathode of Fp1-F7 and the anode of F7-T3: the sine appears in those two
    with opposite signs and nowhere else. (No sine on Fp1 and F7 can appear in Fp1-F7
    alone: Fp1 also leads Fp1-F3, and F7 also leads F7-T3.)"""
    signals = _signals(_eeg({"F7": 1.0}))
    assert signals.shape == (SAMPLES, 16)
    amplitudes = _amplitudes(signals)
    assert amplitudes["Fp1-F7"] == pytest.approx(1.0, abs=0.05)  # 100 uV in units of 100 uV
    assert amplitudes["F7-T3"] == pytest.approx(1.0, abs=0.05)
    elsewhere = {c: a for c, a in amplitudes.items() if c not in ("Fp1-F7", "F7-T3")}
    assert max(elsewhere.values()) < 1e-6, elsewhere
    fp1_f7, f7_t3 = (signals[:, BIPOLAR_CHAINS.index(c)] for c in ("Fp1-F7", "F7-T3"))
    np.testing.assert_allclose(fp1_f7, -f7_t3, atol=1e-5)
    spectrum = np.abs(rfft(fp1_f7))
    frequencies = rfftfreq(SAMPLES, 1 / CONFIG.signal_sampling_hz)
    assert frequencies[np.argmax(spectrum)] == pytest.approx(2.0)


def test_a_sine_on_fp1_and_f3_alike_leaves_fp1_f3_flat():
    """What a bipolar chain is: the difference of its electrodes. The same sine on Fp1 and
    F3 cancels in Fp1-F3 and shows in the other chains through them (Fp1-F7, F3-C3)."""
    amplitudes = _amplitudes(_signals(_eeg({"Fp1": 1.0, "F3": 1.0})))
    assert amplitudes["Fp1-F3"] < 1e-6
    assert {c for c, a in amplitudes.items() if a > 0.5} == {"Fp1-F7", "F3-C3"}


def test_signals_are_the_central_seconds_band_passed_and_clipped_on_one_fixed_scale():
    slow_and_large = _signals(_eeg({"T3": 1.0}, hz=0.1, amplitude_uv=5000.0))
    assert np.abs(slow_and_large).max() <= CONFIG.clip_uv / CONFIG.signal_scale_uv
    # 0.1 Hz is below the 0.5 Hz band edge: what is left is small next to the clip
    assert np.abs(slow_and_large[SAMPLES // 4 : -SAMPLES // 4]).max() < 3.0
    quiet, loud = (_signals(_eeg({"T3": 1.0}, amplitude_uv=a)) for a in (10.0, 100.0))
    np.testing.assert_allclose(loud, 10 * quiet, atol=1e-4)  # no per-window standardising
    # the central 20 s: a burst in the first 10 s of the 50 s window is not in them
    burst = _eeg({"T3": 1.0})
    burst[10 * EEG_SAMPLING_HZ :] = 0
    assert np.abs(_signals(burst)).max() < 1e-3


def test_model_inputs_make_the_image_and_the_signals_of_one_window():
    window = np.zeros((300, 400), np.float32)
    inputs = model_inputs(window, _eeg({"F7": 1.0}), CONFIG)
    assert inputs["images"].shape == (32, 32) and inputs["signals"].shape == (SAMPLES, 16)
    np.testing.assert_array_equal(inputs["signals"], _signals(_eeg({"F7": 1.0})))


def test_signal_knobs_are_checked():
    with pytest.raises(ValueError, match="signal_sampling_hz"):
        feature_config(signal_sampling_hz=30)  # 30 does not divide 200
    with pytest.raises(ValueError, match="signal_sampling_hz"):
        feature_config(signal_sampling_hz=25)  # below twice the 20 Hz band edge


def test_the_left_right_swap_maps_ll_to_rl_chain_by_chain():
    signals = tf.constant(np.tile(np.arange(16, dtype=np.float32), (SAMPLES, 1)))
    swapped = swap_chains(signals).numpy()[0]
    mirrored = {c: BIPOLAR_CHAINS[int(i)] for c, i in zip(BIPOLAR_CHAINS, swapped, strict=True)}
    assert mirrored["Fp1-F7"] == "Fp2-F8" and mirrored["T5-O1"] == "T6-O2"  # LL <- RL
    assert mirrored["Fp2-F8"] == "Fp1-F7"  # RL <- LL
    assert mirrored["Fp1-F3"] == "Fp2-F4" and mirrored["P4-O2"] == "P3-O1"  # LP <-> RP
    assert REGIONS == ("LL", "RL", "LP", "RP")


def test_signal_augmentations_follow_the_seed_and_each_does_what_it_says():
    signals = tf.constant(np.random.default_rng(0).normal(size=(SAMPLES, 16)).astype("f4"))
    everything = augment_config(hemisphere_swap=0.5, time_shift=0.5, chain_dropout=0.3, amplitude_scale=0.5)
    first, again = (augment_signals(signals, everything, SEED).numpy() for _ in range(2))
    np.testing.assert_array_equal(first, again)
    off = augment_config(hemisphere_swap=0, time_shift=0, chain_dropout=0, amplitude_scale=0)
    np.testing.assert_array_equal(augment_signals(signals, off, SEED).numpy(), signals.numpy())
    dropped = [
        augment_signals(signals, augment_config(hemisphere_swap=0, time_shift=0, chain_dropout=0.5, amplitude_scale=0),
                        tf.constant([s, 1], tf.int64)).numpy()
        for s in range(20)
    ]  # fmt: skip
    for window in dropped:  # whole chains zeroed, the others untouched
        zeroed = np.all(window == 0, axis=0)
        np.testing.assert_array_equal(window[:, ~zeroed], signals.numpy()[:, ~zeroed])
    assert 0.3 < np.mean([np.all(w == 0, axis=0).mean() for w in dropped]) < 0.7
    gains = [
        float(np.linalg.norm(augment_signals(signals, augment_config(hemisphere_swap=0, time_shift=0, chain_dropout=0, amplitude_scale=1.0), tf.constant([s, 2], tf.int64)).numpy())
              / np.linalg.norm(signals.numpy()))
        for s in range(20)
    ]  # fmt: skip
    assert all(1 / 1.25 - 1e-6 <= g <= 1.25 + 1e-6 for g in gains) and np.std(gains) > 0.02


def test_the_signal_network_starts_uniform_and_takes_no_imagenet_weights(tmp_path):
    model = build_network("resnet1d_raw_eeg", (SAMPLES, 16), None, 0.2, 0.9)
    assert model.inputs[0].name == "signals" and model.input_shape == (None, SAMPLES, 16)
    batch = np.random.default_rng(0).normal(size=(3, SAMPLES, 16)).astype("f4")
    np.testing.assert_allclose(model.predict(batch, verbose=0), 1 / 6, atol=1e-6)
    with pytest.raises(WeightsUnavailableError, match="no ImageNet weights"):
        build_network("resnet1d_raw_eeg", (SAMPLES, 16), "imagenet", 0.2)
    model.get_layer("classes").set_weights(
        [np.random.default_rng(1).normal(size=w.shape) for w in model.get_layer("classes").weights]
    )
    path = tmp_path / "resnet1d.weights.h5"
    model.save_weights(path)
    loaded = build_network("resnet1d_raw_eeg", (SAMPLES, 16), str(path), 0.2, 0.9)
    np.testing.assert_allclose(
        loaded.predict(batch, verbose=0), model.predict(batch, verbose=0), atol=1e-6
    )
