"""The EEG of a recording, drawn from its timeline; any stretch of it can be drawn alone.

Every part is a pure function of the recording's plan and the sample index, so the EEG
file of one labelled stretch and the spectrogram file of the whole recording are made in
different processes and still agree sample for sample:

- background: coloured noise shaped in the frequency domain block by block (22 s blocks
  every 20 s, cross-faded with windows whose squares sum to one), from a table of complex
  normal numbers read at random offsets (cheap, deterministic per block); channel-own
  1/f activity plus shared sources with a spatial field (posterior alpha, diffuse or
  focal polymorphic slowing); burst suppression and post-ictal suppression as envelopes;
- patterns: one waveform per segment (phase from an instantaneous rate, a von Mises
  pulse whose width is the ``duty``: sharp discharges with harmonics or a sinusoidal
  rhythm), with irregularity, waxing and waning, on/off prevalence, evolution in rate,
  shape, amplitude and field, times its spatial field;
- sleep transients (spindles, vertex waves), the heart (EKG channel and a little on the
  scalp), then the artefacts of ``artefacts``.
"""

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.fft import irfft, rfftfreq
from scipy.special import i0e

from eeg_hba.hms.layout import EEG_CHANNELS, EEG_SAMPLING_HZ
from eeg_hba.hms.spectrogram import public_spectrogram_frame
from eeg_hba.synthetic.artefacts import inject, plan_artefacts
from eeg_hba.synthetic.config import SyntheticConfig
from eeg_hba.synthetic.montage import (
    EKG_INDEX,
    N_SCALP,
    central_field,
    focal_field,
    largest_bipolar_gain,
    lateralised_field,
    posterior_field,
)
from eeg_hba.synthetic.plan import BACKGROUNDS, Episode, Pattern, Recording, Segment, Timeline

FS = EEG_SAMPLING_HZ
HOP = 20 * FS  # background blocks: one every 20 s, cross-faded over 2 s with the next
FADE = 2 * FS
BLOCK = HOP + FADE
_FREQUENCIES = rfftfreq(BLOCK, 1 / FS)
_DF = FS / BLOCK
_RAMP = np.sin(0.5 * np.pi * (np.arange(FADE) + 0.5) / FADE)
#: Flat in the middle, sine and cosine ramps where blocks overlap: squares sum to one.
_WINDOW = np.concatenate([_RAMP, np.ones(HOP - FADE), _RAMP[::-1]]).astype(np.float32)
_TABLE_SIZE = 1 << 20
#: |X_k|^2 of an irfft block whose one-sided PSD is 1 per Hz (see ``_background``).
_IRFFT_SCALE = np.sqrt(FS * BLOCK / 2)


@lru_cache(maxsize=2)
def _noise_table(seed: int) -> np.ndarray:
    """Complex normal numbers (E|z|^2 = 1) read at random offsets by every block."""
    rng = np.random.default_rng([seed, 5])
    pairs = rng.standard_normal((2, _TABLE_SIZE), dtype=np.float32)
    return ((pairs[0] + 1j * pairs[1]) / np.sqrt(2)).astype(np.complex64)


# --- background ----------------------------------------------------------------------------


def _unit(psd: np.ndarray) -> np.ndarray:
    """A spectrum scaled to unit variance (integral over frequency = 1)."""
    return psd / (psd.sum() * _DF)


def _pink(slope: float) -> np.ndarray:
    rolloff = 1 / (1 + (_FREQUENCIES / 70.0) ** 8)
    return _unit(rolloff / (_FREQUENCIES + 0.5) ** slope)


def _bump(centre_hz: float, width_hz: float) -> np.ndarray:
    return _unit(np.exp(-0.5 * ((_FREQUENCIES - centre_hz) / width_hz) ** 2))


def _log_bump(centre_hz: float, width: float) -> np.ndarray:
    """A broad bump on a log-frequency axis: polymorphic (arrhythmic) slowing."""
    log_f = np.log(np.maximum(_FREQUENCIES, 0.05) / centre_hz)
    return _unit(np.exp(-0.5 * (log_f / width) ** 2))


_FLOOR = _unit(np.ones_like(_FREQUENCIES)) * 0.6**2  # amplifier noise, 0.6 uV RMS


def _electrode_gains(patient_seed: int) -> np.ndarray:
    return np.random.default_rng([patient_seed, 3]).uniform(0.8, 1.2, N_SCALP)


def _background_spectra(state: str, timeline: Timeline) -> tuple[np.ndarray, ...]:
    """sqrt-PSD of every channel's own activity (19, f) and of shared sources (S, f) with
    their fields (S, 19), scaled for ``irfft``; the same all through a recording whenever
    it is in ``state``."""
    patient = timeline.patient
    rng = np.random.default_rng([timeline.seed, 1, BACKGROUNDS.index(state)])
    b = patient.background_uv
    own = [(b**2, _pink(patient.background_slope), np.ones(N_SCALP))]
    shared: list[tuple[float, np.ndarray, np.ndarray]] = []
    beta = (0.25 * b) ** 2, _bump(rng.uniform(15, 24), 3.0), np.ones(N_SCALP)
    if state in {"awake", "artefact"}:
        alpha = rng.uniform(0.6, 1.3) * b
        alpha_bump = _bump(rng.uniform(8.0, 11.0), 0.6)
        shared.append((alpha**2, alpha_bump, posterior_field()))
        own.append(((0.4 * alpha) ** 2, alpha_bump, posterior_field()))
        own.append(beta)
    elif state in ("slow", "focal_slow", "sleep", "burst_suppression"):
        slow = rng.uniform(0.8, 1.6) * b * (0.7 if state == "sleep" else 1.0)
        bump = _log_bump(rng.uniform(1.2, 3.5), rng.uniform(0.45, 0.7))
        field = np.ones(N_SCALP)
        if state == "focal_slow":
            field = 0.3 + focal_field(patient.focus, 0.55) * rng.uniform(1.0, 1.6)
        own.append((slow**2, bump, field))
        shared.append(((0.7 * slow) ** 2, bump, field * rng.uniform(0.6, 1.4, N_SCALP)))
        own.append(beta)
    elif state == "suppressed":
        own = [((0.25 * b) ** 2, _pink(patient.background_slope), np.ones(N_SCALP))]
    else:
        raise ValueError(f"unknown background state {state!r}")
    gains = _electrode_gains(patient.seed)
    own_psd = sum(power * psd[None, :] * (field * gains)[:, None] ** 2 for power, psd, field in own)
    own_sqrt = (np.sqrt(own_psd + _FLOOR) * _IRFFT_SCALE).astype(np.float32)
    if not shared:
        return own_sqrt, np.zeros((0, _FREQUENCIES.size), np.float32), np.zeros((0, N_SCALP))
    shared_sqrt = np.stack([np.sqrt(p * psd) * _IRFFT_SCALE for p, psd, _ in shared])
    fields = np.stack([field for *_, field in shared])
    return own_sqrt, shared_sqrt.astype(np.float32), fields.astype(np.float32)


def _background(timeline: Timeline, first: int, n: int, seed: int) -> np.ndarray:
    """Scalp background (19, n) for recording samples [first, first + n); ``seed`` is the
    data set's (one table of noise for all recordings)."""
    out = np.zeros((N_SCALP, n), dtype=np.float32)
    table = _noise_table(seed)
    n_bins = _FREQUENCIES.size
    spectra: dict[str, tuple[np.ndarray, ...]] = {}
    segment_starts = np.array([s.start_seconds for s in timeline.segments])
    for block in range(first // HOP, (first + n + FADE) // HOP + 1):
        begin = block * HOP - FADE  # the block covers [begin, begin + BLOCK)
        lo, hi = max(begin, first), min(begin + BLOCK, first + n)
        if hi <= lo:
            continue
        index = np.searchsorted(segment_starts, (begin + BLOCK / 2) / FS, side="right") - 1
        state = timeline.segments[max(int(index), 0)].background
        if state not in spectra:
            spectra[state] = _background_spectra(state, timeline)
        own_sqrt, shared_sqrt, fields = spectra[state]
        rng = np.random.default_rng([timeline.seed, 11, block])
        starts = rng.integers(0, _TABLE_SIZE - n_bins, N_SCALP + len(shared_sqrt))
        draws = table[starts[:, None] + np.arange(n_bins)]
        coefficients = own_sqrt * draws[:N_SCALP]
        for source, field in enumerate(fields):
            coefficients += field[:, None] * (shared_sqrt[source] * draws[N_SCALP + source])
        wave = irfft(coefficients, n=BLOCK, axis=1) * _WINDOW
        out[:, lo - first : hi - first] += wave[:, lo - begin : hi - begin]
    return out


def _box_train(times: np.ndarray, on: np.ndarray, off: np.ndarray, ramp: float) -> np.ndarray:
    """1 inside [on_i, off_i) and 0 outside, with linear ramps of ``ramp`` seconds."""
    knots_t = np.ravel(np.column_stack([on - ramp / 2, on + ramp / 2, off - ramp / 2,
                                        off + ramp / 2]))  # fmt: skip
    knots_v = np.tile([0.0, 1.0, 1.0, 0.0], len(on))
    order = np.argsort(knots_t, kind="stable")
    return np.interp(times, knots_t[order], knots_v[order], left=0.0, right=0.0)


def _background_envelope(timeline: Timeline, first: int, n: int) -> np.ndarray | None:
    """Burst suppression and post-ictal suppression as a gain over time (None: none)."""
    times = (first + np.arange(n)) / FS
    envelope = None
    for segment in timeline.segments:
        lo, hi = segment.start_seconds, segment.stop_seconds
        if segment.background == "burst_suppression" and hi > times[0] and lo <= times[-1]:
            rng = np.random.default_rng([segment.seed, 2])
            gaps = rng.uniform(2.0, 10.0, int((hi - lo) / 2) + 2)
            lengths = rng.uniform(1.0, 3.0, gaps.size)
            onsets = lo + np.cumsum(gaps + lengths) - lengths
            bursts = _box_train(times, onsets, onsets + lengths, 0.3)
            gain = np.where((times >= lo) & (times < hi), 0.15 + 2.2 * bursts, 1.0)
            envelope = gain if envelope is None else envelope * gain
        if segment.postictal and hi <= times[-1] + 60 and hi + 60 > times[0]:
            recovery = np.clip((times - hi) / 40.0, 0.0, 1.0)
            gain = np.where(times >= hi, 0.3 + 0.7 * recovery, 1.0)
            envelope = gain if envelope is None else envelope * gain
    return None if envelope is None else envelope.astype(np.float32)


# --- patterns --------------------------------------------------------------------------------


def _smooth_noise(
    rng: np.random.Generator, span: tuple[float, float], times: np.ndarray, step_seconds: float
) -> np.ndarray:
    """Unit-variance noise varying on a scale of ``step_seconds``, drawn for the whole
    ``span`` (so any part of it is the same whichever part is asked for), at ``times``."""
    knots = rng.standard_normal(int((span[1] - span[0]) / step_seconds) + 3)
    return np.interp((times - span[0]) / step_seconds, np.arange(knots.size), knots)


def _von_mises(phase: np.ndarray, kappa: np.ndarray | float) -> np.ndarray:
    """A periodic pulse of width ~1/sqrt(kappa) radians, zero mean and unit RMS per cycle."""
    mean = i0e(kappa)
    spread = np.sqrt(np.maximum(i0e(2 * kappa) - mean**2, 1e-12))
    return (np.exp(kappa * (np.cos(phase) - 1)) - mean) / spread


def _prevalence(
    rng: np.random.Generator, span: tuple[float, float], times: np.ndarray, prevalence: float
) -> np.ndarray:
    """On/off runs of the pattern: on ``prevalence`` of the time, in runs of 4-15 s."""
    if prevalence >= 1:
        return np.ones_like(times)
    count = int((span[1] - span[0]) / 4) + 2
    on = rng.uniform(4, 15, count)
    off = on * (1 - prevalence) / prevalence * rng.uniform(0.5, 1.5, count)
    onsets = span[0] - rng.uniform(0, 15) + np.concatenate([[0], np.cumsum(on + off)[:-1]])
    return _box_train(times, onsets, onsets + on, 0.5)


def pattern_waveform(
    pattern: Pattern, segment: Segment, background_uv: float, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The pattern over recording samples [lo, hi) of its segment: waveform (µV at gain 1),
    its field, and for episodic patterns the focal field it starts from and the share still
    focal over time. The same samples whichever stretch is asked for."""
    rng = np.random.default_rng([segment.seed, 3])
    start, stop = segment.start_seconds, segment.stop_seconds
    span = (start, stop)
    duration = max(stop - start, 1.0)
    scale = duration if pattern.episodic else 60.0
    cycle = max(1 / pattern.rate_hz, 0.3)

    def position(times: np.ndarray) -> np.ndarray:
        return np.clip((times - pattern.centre_seconds) / scale, -0.5, 0.5)

    # the phase accumulates from the segment's start; the rest is local
    elapsed = np.arange(int(start * FS), hi) / FS
    log_rate = np.log(pattern.rate_hz) - 1.4 * pattern.evolution * position(elapsed)
    log_rate += pattern.irregularity * _smooth_noise(rng, span, elapsed, cycle)
    phase = 2 * np.pi * np.cumsum(np.exp(log_rate))[lo - int(start * FS) :] / FS
    phase += rng.uniform(0, 2 * np.pi)
    times = elapsed[lo - int(start * FS) :]
    duty: np.ndarray | float = pattern.duty
    if pattern.episodic:  # rhythmic at onset, sharper as it evolves
        rhythmic = np.clip(-2 * position(times), 0, 1)
        duty = np.exp(np.log(pattern.duty) + (np.log(0.22) - np.log(pattern.duty)) * rhythmic)
    kappa = 1 / (2 * np.pi * duty) ** 2
    wave = _von_mises(phase, kappa)
    after_wave = 0.35 * np.clip((0.2 - duty) / 0.15, 0, 1)
    wave -= after_wave * _von_mises(phase - 2 * np.pi * np.minimum(2.5 * duty, 0.35), kappa / 8)
    envelope = np.exp(0.25 * _smooth_noise(rng, span, times, 20.0))  # waxing and waning
    envelope *= np.exp(pattern.irregularity * _smooth_noise(rng, span, times, cycle))
    envelope *= np.exp(1.2 * pattern.evolution * position(times))
    envelope *= _prevalence(rng, span, times, pattern.prevalence)
    if pattern.episodic:  # grows after onset, stops abruptly
        envelope *= 0.2 + 0.8 * np.clip((times - start) / (0.3 * duration), 0, 1)
        envelope *= _box_train(times, np.array([start + 0.5]), np.array([stop - 0.15]), 0.3)
    else:
        envelope *= _box_train(times, np.array([start + 1]), np.array([stop - 1]), 2.0)
    wave *= pattern.polarity * pattern.amplitude * background_uv * envelope
    field = lateralised_field(pattern.focus, pattern.lateralisation, rng)
    focal = focal_field(pattern.focus)
    focal /= largest_bipolar_gain(focal)
    still_focal = None
    if pattern.episodic:  # starts at its focus, spreads over the first 40 % of its time
        still_focal = np.clip(1 - (times - start) / (0.4 * duration), 0, 1)
    return wave, field, focal, still_focal


def _add_patterns(signal: np.ndarray, timeline: Timeline, first: int) -> None:
    n = signal.shape[1]
    for segment in timeline.segments:
        pattern = segment.pattern
        seg_lo = int(segment.start_seconds * FS)
        lo, hi = max(seg_lo, first), min(int(segment.stop_seconds * FS), first + n)
        if pattern is None or hi <= lo:
            continue
        wave, field, focal, still_focal = pattern_waveform(
            pattern, segment, timeline.patient.background_uv, lo, hi
        )
        part = wave.astype(np.float32)
        target = signal[:N_SCALP, lo - first : hi - first]
        if still_focal is None:
            target += np.multiply.outer(field.astype(np.float32), part)
        else:
            share = still_focal.astype(np.float32)
            target += np.multiply.outer(field.astype(np.float32), part * (1 - share))
            target += np.multiply.outer(focal.astype(np.float32), part * share)


# --- sleep transients and the heart ----------------------------------------------------------


def _add_sleep_transients(signal: np.ndarray, timeline: Timeline, first: int) -> None:
    """Spindles (11-14 Hz, 0.5-1.5 s) and vertex waves (sharp, ~0.2 s) at the vertex."""
    n = signal.shape[1]
    b = timeline.patient.background_uv
    field = central_field()
    for segment in timeline.segments:
        if segment.background != "sleep":
            continue
        rng = np.random.default_rng([segment.seed, 4])
        span = segment.stop_seconds - segment.start_seconds
        for kind, rate in (("spindle", 1 / 8), ("vertex", 1 / 12)):
            onsets = segment.start_seconds + rng.uniform(0, span, rng.poisson(rate * span))
            for onset in np.sort(onsets):
                seconds = rng.uniform(0.5, 1.5) if kind == "spindle" else rng.uniform(0.4, 0.6)
                start = int(onset * FS)
                t = np.arange(int(seconds * FS)) / FS
                if kind == "spindle":
                    envelope = np.exp(-0.5 * ((t - seconds / 2) / (seconds / 5)) ** 2)
                    wave = (
                        rng.uniform(0.8, 1.5)
                        * b
                        * envelope
                        * np.sin(2 * np.pi * rng.uniform(11, 14) * t)
                    )
                else:
                    wave = -rng.uniform(2, 4) * b * _von_mises(2 * np.pi * (t / seconds - 0.5), 6.0)
                lo, hi = max(start, first), min(start + t.size, first + n)
                if hi > lo:
                    signal[:N_SCALP, lo - first : hi - first] += np.multiply.outer(
                        field, wave[lo - start : hi - start]
                    ).astype(np.float32)


_QRS = (
    np.exp(-0.5 * ((np.arange(110) / FS - 0.1) / 0.012) ** 2)
    + 0.25 * np.exp(-0.5 * ((np.arange(110) / FS - 0.38) / 0.05) ** 2)
).astype(np.float32)
_EKG_LEAK_CHANNELS = 4


def _add_heart(signal: np.ndarray, timeline: Timeline, first: int) -> None:
    """Heartbeats on the EKG channel, and a little of them on a few scalp channels."""
    patient = timeline.patient
    rng = np.random.default_rng([timeline.seed, 6])
    beat = 60.0 / patient.heart_rate_bpm
    count = int(timeline.duration_seconds / beat) + 2
    beats = np.cumsum(beat * (1 + 0.03 * rng.standard_normal(count))) - rng.uniform(0, beat)
    n = signal.shape[1]
    starts = np.round(beats * FS).astype(np.int64) - first
    starts = starts[(starts > -_QRS.size) & (starts < n)]
    positions = (starts[:, None] + np.arange(_QRS.size)).ravel()
    inside = (positions >= 0) & (positions < n)
    weights = np.tile(_QRS, len(starts))[inside]
    heart = patient.ekg_uv * np.bincount(positions[inside], weights, minlength=n).astype(np.float32)
    chunks = range(first // HOP, (first + n - 1) // HOP + 1)  # noise drawn per block of time
    noise = np.concatenate(
        [np.random.default_rng([timeline.seed, 8, c]).standard_normal(HOP) for c in chunks]
    )[first % HOP : first % HOP + n]
    leak_rng = np.random.default_rng([patient.seed, 9])
    leaking = leak_rng.choice(N_SCALP, _EKG_LEAK_CHANNELS, replace=False)
    leak = leak_rng.uniform(0, 0.02, _EKG_LEAK_CHANNELS).astype(np.float32)
    signal[leaking] += np.multiply.outer(leak, heart)
    signal[EKG_INDEX] = heart + 10 * noise


# --- assembly -----------------------------------------------------------------------------------


def render(
    timeline: Timeline, config: SyntheticConfig, start_seconds: int, stop_seconds: int
) -> np.ndarray:
    """EEG of the recording from ``start_seconds`` to ``stop_seconds``: (20 channels,
    samples) float32 µV, in ``EEG_CHANNELS`` order, NaN where data are missing."""
    first, n = start_seconds * FS, (stop_seconds - start_seconds) * FS
    signal = np.zeros((len(EEG_CHANNELS), n), dtype=np.float32)
    signal[:N_SCALP] = _background(timeline, first, n, config.seed)
    envelope = _background_envelope(timeline, first, n)
    if envelope is not None:
        signal[:N_SCALP] *= envelope
    _add_patterns(signal, timeline, first)
    _add_sleep_transients(signal, timeline, first)
    _add_heart(signal, timeline, first)
    for artefact in plan_artefacts(timeline, config):
        inject(signal, first, artefact)
    return signal


def eeg_file_frame(episode: Episode, config: SyntheticConfig) -> pd.DataFrame:
    """The EEG parquet of one episode: its cut of the recording."""
    start = episode.eeg_start_seconds
    signal = render(episode.timeline, config, start, start + episode.eeg_duration_seconds)
    return pd.DataFrame(signal.T, columns=list(EEG_CHANNELS))


def spectrogram_file_frame(recording: Recording, config: SyntheticConfig) -> pd.DataFrame:
    """The spectrogram parquet of one recording, computed from its whole EEG."""
    signal = render(recording.timeline, config, 0, recording.duration_seconds)
    return public_spectrogram_frame(signal.T)
