"""A synthetic HMS data set: realistic enough to learn from, exactly the public layout.

How it is made (all deterministic for a seed):
- Each patient has one or more recordings (one spectrogram file each). A recording is a
  run of *episodes*, one per EEG file; an episode has a latent class distribution (a
  mixture, not only pure classes) and EEG whose morphology is the mixture of the class
  patterns weighted by that distribution, over 1/f background, an EKG channel with
  heartbeats, and NaN stretches.
- Each EEG file is a >= 50 s cut of its episode with several labelled sub-windows; the
  matching 600 s spectrogram windows share their centres and lie inside the recording.
- Spectrogram files are computed from the same EEG as the public ones are
  (``eeg_hba.spectrogram``), so they carry NaN where the EEG does.
- Votes are multinomial draws from the latent distribution with the bimodal expert
  counts of the real data (1-7 or 10-28); low-vote episodes have more seizures.
- Episodes are synthesised independently (seeded by their EEG id), so files are written
  one at a time with memory that does not grow with the size of the data set.
"""

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

import numpy as np
import pandas as pd

from eeg_hba.hms import (
    CLASSES,
    EEG_CHANNELS,
    EEG_SAMPLING_HZ,
    EEG_WINDOW_SECONDS,
    EKG_CHANNEL,
    LEFT_CHANNELS,
    MIDLINE_CHANNELS,
    RIGHT_CHANNELS,
    SPECTROGRAM_WINDOW_SECONDS,
    TEST_COLUMNS,
    TRAIN_COLUMNS,
    VOTE_COLUMNS,
)
from eeg_hba.spectrogram import public_spectrogram_frame

HALF_WINDOW = SPECTROGRAM_WINDOW_SECONDS // 2
EEG_HALF_WINDOW = EEG_WINDOW_SECONDS // 2
LATENT_COLUMNS: tuple[str, ...] = tuple(c.replace("_vote", "_latent") for c in VOTE_COLUMNS)
SIDES = ("left", "right")
_N_EEG = len(EEG_CHANNELS) - 1  # the 19 scalp channels; the last column is the EKG
_LEFT = [EEG_CHANNELS.index(c) for c in LEFT_CHANNELS]
_RIGHT = [EEG_CHANNELS.index(c) for c in RIGHT_CHANNELS]
_MIDLINE = [EEG_CHANNELS.index(c) for c in MIDLINE_CHANNELS]
_EKG = EEG_CHANNELS.index(EKG_CHANNEL)


@dataclass(frozen=True)
class SyntheticConfig:
    """Size and realism knobs; ``from_params`` reads ``parameters_synthetic.yml``."""

    seed: int = 42
    n_patients: int = 40
    n_spectrograms: int = 60
    n_eegs: int = 120
    n_rows: int = 600
    n_test_patients: int = 8
    n_test_eegs: int = 16
    high_vote_fraction: float = 0.4
    low_vote_range: tuple[int, int] = (1, 7)
    high_vote_range: tuple[int, int] = (10, 28)
    low_vote_class_prior: tuple[float, ...] = (0.40, 0.12, 0.10, 0.08, 0.10, 0.20)
    high_vote_class_prior: tuple[float, ...] = (0.10, 0.17, 0.17, 0.13, 0.18, 0.25)
    max_sub_window_step_seconds: int = 6
    repeat_votes_probability: float = 0.8
    nan_stretches_per_hour: float = 6.0
    nan_channel_probability: float = 0.03

    @classmethod
    def from_params(cls, params: dict) -> "SyntheticConfig":
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        return cls(**values)

    def __post_init__(self) -> None:
        counts = (self.n_patients, self.n_spectrograms, self.n_eegs, self.n_rows)
        if not all(a <= b for a, b in pairwise(counts)) or self.n_patients < 1:
            raise ValueError(
                "synthetic sizes must satisfy 1 <= n_patients <= n_spectrograms <= n_eegs"
                f" <= n_rows, got {counts}"
            )
        if self.n_test_eegs and self.n_test_patients < 1:
            raise ValueError("test EEGs need at least one test patient (n_test_patients >= 1)")
        for prior in (self.low_vote_class_prior, self.high_vote_class_prior):
            if len(prior) != len(CLASSES) or not np.isclose(sum(prior), 1.0):
                raise ValueError(f"a class prior needs {len(CLASSES)} values summing to 1: {prior}")


@dataclass(frozen=True)
class Episode:
    """One EEG file's stretch of a recording and the truth behind its labels."""

    eeg_id: int
    patient_id: int
    start_seconds: int  # where the episode starts in its recording
    duration_seconds: int
    eeg_start_seconds: int  # where the EEG file is cut, relative to the recording
    eeg_duration_seconds: int
    latent: tuple[float, ...]
    side: str  # hemisphere of lateralised patterns


@dataclass(frozen=True)
class Recording:
    """One spectrogram file: consecutive episodes of one patient."""

    spectrogram_id: int
    patient_id: int
    episodes: tuple[Episode, ...]

    @property
    def duration_seconds(self) -> int:
        return sum(e.duration_seconds for e in self.episodes)


@dataclass
class SyntheticPlan:
    """Everything decided before any signal is made: tables and the file plans."""

    config: SyntheticConfig
    train: pd.DataFrame
    test: pd.DataFrame
    train_latent: pd.DataFrame
    test_latent: pd.DataFrame
    train_recordings: list[Recording] = field(default_factory=list)
    test_recordings: list[Recording] = field(default_factory=list)


def _unique_ids(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """``n`` distinct integers in [low, high), drawn without materialising the range."""
    chosen: set[int] = set()
    while len(chosen) < n:
        chosen.update(int(v) for v in rng.integers(low, high, size=n - len(chosen)))
    return rng.permutation(np.fromiter(sorted(chosen), dtype=np.int64, count=n))


def _split_counts(rng: np.random.Generator, total: int, parts: int) -> np.ndarray:
    """``total`` items spread over ``parts`` groups, each group getting at least one."""
    return 1 + rng.multinomial(total - parts, np.full(parts, 1.0 / parts))


def _latent_distribution(rng: np.random.Generator, dominant: int) -> np.ndarray:
    """A mixture led by ``dominant``: experts disagree, so targets are rarely one-hot."""
    purity = rng.uniform(0.5, 0.95)
    rest = rng.dirichlet(np.full(len(CLASSES), 0.6))
    latent = (1 - purity) * rest
    latent[dominant] += purity
    return latent / latent.sum()


def _episode_votes(
    rng: np.random.Generator,
    config: SyntheticConfig,
    latent: np.ndarray,
    n_windows: int,
    high: bool,
) -> np.ndarray:
    """Votes per sub-window: mostly the same panel repeated, sometimes a fresh draw."""
    low_high = config.high_vote_range if high else config.low_vote_range
    votes = np.empty((n_windows, len(CLASSES)), dtype=np.int64)
    for w in range(n_windows):
        if w > 0 and rng.random() < config.repeat_votes_probability:
            votes[w] = votes[w - 1]
        else:
            votes[w] = rng.multinomial(rng.integers(low_high[0], low_high[1] + 1), latent)
    return votes


def _plan_episode(
    rng: np.random.Generator,
    config: SyntheticConfig,
    ids: tuple[int, int, int],
    start: int,
    label_ids: np.ndarray,
) -> tuple[Episode, list[tuple], list[tuple]]:
    """One EEG file's episode starting ``start`` s into its recording, with its label rows.

    ``ids`` is (eeg_id, spectrogram_id, patient_id); one row per entry of ``label_ids``.
    """
    eeg_id, spectrogram_id, patient = ids
    n_windows = len(label_ids)
    steps = rng.integers(1, config.max_sub_window_step_seconds // 2 + 1, n_windows - 1) * 2
    offsets = np.concatenate([[0], np.cumsum(steps)]).astype(np.int64)
    lead = 2 * int(rng.integers(0, 31))  # 0-60 s of context before the first window
    first_centre = start + lead + HALF_WINDOW
    high = bool(rng.random() < config.high_vote_fraction)
    prior = config.high_vote_class_prior if high else config.low_vote_class_prior
    latent = _latent_distribution(rng, int(rng.choice(len(CLASSES), p=prior)))
    side = SIDES[int(rng.integers(0, 2))]
    votes = _episode_votes(rng, config, latent, n_windows, high)
    episode = Episode(
        eeg_id=eeg_id,
        patient_id=patient,
        start_seconds=start,
        duration_seconds=lead + SPECTROGRAM_WINDOW_SECONDS + int(offsets[-1]),
        eeg_start_seconds=first_centre - EEG_HALF_WINDOW,
        eeg_duration_seconds=EEG_WINDOW_SECONDS + int(offsets[-1]),
        latent=tuple(latent),
        side=side,
    )
    rows = [
        (
            eeg_id, w, float(offsets[w]), spectrogram_id, w,
            float(first_centre + offsets[w] - HALF_WINDOW), int(label_ids[w]), patient,
            CLASSES[int(np.argmax(votes[w]))], *votes[w],
        )
        for w in range(n_windows)
    ]  # fmt: skip
    latent_rows = [(int(label), eeg_id, *latent, side, high) for label in label_ids]
    return episode, rows, latent_rows


def _plan_train(
    rng: np.random.Generator,
    config: SyntheticConfig,
    patients: np.ndarray,
    spectrogram_ids: np.ndarray,
    eeg_ids: np.ndarray,
) -> tuple[list[Recording], pd.DataFrame, pd.DataFrame]:
    """Recordings of consecutive episodes, and train.csv with its latent sidecar."""
    label_ids = _unique_ids(rng, config.n_rows, 10**6, 2**31)
    per_patient = _split_counts(rng, config.n_spectrograms, config.n_patients)
    per_recording = _split_counts(rng, config.n_eegs, config.n_spectrograms)
    per_eeg = _split_counts(rng, config.n_rows, config.n_eegs)
    eeg_first_row = np.concatenate([[0], np.cumsum(per_eeg)])
    recording_patient = np.repeat(patients, per_patient)
    rows: list[tuple] = []
    latent_rows: list[tuple] = []
    recordings: list[Recording] = []
    eeg = 0
    for r, n_episodes in enumerate(per_recording):
        ids = (int(spectrogram_ids[r]), int(recording_patient[r]))
        episodes: list[Episode] = []
        start = 0
        for e in range(eeg, eeg + n_episodes):
            episode, episode_rows, episode_latent = _plan_episode(
                rng, config, (int(eeg_ids[e]), *ids), start,
                label_ids[eeg_first_row[e] : eeg_first_row[e + 1]],
            )  # fmt: skip
            episodes.append(episode)
            start += episode.duration_seconds
            rows += episode_rows
            latent_rows += episode_latent
        eeg += n_episodes
        recordings.append(Recording(*ids, tuple(episodes)))
    train = pd.DataFrame(rows, columns=list(TRAIN_COLUMNS))
    latent = pd.DataFrame(
        latent_rows, columns=["label_id", "eeg_id", *LATENT_COLUMNS, "side", "high_vote"]
    )
    return recordings, train, latent


def _plan_test(
    rng: np.random.Generator,
    config: SyntheticConfig,
    patients: np.ndarray,
    spectrogram_ids: np.ndarray,
    eeg_ids: np.ndarray,
) -> tuple[list[Recording], pd.DataFrame, pd.DataFrame]:
    """Test items as published: a 600 s recording each, its 50 s EEG cut at the centre."""
    recordings, rows, latent_rows = [], [], []
    for t in range(config.n_test_eegs):
        eeg_id, spectrogram_id = int(eeg_ids[t]), int(spectrogram_ids[t])
        patient = int(patients[t % len(patients)])
        prior = config.high_vote_class_prior  # the hidden test set is mostly high-vote
        latent = _latent_distribution(rng, int(rng.choice(len(CLASSES), p=prior)))
        side = SIDES[int(rng.integers(0, 2))]
        episode = Episode(
            eeg_id=eeg_id,
            patient_id=patient,
            start_seconds=0,
            duration_seconds=SPECTROGRAM_WINDOW_SECONDS,
            eeg_start_seconds=HALF_WINDOW - EEG_HALF_WINDOW,
            eeg_duration_seconds=EEG_WINDOW_SECONDS,
            latent=tuple(latent),
            side=side,
        )
        recordings.append(Recording(spectrogram_id, patient, (episode,)))
        rows.append((spectrogram_id, eeg_id, patient))
        latent_rows.append((eeg_id, *latent, side))
    test = pd.DataFrame(rows, columns=list(TEST_COLUMNS)).astype("int64")
    return recordings, test, pd.DataFrame(latent_rows, columns=["eeg_id", *LATENT_COLUMNS, "side"])


def plan_dataset(config: SyntheticConfig) -> SyntheticPlan:
    """Decide ids, layout, latent distributions and votes; no signal is made here."""
    rng = np.random.default_rng(config.seed)
    patients = _unique_ids(rng, config.n_patients + config.n_test_patients, 10_000, 100_000)
    spectrogram_ids = _unique_ids(rng, config.n_spectrograms + config.n_test_eegs, 10**6, 2**31)
    eeg_ids = _unique_ids(rng, config.n_eegs + config.n_test_eegs, 10**6, 2**31)
    n_train_patients, n_spectrograms, n_eegs = (
        config.n_patients,
        config.n_spectrograms,
        config.n_eegs,
    )
    train_recordings, train, train_latent = _plan_train(
        rng, config, patients[:n_train_patients], spectrogram_ids[:n_spectrograms], eeg_ids[:n_eegs]
    )
    test_recordings, test, test_latent = _plan_test(
        rng, config, patients[n_train_patients:], spectrogram_ids[n_spectrograms:], eeg_ids[n_eegs:]
    )
    return SyntheticPlan(
        config, train, test, train_latent, test_latent, train_recordings, test_recordings
    )


# --- signals -----------------------------------------------------------------------


def _pink_noise(rng: np.random.Generator, n: int, channels: int) -> np.ndarray:
    """1/f noise with unit standard deviation per channel, shaped in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal((channels, n)), axis=1)
    freqs = np.fft.rfftfreq(n, 1 / EEG_SAMPLING_HZ)
    spectrum *= 1 / np.sqrt(np.maximum(freqs, 0.5))
    noise = np.fft.irfft(spectrum, n=n, axis=1).T
    return noise / noise.std(axis=0, keepdims=True)


def _discharge_train(t: np.ndarray, rate_hz: float, rng: np.random.Generator) -> np.ndarray:
    """Periodic sharp discharges: a biphasic spike (~70 ms) and a slow after-wave."""
    times = np.arange(rng.uniform(0, 1 / rate_hz), t[-1] + 1, 1 / rate_hz)
    times = times + rng.normal(0, 0.03 / rate_hz, times.size)
    out = np.zeros_like(t)
    for centre in times:
        lo, hi = np.searchsorted(t, [centre - 0.3, centre + 0.5])
        d = t[lo:hi] - centre
        spike = -(d / 0.025) * np.exp(-0.5 * (d / 0.025) ** 2)
        after_wave = -0.4 * np.exp(-0.5 * ((d - 0.18) / 0.08) ** 2)
        out[lo:hi] += spike + after_wave
    return out / max(np.abs(out).max(), 1e-9)


def _class_waveform(label: str, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unit-amplitude waveform of one pattern over times ``t`` (seconds)."""
    if label == "Seizure":  # evolving 3-8 Hz rhythm with spike-and-wave morphology
        f0, f1 = rng.uniform(3, 5), rng.uniform(5, 8)
        if rng.random() < 0.5:
            f0, f1 = f1, f0
        freq = f0 + (f1 - f0) * t / max(t[-1], 1e-9)
        phase = 2 * np.pi * np.cumsum(freq) / EEG_SAMPLING_HZ
        spikes = (1 + np.cos(phase)) ** 4 / 16
        return np.sin(phase) + 1.5 * (spikes - spikes.mean())
    if label in ("LPD", "GPD"):  # periodic discharges around 1 Hz
        return _discharge_train(t, rng.uniform(0.7, 1.6), rng)
    if label in ("LRDA", "GRDA"):  # rhythmic delta, 1-3 Hz, slightly sharpened
        phase = 2 * np.pi * rng.uniform(1.0, 3.0) * t + rng.uniform(0, 2 * np.pi)
        return np.sin(phase) + 0.25 * np.sin(2 * phase)
    raise ValueError(f"no waveform for class {label!r}")


_AMPLITUDE_UV = {"Seizure": 140.0, "LPD": 150.0, "GPD": 150.0, "LRDA": 110.0, "GRDA": 110.0}
_LATERALISED = {"LPD", "LRDA"}


def _spatial_gain(label: str, side: str, rng: np.random.Generator) -> np.ndarray:
    """Per-channel gain: one hemisphere for LPD/LRDA, all channels otherwise.

    Gains vary across electrodes so that bipolar differences keep the pattern.
    """
    gain = rng.uniform(0.35, 1.2, _N_EEG)
    if label in _LATERALISED:
        near, far = (_LEFT, _RIGHT) if side == "left" else (_RIGHT, _LEFT)
        gain[far] *= 0.08
        gain[_MIDLINE] *= 0.3
        gain[near] *= 1.0
    return gain


def _ekg(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Heartbeats: QRS spikes and T waves at 55-110 beats per minute."""
    beat = 60.0 / rng.uniform(55, 110)
    out = np.zeros_like(t)
    for centre in np.arange(rng.uniform(0, beat), t[-1] + 1, beat):
        lo, hi = np.searchsorted(t, [centre - 0.1, centre + 0.45])
        d = t[lo:hi] - centre
        out[lo:hi] += np.exp(-0.5 * (d / 0.012) ** 2) + 0.25 * np.exp(
            -0.5 * ((d - 0.28) / 0.05) ** 2
        )
    return out


@lru_cache(maxsize=4)
def episode_signal(episode: Episode, seed: int, nan_stretches_per_hour: float) -> np.ndarray:
    """The whole episode as (samples, 20 channels) float32 microvolts, NaN stretches included."""
    patient_rng = np.random.default_rng([seed, episode.patient_id])
    background_uv = patient_rng.uniform(12, 35)
    ekg_uv = patient_rng.uniform(300, 900)
    rng = np.random.default_rng([seed, episode.eeg_id])
    n = episode.duration_seconds * EEG_SAMPLING_HZ
    t = np.arange(n) / EEG_SAMPLING_HZ

    common = _pink_noise(rng, n, 1)
    eeg = background_uv * (0.6 * _pink_noise(rng, n, _N_EEG) + 0.4 * common)
    eeg += patient_rng.uniform(0.5, 1.5) * rng.standard_normal((n, _N_EEG))  # sensor noise
    for label, weight in zip(CLASSES, episode.latent, strict=True):
        if label == "Other" or weight < 0.02:
            continue
        wave = _class_waveform(label, t, rng) * _AMPLITUDE_UV[label] * weight
        gain = _spatial_gain(label, episode.side, rng)
        eeg += wave[:, None] * gain[None, :]

    heart = ekg_uv * _ekg(t, rng)
    signal = np.empty((n, len(EEG_CHANNELS)), dtype=np.float32)
    signal[:, :_N_EEG] = eeg + 0.02 * heart[:, None]  # a little EKG artefact on the scalp
    signal[:, _EKG] = heart + 10 * rng.standard_normal(n)

    n_stretches = rng.poisson(nan_stretches_per_hour * episode.duration_seconds / 3600)
    for _ in range(n_stretches):
        length = int(rng.uniform(0.5, 8.0) * EEG_SAMPLING_HZ)
        begin = int(rng.integers(0, max(n - length, 1)))
        channels = rng.choice(len(EEG_CHANNELS), size=int(rng.integers(1, 21)), replace=False)
        signal[begin : begin + length, channels] = np.nan
    return signal


def recording_signal(recording: Recording, config: SyntheticConfig) -> np.ndarray:
    """A whole recording: its episodes one after another."""
    return np.concatenate(
        [episode_signal(e, config.seed, config.nan_stretches_per_hour) for e in recording.episodes]
    )


def eeg_file_frame(episode: Episode, config: SyntheticConfig) -> pd.DataFrame:
    """The EEG parquet of one episode: its cut, sometimes with one channel all NaN."""
    signal = episode_signal(episode, config.seed, config.nan_stretches_per_hour)
    begin = (episode.eeg_start_seconds - episode.start_seconds) * EEG_SAMPLING_HZ
    cut = signal[begin : begin + episode.eeg_duration_seconds * EEG_SAMPLING_HZ].copy()
    rng = np.random.default_rng([config.seed, episode.eeg_id, 1])
    if rng.random() < config.nan_channel_probability:
        cut[:, int(rng.integers(0, len(EEG_CHANNELS)))] = np.nan
    return pd.DataFrame(cut, columns=list(EEG_CHANNELS))


def spectrogram_file_frame(recording: Recording, config: SyntheticConfig) -> pd.DataFrame:
    """The spectrogram parquet of one recording, computed from its EEG."""
    return public_spectrogram_frame(recording_signal(recording, config))


def eeg_files(recordings: list[Recording]) -> dict[str, Episode]:
    """``{eeg_id: episode}``: what each EEG parquet is made from (see ``eeg_file_frame``)."""
    return {str(e.eeg_id): e for r in recordings for e in r.episodes}


def spectrogram_files(recordings: list[Recording]) -> dict[str, Recording]:
    """``{spectrogram_id: recording}``: what each spectrogram parquet is made from."""
    return {str(r.spectrogram_id): r for r in recordings}


def sample_submission(test: pd.DataFrame) -> pd.DataFrame:
    """The public sample submission: every test EEG with the uniform 1/6 prediction."""
    frame = pd.DataFrame({"eeg_id": test["eeg_id"].to_numpy()})
    for column in VOTE_COLUMNS:
        frame[column] = 1.0 / len(VOTE_COLUMNS)
    return frame
