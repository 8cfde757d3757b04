"""Region spectrograms built like the public ones, checked on signals with known answers."""

import numpy as np

from eeg_hba.hms.layout import EEG_CHANNELS, EEG_SAMPLING_HZ, REGIONS, SPECTROGRAM_FREQUENCIES
from eeg_hba.hms.spectrogram import bipolar_signals, public_spectrogram_frame, region_power

SECONDS = 60


def _eeg_with(channels: dict[str, np.ndarray]) -> np.ndarray:
    eeg = np.zeros((SECONDS * EEG_SAMPLING_HZ, len(EEG_CHANNELS)))
    for name, signal in channels.items():
        eeg[:, EEG_CHANNELS.index(name)] = signal
    return eeg


def _sine(hz: float) -> np.ndarray:
    return 50 * np.sin(2 * np.pi * hz * np.arange(SECONDS * EEG_SAMPLING_HZ) / EEG_SAMPLING_HZ)


def test_bipolar_montage_differences():
    eeg = _eeg_with({"Fp1": np.ones(SECONDS * EEG_SAMPLING_HZ)})
    chains = bipolar_signals(eeg)
    assert chains.shape == (4, 4, SECONDS * EEG_SAMPLING_HZ)
    ll, lp = REGIONS.index("LL"), REGIONS.index("LP")
    assert np.all(chains[ll, 0] == 1) and np.all(chains[lp, 0] == 1)  # Fp1-F7, Fp1-F3
    assert np.all(chains[ll, 1:] == 0) and np.all(chains[REGIONS.index("RL")] == 0)


def test_4hz_sine_on_the_left_lateral_chain_peaks_at_4hz_in_ll_only():
    power, times = region_power(_eeg_with({"T3": _sine(4.0)}))  # T3 is only on LL
    assert np.allclose(times, np.arange(1, SECONDS, 2))
    spectrum = power[:, :, 5:-5].mean(axis=2)  # frames away from the edges
    peak = SPECTROGRAM_FREQUENCIES[int(np.argmax(spectrum[REGIONS.index("LL")]))]
    assert abs(peak - 4.0) < 0.2
    ll = spectrum[REGIONS.index("LL")].max()
    for other in ("RL", "LP", "RP"):
        assert spectrum[REGIONS.index(other)].max() < 1e-6 * ll


def test_frames_are_centred_on_odd_seconds():
    impulse = np.zeros(SECONDS * EEG_SAMPLING_HZ)
    impulse[21 * EEG_SAMPLING_HZ] = 1000.0  # at t = 21 s
    power, times = region_power(_eeg_with({"Fp2": impulse}))
    assert times[int(np.argmax(power[REGIONS.index("RL")].sum(axis=0)))] == 21.0


def test_public_layout_and_nan_frames():
    signal = _sine(7.0)
    signal[30 * EEG_SAMPLING_HZ : 31 * EEG_SAMPLING_HZ] = np.nan
    frame = public_spectrogram_frame(_eeg_with({"F7": signal}))
    assert frame["time"].dtype == "int64" and frame["time"].tolist()[:3] == [1, 3, 5]
    assert len(frame) == SECONDS // 2 and frame.shape[1] == 401
    assert frame.iloc[:, 1:].dtypes.unique().tolist() == [np.float32]
    nan_rows = frame.loc[frame["LL_0.59"].isna(), "time"].tolist()
    assert nan_rows and all(25 <= t <= 35 for t in nan_rows)  # only frames touching 30-31 s
    assert frame["RL_0.59"].notna().all()  # F7 is not on the right chains
