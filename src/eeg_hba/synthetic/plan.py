"""Everything decided before any signal is made: patients, recordings, segments and votes.

- A patient has a background, an artefact profile and about two characteristic pattern
  types (classes correlate within a patient).
- A recording (one spectrogram file) holds several EEG files at different times; their
  600 s windows overlap. Its timeline is a sequence of segments, each one background
  state and at most one pattern: the labelled segment of every EEG (sometimes a
  transition between two patterns), and between them context (the patient's other
  activity, repeated seizures, plain background).
- A labelled segment is designed around the experts' thresholds (``raters``): far from
  all of them (idealized), near the pattern/Other one (proto), near one between two
  patterns (edge) or in between (typical); its features set how the signal is drawn.
- Votes come from a panel of experts with personal biases reading each sub-window.

Files are made later, one at a time, from these plans (``signals``), so memory does not
grow with the size of the data set.
"""

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import pandas as pd

from eeg_hba.evaluation.oracle import LATENT_COLUMNS
from eeg_hba.hms.layout import (
    CLASSES,
    EEG_WINDOW_SECONDS,
    LABELLED_SECONDS,
    SPECTROGRAM_WINDOW_SECONDS,
    TEST_COLUMNS,
    VOTE_COLUMNS,
)
from eeg_hba.synthetic.config import AGREEMENT_DESIGNS, SyntheticConfig
from eeg_hba.synthetic.raters import (
    EVOLUTION,
    FEATURES,
    GPD,
    GRDA,
    LATERALISATION,
    LPD,
    LRDA,
    OTHER,
    PERIODICITY,
    PROMINENCE,
    RATE,
    SEIZURE,
    RaterModel,
    draw_biases,
    expected_votes,
    mixed_expected_votes,
    panel_choices,
)

HALF_WINDOW = SPECTROGRAM_WINDOW_SECONDS // 2
EEG_HALF_WINDOW = EEG_WINDOW_SECONDS // 2
LABEL_HALF = LABELLED_SECONDS // 2
SIDES = ("left", "right")
#: Background states of a stretch of EEG with no IIIC pattern (or under one).
BACKGROUNDS: tuple[str, ...] = (
    "awake", "slow", "focal_slow", "sleep", "burst_suppression", "suppressed", "artefact",
)  # fmt: skip
_BASELINE_WEIGHTS = (0.22, 0.34, 0.12, 0.14, 0.08, 0.05, 0.05)
#: Where lateralised patterns and focal slowing are maximal (their field decays from it).
FOCI: dict[str, tuple[str, ...]] = {
    "left": ("F7", "T3", "T5", "C3", "F3", "P3"),
    "right": ("F8", "T4", "T6", "C4", "F4", "P4"),
}
_FAR = (2.5, 4.5)  # |features| of an unambiguous reading, in rater units
_TYPICAL = (0.7, 2.5)
_BORDER = (-0.4, 0.4)
#: Edge designs of each class: (feature on the border, the class on its other side, weight).
_EDGES: dict[int, tuple[tuple[int, int, float], ...]] = {
    LPD: ((PERIODICITY, LRDA, 0.6), (RATE, SEIZURE, 0.2), (LATERALISATION, GPD, 0.2)),
    LRDA: ((PERIODICITY, LPD, 0.6), (EVOLUTION, SEIZURE, 0.2), (LATERALISATION, GRDA, 0.2)),
    GPD: ((PERIODICITY, GRDA, 0.75), (LATERALISATION, LPD, 0.2), (RATE, SEIZURE, 0.05)),
    GRDA: ((PERIODICITY, GPD, 0.75), (LATERALISATION, LRDA, 0.2), (EVOLUTION, SEIZURE, 0.05)),
    SEIZURE: ((RATE, LPD, 0.5), (EVOLUTION, LRDA, 0.5)),
}
_OWN_PARTNER_WEIGHT = 6.0  # edges lean towards the patient's other pattern type


@dataclass(frozen=True)
class Patient:
    """What stays the same across a patient's recordings."""

    patient_id: int
    background_uv: float  # RMS of each channel's own background activity
    background_slope: float  # exponent of its 1/f spectrum
    baseline: str  # usual background state, one of BACKGROUNDS
    side: str  # hemisphere of the patient's lateralised activity
    focus: str  # electrode where it is maximal
    pattern_types: tuple[int, ...]  # the characteristic classes (indices into CLASSES)
    high_vote_share: float  # how often this patient's EEGs went to a large panel
    artefact_scale: float  # multiplies every artefact rate
    heart_rate_bpm: float
    ekg_uv: float
    seed: int


@dataclass(frozen=True)
class Pattern:
    """One rhythmic or periodic pattern, drawn from features in rater units (``raters``).

    ``rate_hz`` holds at ``centre_seconds``; ``duty`` is the width of each wave as a
    share of the period (small: sharp discharges with harmonics; about 0.25: sinusoidal);
    ``amplitude`` is relative to the patient's background; ``episodic`` patterns start and
    stop inside the segment (seizure-like) and spread from their focus.
    """

    features: tuple[float, ...]
    rate_hz: float
    duty: float
    irregularity: float
    lateralisation: float
    focus: str
    amplitude: float
    prevalence: float
    evolution: float
    centre_seconds: float
    episodic: bool
    polarity: float


@dataclass(frozen=True)
class Segment:
    """A stretch of a recording: one background state and at most one pattern."""

    start_seconds: float
    stop_seconds: float
    background: str
    pattern: Pattern | None
    seed: int
    postictal: bool = False  # suppressed background after an episodic pattern


@dataclass(frozen=True)
class Timeline:
    """All a recording's signal is drawn from: any stretch of it can be drawn alone."""

    spectrogram_id: int
    patient: Patient
    duration_seconds: int
    segments: tuple[Segment, ...]
    eeg_spans: tuple[tuple[int, int], ...]  # each EEG file's [start, stop) in seconds
    seed: int


@dataclass(frozen=True)
class Episode:
    """One EEG file: a cut of its recording."""

    eeg_id: int
    timeline: Timeline
    eeg_start_seconds: int
    eeg_duration_seconds: int


@dataclass(frozen=True)
class Recording:
    """One spectrogram file and the EEG files cut from it."""

    timeline: Timeline
    episodes: tuple[Episode, ...]

    @property
    def spectrogram_id(self) -> int:
        return self.timeline.spectrogram_id

    @property
    def duration_seconds(self) -> int:
        return self.timeline.duration_seconds


@dataclass
class SyntheticPlan:
    """Tables and file plans of a whole data set."""

    config: SyntheticConfig
    train: pd.DataFrame
    test: pd.DataFrame
    train_latent: pd.DataFrame
    test_latent: pd.DataFrame
    train_recordings: list[Recording] = field(default_factory=list)
    test_recordings: list[Recording] = field(default_factory=list)


# --- ids and counts -------------------------------------------------------------------------


def _unique_ids(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """``n`` distinct integers in [low, high), drawn without materialising the range."""
    chosen: set[int] = set()
    while len(chosen) < n:
        chosen.update(int(v) for v in rng.integers(low, high, size=n - len(chosen)))
    return rng.permutation(np.fromiter(sorted(chosen), dtype=np.int64, count=n))


def _split_counts(rng: np.random.Generator, total: int, parts: int) -> np.ndarray:
    """``total`` items spread over ``parts`` groups, each group getting at least one."""
    return 1 + rng.multinomial(total - parts, np.full(parts, 1.0 / parts))


def rater_model(config: SyntheticConfig) -> RaterModel:
    return RaterModel(config.rater_bias_sd, config.rater_noise_sd, config.rater_lapse)


# --- patients -------------------------------------------------------------------------------


def _patient(rng: np.random.Generator, patient_id: int, config: SyntheticConfig) -> Patient:
    """A patient with their own background, artefacts and about two pattern types."""
    prior = _mixed_prior(config)
    n_types = min(config.patient_pattern_types, len(CLASSES))
    types = rng.choice(len(CLASSES), size=n_types, replace=False, p=prior)
    side = SIDES[int(rng.integers(0, 2))]
    mean_share = _high_vote_share(config, SEIZURE in types)
    share = float(rng.beta(8 * mean_share, 8 * (1 - mean_share)))
    return Patient(
        patient_id=patient_id,
        background_uv=float(rng.lognormal(np.log(20.0), 0.35)),
        background_slope=float(rng.uniform(0.9, 1.6)),
        baseline=BACKGROUNDS[int(rng.choice(len(BACKGROUNDS), p=_BASELINE_WEIGHTS))],
        side=side,
        focus=FOCI[side][int(rng.integers(0, len(FOCI[side])))],
        pattern_types=tuple(int(t) for t in types),
        high_vote_share=share,
        artefact_scale=float(rng.lognormal(0.0, 0.7)),
        heart_rate_bpm=float(rng.uniform(55, 115)),
        ekg_uv=float(rng.uniform(200, 900)),
        seed=int(rng.integers(0, 2**31)),
    )


_SEIZURE_PATIENT_HIGH_VOTE = 0.35  # relative to other patients


@lru_cache(maxsize=8)
def _high_vote_share(config: SyntheticConfig, has_seizures: bool) -> float:
    """Mean share of a patient's EEGs read by a large panel. Patients with seizures were
    mostly read by small panels (few seizures among high-vote rows); the others make up
    for it so that ``high_vote_fraction`` of all EEGs are high-vote."""
    prior = _mixed_prior(config)
    gumbel = np.random.default_rng(0).gumbel(size=(20_000, len(CLASSES)))
    top = np.argsort(-(np.log(prior + 1e-12) + gumbel), axis=1)[:, : config.patient_pattern_types]
    seizure_patients = float((top == SEIZURE).any(axis=1).mean())
    other = (1 - _SEIZURE_PATIENT_HIGH_VOTE * seizure_patients) / (1 - seizure_patients)
    factor = _SEIZURE_PATIENT_HIGH_VOTE if has_seizures else other
    return float(np.clip(config.high_vote_fraction * factor, 0.01, 0.99))


def _mixed_prior(config: SyntheticConfig) -> np.ndarray:
    """The class mix over both panel sizes."""
    return config.high_vote_fraction * np.asarray(config.high_vote_class_prior) + (
        1 - config.high_vote_fraction
    ) * np.asarray(config.low_vote_class_prior)


def _eeg_class(
    rng: np.random.Generator, patient: Patient, high: bool, config: SyntheticConfig
) -> int:
    """Mostly one of the patient's pattern types, weighted by the panel's class mix."""
    prior = config.high_vote_class_prior if high else config.low_vote_class_prior
    if rng.random() < config.patient_affinity:
        types = patient.pattern_types
        weights = np.array([prior[t] + 1e-3 for t in types])
        return types[int(np.searchsorted(np.cumsum(weights), rng.random() * weights.sum()))]
    return int(np.searchsorted(np.cumsum(prior), rng.random() * sum(prior)))


# --- features of a labelled segment ------------------------------------------------------------


def _far(rng: np.random.Generator, sign: float, spread: tuple[float, float] = _FAR) -> float:
    return sign * rng.uniform(*spread)


def _class_features(rng: np.random.Generator, cls: int, spread: tuple[float, float]) -> np.ndarray:
    """Features that read as ``cls`` (an IIIC pattern), each ``spread`` from its border."""
    far = rng.uniform(*spread, size=len(FEATURES))
    z = np.empty(len(FEATURES))
    z[PROMINENCE] = far[PROMINENCE]
    lateral = cls in (LPD, LRDA) or (cls == SEIZURE and rng.random() < 0.7)
    z[LATERALISATION] = far[LATERALISATION] if lateral else -far[LATERALISATION]
    if cls == SEIZURE:
        z[EVOLUTION] = far[EVOLUTION]
        z[PERIODICITY] = rng.uniform(-3, 3)
        z[RATE] = rate_feature(math.exp(rng.uniform(math.log(1.8), math.log(6.0))))
    else:
        z[EVOLUTION] = -far[EVOLUTION]
        periodic = cls in (LPD, GPD)
        z[PERIODICITY] = far[PERIODICITY] if periodic else -far[PERIODICITY]
        if periodic:  # discharges slower than the seizure border
            z[RATE] = min(-far[RATE], rate_feature(rng.uniform(0.5, 2.3)))
        else:
            z[RATE] = rate_feature(math.exp(rng.uniform(math.log(0.6), math.log(3.5))))
    return z


def segment_features(
    rng: np.random.Generator, cls: int, design: str, patient: Patient
) -> np.ndarray:
    """Features of a labelled segment of class ``cls`` under an agreement design.

    Other reads as no pattern at all (prominence -inf) or as one of the patient's
    patterns too faint or irregular to name; proto puts a pattern on the Other border,
    edge one feature on the border between two patterns.
    """
    if design == "edge" and cls == OTHER:
        design = "proto"
    if cls == OTHER or design == "proto":
        named = cls if cls != OTHER else _faint_type(rng, patient)
        z = _class_features(rng, named, _FAR)
        if design == "proto":
            z[PROMINENCE] = rng.uniform(*_BORDER) - (0.2 if cls == OTHER else -0.2)
        elif design == "idealized" and rng.random() < 0.6:
            z[PROMINENCE] = -np.inf
        else:
            z[PROMINENCE] = -rng.uniform(*(_FAR if design == "idealized" else _TYPICAL))
        return z
    if design == "edge":
        z = _class_features(rng, cls, _FAR)
        edges = _EDGES[cls]
        weights = np.array([
            w * (_OWN_PARTNER_WEIGHT if partner in patient.pattern_types else 1.0)
            for _, partner, w in edges
        ])  # fmt: skip
        feature, partner, _ = edges[int(rng.choice(len(edges), p=weights / weights.sum()))]
        z[feature] = rng.uniform(*_BORDER)
        if SEIZURE in (partner, cls):  # the non-seizure side is LPD-like or LRDA
            named = partner if cls == SEIZURE else cls
            z[PERIODICITY] = _far(rng, 1 if named in (LPD, GPD) else -1)
            z[LATERALISATION] = _far(rng, 1 if named in (LPD, LRDA) else -1)
            if feature == RATE:
                z[EVOLUTION] = _far(rng, -1)
            else:
                z[RATE] = rate_feature(float(np.exp(rng.uniform(np.log(1.5), np.log(3.5)))))
        return z
    return _class_features(rng, cls, _FAR if design == "idealized" else _TYPICAL)


def _faint_type(rng: np.random.Generator, patient: Patient) -> int:
    """The named pattern an Other segment resembles: one of the patient's, or any."""
    own = [t for t in patient.pattern_types if t != OTHER]
    if own and rng.random() < 0.7:
        return int(rng.choice(own))
    return int(rng.choice([SEIZURE, LPD, GPD, LRDA, GRDA], p=[0.1, 0.25, 0.2, 0.25, 0.2]))


# --- features -> how the pattern is drawn -------------------------------------------------------

_RATE_BORDER_HZ = 2.5
_RATE_UNIT = 0.16  # one rater unit of rate: 16 % faster
_DUTY_BORDER = 0.09  # wave width / period between discharges and rhythm
_DUTY_UNIT = 0.33
_EVOLUTION_BORDER = 0.45
_EVOLUTION_UNIT = 0.12
_LATERAL_UNIT = 0.1
_PROMINENCE_UNIT = 0.25
#: Amplitude (x background, on the bipolar chain where it is largest) of a regular,
#: continuous pattern that half of the experts name.
_PROMINENT_AMPLITUDE = 2.0


def rate_feature(rate_hz: float) -> float:
    """Rate in rater units: 0 at 2.5 Hz, where fast discharges become a seizure."""
    return math.log(rate_hz / _RATE_BORDER_HZ) / _RATE_UNIT


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def draw_pattern(
    rng: np.random.Generator,
    features: np.ndarray,
    patient: Patient,
    centre_seconds: float,
    irregularity_range: tuple[float, float],
) -> Pattern | None:
    """The pattern whose rendering shows ``features`` (None: no pattern at all).

    Prominence is shared between amplitude, prevalence (share of time on) and regularity:
    a faint continuous rhythm and a strong but irregular one can both sit on the border.
    """
    z = [float(v) for v in features]
    if not math.isfinite(z[PROMINENCE]):
        return None
    irregularity = float(rng.uniform(*irregularity_range))
    prevalence = float(rng.uniform(0.55, 1.0)) if rng.random() < 0.4 else 1.0
    log_amplitude = (
        math.log(_PROMINENT_AMPLITUDE) + _PROMINENCE_UNIT * z[PROMINENCE]
        - 0.6 * math.log(prevalence) + 2.0 * irregularity
    )  # fmt: skip
    side = patient.side if rng.random() < 0.85 else SIDES[1 - SIDES.index(patient.side)]
    focus = patient.focus if side == patient.side else FOCI[side][int(rng.integers(0, 6))]
    evolution = _clip(_EVOLUTION_BORDER + _EVOLUTION_UNIT * z[EVOLUTION], 0.0, 1.0)
    return Pattern(
        features=tuple(z),
        rate_hz=_RATE_BORDER_HZ * math.exp(_RATE_UNIT * z[RATE]),
        duty=_clip(_DUTY_BORDER * math.exp(-_DUTY_UNIT * z[PERIODICITY]), 0.02, 0.3),
        irregularity=irregularity,
        lateralisation=_clip(0.5 + _LATERAL_UNIT * z[LATERALISATION], 0.0, 1.0),
        focus=focus,
        amplitude=math.exp(_clip(log_amplitude, math.log(0.05), math.log(8.0))),
        prevalence=prevalence,
        evolution=evolution,
        centre_seconds=float(centre_seconds),
        episodic=bool(rng.random() < _episodic_probability(evolution)),
        polarity=-1.0 if rng.random() < 0.5 else 1.0,
    )


def _episodic_probability(evolution: float) -> float:
    """Evolving patterns start and stop within minutes (seizures); static ones persist."""
    return 1 / (1 + math.exp(-(evolution - _EVOLUTION_BORDER) / 0.06))


def _irregularity_range(design: str, cls: int) -> tuple[float, float]:
    if cls == OTHER:
        return (0.15, 0.7)
    return {"idealized": (0.02, 0.1), "typical": (0.04, 0.25)}.get(design, (0.04, 0.4))


# --- recordings --------------------------------------------------------------------------------


@dataclass
class _LabelledEeg:
    """One EEG of a recording while it is being planned."""

    eeg_id: int
    offsets: np.ndarray  # sub-window centres relative to the first, seconds
    centre: int  # first sub-window centre in the recording, seconds
    high: bool
    cls: int
    design: str
    first: np.ndarray  # features before the transition (or throughout)
    second: np.ndarray | None  # features after it
    switch_seconds: float  # where the transition happens (recording time)

    @property
    def span(self) -> tuple[int, int]:
        """Seconds the experts looked at: every sub-window's central 10 s."""
        return self.centre - LABEL_HALF, self.centre + int(self.offsets[-1]) + LABEL_HALF

    def second_share(self, centre: float) -> float:
        """Share of the 10 s around ``centre`` after the transition."""
        if self.second is None:
            return 0.0
        after = centre + LABEL_HALF - self.switch_seconds
        return float(np.clip(after / LABELLED_SECONDS, 0.0, 1.0))


def _sub_window_offsets(rng: np.random.Generator, n: int, config: SyntheticConfig) -> np.ndarray:
    steps = rng.integers(1, config.max_sub_window_step_seconds // 2 + 1, n - 1) * 2
    return np.concatenate([[0], np.cumsum(steps)]).astype(np.int64)


def _plan_eeg(
    rng: np.random.Generator,
    config: SyntheticConfig,
    patient: Patient,
    eeg_id: int,
    offsets: np.ndarray,
    high: bool | None = None,
) -> _LabelledEeg:
    high = bool(rng.random() < patient.high_vote_share) if high is None else high
    cls = _eeg_class(rng, patient, high, config)
    mix = np.asarray(config.high_vote_agreement if high else config.low_vote_agreement)
    design = AGREEMENT_DESIGNS[int(rng.choice(len(mix), p=mix))]
    first = segment_features(rng, cls, design, patient)
    second = None
    if len(offsets) > 1 and offsets[-1] >= 4 and rng.random() < config.transition_probability:
        follow = _eeg_class(rng, patient, high, config)
        second = segment_features(rng, follow, "typical", patient)
    return _LabelledEeg(eeg_id, offsets, 0, high, cls, design, first, second, 0.0)


def _labelled_segments(
    rng: np.random.Generator, eeg: _LabelledEeg, patient: Patient, baseline: str
) -> list[Segment]:
    """The segment (or two, around a transition) under an EEG's labelled span."""
    start, stop = eeg.span
    middle = (start + stop) / 2
    design_range = _irregularity_range(eeg.design, eeg.cls)
    first = draw_pattern(rng, eeg.first, patient, middle, design_range)
    episodic = first is not None and first.episodic
    before = rng.uniform(5, 45) if episodic else rng.exponential(240.0)
    after = rng.uniform(5, 45) if episodic else rng.exponential(240.0)
    background = _segment_background(rng, eeg.cls, first, baseline)
    if eeg.second is None:
        return [_segment(rng, start - before, stop + after, background, first)]
    eeg.switch_seconds = float(rng.integers(start + 5, stop - 4))
    second = draw_pattern(rng, eeg.second, patient, stop, (0.04, 0.3))
    return [
        _segment(rng, start - before, eeg.switch_seconds, background, first),
        _segment(rng, eeg.switch_seconds, stop + after, baseline, second),
    ]


def _segment_background(
    rng: np.random.Generator, cls: int, pattern: Pattern | None, baseline: str
) -> str:
    """Other with no pattern often is a different state (sleep, burst suppression...)."""
    if cls == OTHER and pattern is None and rng.random() < 0.5:
        return BACKGROUNDS[int(rng.integers(0, len(BACKGROUNDS)))]
    return baseline


def _segment(
    rng: np.random.Generator, start: float, stop: float, background: str, pattern: Pattern | None
) -> Segment:
    postictal = pattern is not None and pattern.episodic and pattern.evolution > 0.6
    return Segment(float(start), float(stop), background, pattern, int(rng.integers(0, 2**31)),
                   postictal)  # fmt: skip


def _context(
    rng: np.random.Generator, start: float, stop: float, patient: Patient, baseline: str
) -> list[Segment]:
    """What fills the time between labelled segments: background, the patient's other
    patterns, and sometimes a seizure of a patient who has them."""
    if stop - start < 1:
        return []
    if SEIZURE in patient.pattern_types and stop - start > 60 and rng.random() < 0.5:
        length = rng.uniform(20, min(90, stop - start - 20))
        onset = rng.uniform(start + 10, stop - 10 - length)
        seizure = _class_features(rng, SEIZURE, _TYPICAL)
        pattern = draw_pattern(rng, seizure, patient, onset + length / 2, (0.04, 0.2))
        pattern = pattern and replace(pattern, episodic=True)
        return [
            *_context(rng, start, onset, patient, baseline),
            _segment(rng, onset, onset + length, baseline, pattern),
            *_context(rng, onset + length, stop, patient, baseline),
        ]
    pattern = None
    if rng.random() < 0.4:
        cls = int(rng.choice(patient.pattern_types))
        if cls not in (OTHER, SEIZURE):
            features = _class_features(rng, cls, _TYPICAL)
            pattern = draw_pattern(rng, features, patient, (start + stop) / 2, (0.04, 0.3))
            pattern = pattern and replace(pattern, episodic=False)
    return [_segment(rng, start, stop, baseline, pattern)]


def _timeline(
    rng: np.random.Generator,
    spectrogram_id: int,
    patient: Patient,
    eegs: list[_LabelledEeg],
    config: SyntheticConfig,
    lead: int,
    tail: int,
) -> Timeline:
    """Place the EEGs one after another and fill the recording around their segments."""
    baseline = patient.baseline
    if rng.random() < 0.25:  # a recording in another state than usual
        baseline = BACKGROUNDS[int(rng.integers(0, len(BACKGROUNDS)))]
    centre = HALF_WINDOW + lead
    for eeg in eegs:
        eeg.centre = centre
        gap = 2 * int(rng.integers(config.eeg_gap_seconds[0] // 2, config.eeg_gap_seconds[1] // 2))
        centre += int(eeg.offsets[-1]) + gap
    last = eegs[-1]
    duration = last.centre + int(last.offsets[-1]) + HALF_WINDOW + tail
    labelled = [_labelled_segments(rng, eeg, patient, baseline) for eeg in eegs]
    for left, right, eeg_left, eeg_right in zip(
        labelled, labelled[1:], eegs, eegs[1:], strict=False
    ):
        if left[-1].stop_seconds > right[0].start_seconds:  # share the gap between them
            cut = rng.uniform(eeg_left.span[1], eeg_right.span[0])
            left[-1] = replace(left[-1], stop_seconds=min(left[-1].stop_seconds, cut))
            right[0] = replace(right[0], start_seconds=max(right[0].start_seconds, cut))
    segments: list[Segment] = []
    clock = 0.0
    for group in labelled:
        group[0] = replace(group[0], start_seconds=max(group[0].start_seconds, 0.0))
        group[-1] = replace(group[-1], stop_seconds=min(group[-1].stop_seconds, float(duration)))
        segments += _context(rng, clock, group[0].start_seconds, patient, baseline)
        segments += group
        clock = group[-1].stop_seconds
    segments += _context(rng, clock, float(duration), patient, baseline)
    spans = tuple(
        (e.centre - EEG_HALF_WINDOW, e.centre + int(e.offsets[-1]) + EEG_HALF_WINDOW) for e in eegs
    )
    return Timeline(spectrogram_id, patient, int(duration), tuple(segments), spans,
                    int(rng.integers(0, 2**31)))  # fmt: skip


# --- votes -------------------------------------------------------------------------------------

_VOTE_CHUNK = 20_000  # rows read by the panels at once (bounds memory)


def _votes(
    rng: np.random.Generator, eegs: list[_LabelledEeg], model: RaterModel, config: SyntheticConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Votes, expected votes and the share of the second pattern of every sub-window.

    Each EEG has its own panel of experts (fixed biases) who read every sub-window;
    a sub-window that looks like the one before mostly repeats its votes.
    """
    n_windows = np.array([len(e.offsets) for e in eegs])
    eeg_of_row = np.repeat(np.arange(len(eegs)), n_windows)
    first = np.repeat(np.stack([e.first for e in eegs]), n_windows, axis=0)
    second = np.repeat(
        np.stack([e.first if e.second is None else e.second for e in eegs]), n_windows, axis=0
    )
    shares = np.concatenate([[e.second_share(e.centre + o) for o in e.offsets] for e in eegs])
    expected = mixed_expected_votes(first, second, shares, model)
    ranges = np.array([config.high_vote_range if e.high else config.low_vote_range for e in eegs])
    panel_size = rng.integers(ranges[:, 0], ranges[:, 1] + 1)
    most = max(config.high_vote_range[1], config.low_vote_range[1])
    biases = draw_biases(rng, len(eegs) * most, model).reshape(len(eegs), most, -1)
    votes = np.zeros((len(shares), len(CLASSES)), dtype=np.int64)
    for lo in range(0, len(shares), _VOTE_CHUNK):
        rows = slice(lo, lo + _VOTE_CHUNK)
        panels = biases[eeg_of_row[rows]]  # (rows, experts, features)
        chosen = panel_choices(
            rng, first[rows, None, :] + panels, second[rows, None, :] + panels,
            shares[rows, None], model,
        )  # fmt: skip
        voting = np.arange(most) < panel_size[eeg_of_row[rows], None]
        for k in range(len(CLASSES)):
            votes[rows, k] = ((chosen == k) & voting).sum(axis=1)
    new_eeg = np.r_[True, eeg_of_row[1:] != eeg_of_row[:-1]]
    looks_same = np.r_[False, shares[1:] == shares[:-1]] & ~new_eeg
    repeat = looks_same & (rng.random(len(shares)) < config.repeat_votes_probability)
    source = np.maximum.accumulate(np.where(repeat, 0, np.arange(len(shares))))
    return votes[source], expected, shares


def _plan_train(
    rng: np.random.Generator,
    config: SyntheticConfig,
    patients: list[Patient],
    spectrogram_ids: np.ndarray,
    eeg_ids: np.ndarray,
) -> tuple[list[Recording], pd.DataFrame, pd.DataFrame]:
    """Recordings with their EEGs, and train.csv with its latent sidecar."""
    label_ids = _unique_ids(rng, config.n_rows, 10**6, 2**31)
    per_patient = _split_counts(rng, config.n_spectrograms, config.n_patients)
    per_recording = _split_counts(rng, config.n_eegs, config.n_spectrograms)
    per_eeg = _split_counts(rng, config.n_rows, config.n_eegs)
    recording_patient = np.repeat(np.arange(config.n_patients), per_patient)
    recordings: list[Recording] = []
    planned: list[_LabelledEeg] = []
    eeg_spectrogram, eeg_patient = [], []
    for r, n_eegs in enumerate(per_recording):
        patient = patients[recording_patient[r]]
        spectrogram_id = int(spectrogram_ids[r])
        eegs = []
        for e in range(len(planned), len(planned) + n_eegs):
            offsets = _sub_window_offsets(rng, int(per_eeg[e]), config)
            eegs.append(_plan_eeg(rng, config, patient, int(eeg_ids[e]), offsets))
        lead, tail = 2 * int(rng.integers(0, 31)), 2 * int(rng.integers(0, 31))
        timeline = _timeline(rng, spectrogram_id, patient, eegs, config, lead, tail)
        episodes = tuple(
            Episode(e.eeg_id, timeline, e.centre - EEG_HALF_WINDOW,
                    EEG_WINDOW_SECONDS + int(e.offsets[-1]))
            for e in eegs
        )  # fmt: skip
        recordings.append(Recording(timeline, episodes))
        planned += eegs
        eeg_spectrogram += [spectrogram_id] * n_eegs
        eeg_patient += [patient.patient_id] * n_eegs
    votes, expected, shares = _votes(rng, planned, rater_model(config), config)
    n_windows = np.array([len(e.offsets) for e in planned])

    def per_row(values) -> np.ndarray:
        return np.repeat(np.asarray(values), n_windows)

    offsets = np.concatenate([e.offsets for e in planned])
    sub_ids = np.concatenate([np.arange(n) for n in n_windows])
    centres = per_row([e.centre for e in planned]) + offsets
    eeg_column = per_row([e.eeg_id for e in planned]).astype(np.int64)
    train = pd.DataFrame({
        "eeg_id": eeg_column,
        "eeg_sub_id": sub_ids,
        "eeg_label_offset_seconds": offsets.astype(np.float64),
        "spectrogram_id": per_row(eeg_spectrogram).astype(np.int64),
        "spectrogram_sub_id": sub_ids,
        "spectrogram_label_offset_seconds": (centres - HALF_WINDOW).astype(np.float64),
        "label_id": label_ids.astype(np.int64),
        "patient_id": per_row(eeg_patient).astype(np.int64),
        "expert_consensus": np.asarray(CLASSES)[votes.argmax(axis=1)],
        **dict(zip(VOTE_COLUMNS, votes.T, strict=True)),
    })  # fmt: skip
    latent = pd.DataFrame({
        "label_id": label_ids.astype(np.int64),
        "eeg_id": eeg_column,
        **dict(zip(LATENT_COLUMNS, expected.T, strict=True)),
        "n_votes": votes.sum(axis=1),
        "high_vote": per_row([e.high for e in planned]),
        "agreement_design": per_row([e.design for e in planned]),
        "underlying_class": per_row([CLASSES[e.cls] for e in planned]),
        "transition_share": shares,
    })  # fmt: skip
    return recordings, train, latent


TRAIN_LATENT_COLUMNS: tuple[str, ...] = (
    "label_id", "eeg_id", *LATENT_COLUMNS, "n_votes", "high_vote", "agreement_design",
    "underlying_class", "transition_share",
)  # fmt: skip
TEST_LATENT_COLUMNS: tuple[str, ...] = (
    "eeg_id", *LATENT_COLUMNS, "agreement_design", "underlying_class",
)  # fmt: skip


def _plan_test(
    rng: np.random.Generator,
    config: SyntheticConfig,
    patients: list[Patient],
    spectrogram_ids: np.ndarray,
    eeg_ids: np.ndarray,
) -> tuple[list[Recording], pd.DataFrame, pd.DataFrame]:
    """Test items as published: a 600 s recording each, its 50 s EEG cut at the centre.

    The hidden test set looks like the high-vote rows, so these are drawn as such.
    """
    model = rater_model(config)
    recordings, rows, latent_rows = [], [], []
    for t in range(config.n_test_eegs):
        eeg_id, spectrogram_id = int(eeg_ids[t]), int(spectrogram_ids[t])
        patient = patients[t % len(patients)]
        eeg = _plan_eeg(rng, config, patient, eeg_id, np.zeros(1, dtype=np.int64), high=True)
        timeline = _timeline(rng, spectrogram_id, patient, [eeg], config, 0, 0)
        episode = Episode(eeg_id, timeline, HALF_WINDOW - EEG_HALF_WINDOW,
                          EEG_WINDOW_SECONDS)  # fmt: skip
        recordings.append(Recording(timeline, (episode,)))
        rows.append((spectrogram_id, eeg_id, patient.patient_id))
        expected = expected_votes(eeg.first, model)
        latent_rows.append((eeg_id, *expected, eeg.design, CLASSES[eeg.cls]))
    test = pd.DataFrame(rows, columns=list(TEST_COLUMNS)).astype("int64")
    return recordings, test, pd.DataFrame(latent_rows, columns=list(TEST_LATENT_COLUMNS))


def plan_dataset(config: SyntheticConfig) -> SyntheticPlan:
    """Decide ids, patients, recordings, segments and votes; no signal is made here."""
    rng = np.random.default_rng(config.seed)
    n_patients = config.n_patients + config.n_test_patients
    patient_ids = _unique_ids(rng, n_patients, 10_000, 100_000)
    spectrogram_ids = _unique_ids(rng, config.n_spectrograms + config.n_test_eegs, 10**6, 2**31)
    eeg_ids = _unique_ids(rng, config.n_eegs + config.n_test_eegs, 10**6, 2**31)
    patients = [_patient(rng, int(p), config) for p in patient_ids]
    train_recordings, train, train_latent = _plan_train(
        rng, config, patients[: config.n_patients],
        spectrogram_ids[: config.n_spectrograms], eeg_ids[: config.n_eegs],
    )  # fmt: skip
    test_recordings, test, test_latent = _plan_test(
        rng, config, patients[config.n_patients :],
        spectrogram_ids[config.n_spectrograms :], eeg_ids[config.n_eegs :],
    )  # fmt: skip
    return SyntheticPlan(
        config, train, test, train_latent, test_latent, train_recordings, test_recordings
    )
