"""Artefacts of ICU EEG: each one an event on some channels over some samples.

``plan_artefacts`` draws a recording's events from its patient's profile (deterministic
for the recording); ``inject`` adds (or, for flat, saturated and missing channels,
writes) one event into any stretch of the recording's signal, touching only the
channels and samples it claims, so an EEG file and its spectrogram see the same events.
"""

from dataclasses import dataclass

import numpy as np

from eeg_hba.hms.layout import EEG_SAMPLING_HZ
from eeg_hba.synthetic.config import SyntheticConfig
from eeg_hba.synthetic.montage import N_SCALP, channel_indices
from eeg_hba.synthetic.plan import Timeline

_MUSCLE_CHANNELS = channel_indices(("Fp1", "Fp2", "F7", "F8", "T3", "T4", "T5", "T6", "F3", "F4"))
_BLINK_CHANNELS = channel_indices(("Fp1", "Fp2", "Fz", "F3", "F4", "F7", "F8"))
_BLINK_GAINS = np.array([1.0, 1.0, 0.5, 0.35, 0.35, 0.3, 0.3])
_EYE_CHANNELS = channel_indices(("F7", "F8", "Fp1", "Fp2"))
_EYE_GAINS = np.array([1.0, -1.0, 0.3, -0.3])
#: Background states whose stretches are dominated by artefacts, and by how much.
_ARTEFACT_BACKGROUND_FACTOR = 8.0
SATURATION_UV = 1024.0  # the usual clip: saturated channels go beyond it


@dataclass(frozen=True)
class Artefact:
    """One artefact: ``kind`` on ``channels`` (indices into EEG_CHANNELS), samples
    [``start``, ``stop``) of the recording."""

    kind: str
    start: int
    stop: int
    channels: tuple[int, ...]
    amplitude_uv: float
    seed: int


def _events(
    rng: np.random.Generator, rate_per_hour: float, start_s: float, stop_s: float
) -> np.ndarray:
    """Onsets (s) of a Poisson process over [start_s, stop_s)."""
    count = rng.poisson(max(rate_per_hour, 0.0) * max(stop_s - start_s, 0.0) / 3600)
    return np.sort(rng.uniform(start_s, stop_s, count))


def _stretch(onset: float, seconds: float, duration: int) -> tuple[int, int]:
    start = int(onset * EEG_SAMPLING_HZ)
    return start, min(start + max(int(seconds * EEG_SAMPLING_HZ), 1), duration)


def plan_artefacts(timeline: Timeline, config: SyntheticConfig) -> list[Artefact]:
    """Every artefact of a recording, from its patient's artefact profile."""
    rng = np.random.default_rng([timeline.seed, 7])
    n = timeline.duration_seconds * EEG_SAMPLING_HZ
    events: list[Artefact] = []

    def add(kind: str, onset: float, seconds: float, channels, amplitude: float) -> None:
        start, stop = _stretch(onset, seconds, n)
        if stop > start:
            chosen = tuple(int(c) for c in channels)
            events.append(Artefact(kind, start, stop, chosen, float(amplitude),
                                   int(rng.integers(0, 2**31))))  # fmt: skip

    scale = timeline.patient.artefact_scale
    stretches = [(0.0, float(timeline.duration_seconds), scale)] + [
        (s.start_seconds, s.stop_seconds, scale * (_ARTEFACT_BACKGROUND_FACTOR - 1))
        for s in timeline.segments
        if s.background == "artefact"
    ]
    for begin, end, factor in stretches:
        _add_patient_artefacts(rng, add, config, begin, end, factor)
    _add_equipment_artefacts(rng, add, config, timeline)
    return events


def _add_patient_artefacts(rng, add, config: SyntheticConfig, begin, end, factor) -> None:
    """Muscle, eyes and movement: what the patient does, more in artefact-dominated states."""
    for onset in _events(rng, config.muscle_bursts_per_hour * factor, begin, end):
        channels = rng.choice(_MUSCLE_CHANNELS, int(rng.integers(2, 7)), replace=False)
        add("muscle", onset, rng.uniform(1, 15), channels, rng.uniform(8, 40))
    for onset in _events(rng, config.eye_movements_per_hour * factor, begin, end):
        if rng.random() < 0.7:
            add("blink", onset, rng.uniform(0.25, 0.5), _BLINK_CHANNELS, rng.uniform(60, 200))
        else:
            sign = rng.choice([-1.0, 1.0])
            add("eye_movement", onset, rng.uniform(0.5, 3), _EYE_CHANNELS,
                sign * rng.uniform(40, 150))  # fmt: skip
    for onset in _events(rng, config.movement_artefacts_per_hour * factor, begin, end):
        channels = rng.choice(N_SCALP, int(rng.integers(6, N_SCALP + 1)), replace=False)
        add("movement", onset, rng.uniform(1, 8), channels, rng.uniform(80, 300))


def _add_equipment_artefacts(rng, add, config: SyntheticConfig, timeline: Timeline) -> None:
    """Electrodes, amplifier and mains: pops, drift, saturation, line noise, flat and
    missing channels (NaN stretches, and a channel missing from a whole EEG file)."""
    duration = timeline.duration_seconds
    scale = timeline.patient.artefact_scale
    for onset in _events(rng, config.electrode_pops_per_hour * scale, 0, duration):
        add("pop", onset, rng.uniform(0.3, 2), [rng.integers(0, N_SCALP)],
            rng.choice([-1, 1]) * rng.uniform(100, 600))  # fmt: skip
    for onset in _events(rng, config.drifts_per_hour * scale, 0, duration):
        channels = rng.choice(N_SCALP, int(rng.integers(1, 5)), replace=False)
        add("drift", onset, rng.uniform(10, 120), channels, rng.uniform(50, 300))
    for onset in _events(rng, config.saturations_per_hour * scale, 0, duration):
        channels = rng.choice(N_SCALP, int(rng.integers(1, 3)), replace=False)
        level = rng.choice([-1, 1]) * rng.uniform(1.1, 3.0) * SATURATION_UV
        add("saturation", onset, rng.uniform(1, 20), channels, level)
    if rng.random() < config.line_noise_probability:
        add("line_noise", 0, duration, range(N_SCALP), rng.lognormal(np.log(3), 0.6))
    if rng.random() < config.flat_channel_probability:
        onset = rng.uniform(0, duration / 2)
        add("flat", onset, rng.uniform(20, duration), [rng.integers(0, N_SCALP)], 0.3)
    for onset in _events(rng, config.nan_stretches_per_hour, 0, duration):
        channels = (  # a gap in the whole recording, or a few channels
            range(N_SCALP + 1) if rng.random() < 0.5
            else rng.choice(N_SCALP + 1, int(rng.integers(1, 4)), replace=False)
        )  # fmt: skip
        add("nan", onset, rng.uniform(0.5, 8.0), channels, 0.0)
    for start_s, stop_s in timeline.eeg_spans:
        if rng.random() < config.nan_channel_probability:  # a channel missing in one file
            add("nan", start_s, stop_s - start_s, [rng.integers(0, N_SCALP + 1)], 0.0)


# --- waveforms ---------------------------------------------------------------------------------


def _smooth_noise(rng: np.random.Generator, n: int, knot_samples: int) -> np.ndarray:
    """Unit-variance noise varying on a scale of ``knot_samples`` (linear between knots)."""
    knots = rng.standard_normal(n // knot_samples + 2)
    return np.interp(np.arange(n) / knot_samples, np.arange(knots.size), knots)


def _fade(n: int, ramp: int) -> np.ndarray:
    """1 in the middle, raised-cosine ramps of ``ramp`` samples at both ends."""
    envelope = np.ones(n)
    ramp = min(ramp, n // 2)
    if ramp:
        edge = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
        envelope[:ramp], envelope[n - ramp :] = edge, edge[::-1]
    return envelope


def _muscle(rng: np.random.Generator, n: int, channels: int) -> np.ndarray:
    """Broadband fast activity (mostly above 20 Hz): white noise differenced twice."""
    noise = np.diff(rng.standard_normal((channels, n + 2)), n=2, axis=1)
    return noise / 2.45 * _fade(n, EEG_SAMPLING_HZ // 5)


def artefact_waveform(artefact: Artefact, first: int, n: int) -> np.ndarray:
    """The event's values on its channels for recording samples [first, first + n)
    (only the part inside [start, stop)); shape (len(channels), overlap)."""
    rng = np.random.default_rng(artefact.seed)
    length = artefact.stop - artefact.start
    channels = len(artefact.channels)
    a = artefact.amplitude_uv
    kind = artefact.kind
    lo, hi = max(first, artefact.start), min(first + n, artefact.stop)
    if kind == "line_noise":  # only the requested samples: it spans the whole recording
        hz = rng.choice([50.0, 60.0])
        gains = rng.lognormal(0.0, 0.8, channels)
        gains[rng.integers(0, channels)] *= rng.uniform(1, 15)  # one poorly attached electrode
        cycle = np.arange(lo, hi) % int(EEG_SAMPLING_HZ // np.gcd(int(hz), EEG_SAMPLING_HZ))
        wave = np.sin(2 * np.pi * hz * cycle / EEG_SAMPLING_HZ + rng.uniform(0, 2 * np.pi))
        return np.multiply.outer((a * gains).astype(np.float32), wave.astype(np.float32))
    t = np.arange(length) / EEG_SAMPLING_HZ
    if kind == "muscle":
        wave = a * _muscle(rng, length, channels)
    elif kind == "blink":
        wave = a * _BLINK_GAINS[:, None] * np.sin(np.pi * t / t[-1] if length > 1 else t)[None, :]
    elif kind == "eye_movement":
        wave = a * _EYE_GAINS[:, None] * _fade(length, EEG_SAMPLING_HZ // 20)[None, :]
    elif kind == "pop":
        wave = a * np.exp(-t / max(t[-1] / 4, 1e-3))[None, :]
    elif kind == "movement":
        slow = np.stack([_smooth_noise(rng, length, EEG_SAMPLING_HZ // 3) for _ in range(channels)])
        wave = a * slow * _fade(length, EEG_SAMPLING_HZ // 4) + 0.3 * a * _muscle(
            rng, length, channels
        )
    elif kind == "drift":
        slow = np.stack([_smooth_noise(rng, length, 5 * EEG_SAMPLING_HZ) for _ in range(channels)])
        wave = a * slow * _fade(length, EEG_SAMPLING_HZ * 2)
    elif kind == "flat":  # a disconnected electrode: amplifier noise only
        wave = a * rng.standard_normal((channels, length))
    elif kind == "saturation":  # stuck at a rail beyond the usual clip
        wave = a + 2.0 * rng.standard_normal((channels, length))
    elif kind == "nan":
        wave = np.full((channels, length), np.nan)
    else:
        raise ValueError(f"unknown artefact kind {kind!r}")
    return wave[:, lo - artefact.start : hi - artefact.start]


#: Artefacts that replace the signal of their channels instead of adding to it.
REPLACING = frozenset({"flat", "saturation", "nan"})


def inject(signal: np.ndarray, first: int, artefact: Artefact) -> None:
    """Add (or write) ``artefact`` into ``signal`` (channels, samples), which holds
    recording samples from ``first`` on; nothing outside its channels and samples changes."""
    n = signal.shape[1]
    lo, hi = max(first, artefact.start), min(first + n, artefact.stop)
    if hi <= lo:
        return
    wave = artefact_waveform(artefact, first, n).astype(signal.dtype)
    rows = np.asarray(artefact.channels)
    if artefact.kind in REPLACING:
        signal[rows, lo - first : hi - first] = wave
    else:
        signal[rows, lo - first : hi - first] += wave
