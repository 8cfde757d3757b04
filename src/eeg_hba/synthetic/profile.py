"""How the generated labels and signals compare with the public facts they were calibrated to.

Everything but the examples comes from the tables alone (no signal), so the statistics of
any preset are cheap. The public figures and their sources are in docs/synthetic_data.md.
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from eeg_hba.hms.labels import build_label_table
from eeg_hba.hms.layout import (
    CLASSES,
    EEG_SAMPLING_HZ,
    REGIONS,
    SPECTROGRAM_FREQUENCIES,
    TARGET_COLUMNS,
    VOTE_COLUMNS,
    bipolar_pairs,
)
from eeg_hba.hms.spectrogram import bipolar_signals, region_power
from eeg_hba.synthetic.plan import HALF_WINDOW, Recording, SyntheticPlan
from eeg_hba.synthetic.signals import render

HIGH_VOTE_EXPERTS = 10
#: Public facts about train.csv (sources: docs/synthetic_data.md).
PUBLIC = {
    "rows": 106_800,
    "eegs": 17_089,
    "spectrograms": 11_138,
    "patients": 1_950,
    "share of rows with 1-7 votes": 0.626,
    "share of rows with 10-28 votes": 0.374,
    "pattern types per patient": 2.0,
}
_IIIC = [c for c in CLASSES if c != "Other"]


def agreement_kind(targets: pd.DataFrame) -> pd.Series:
    """Each EEG's agreement level, from its vote shares (``*_target`` columns):

    - idealized: the top class has at least 0.9 of the votes;
    - proto: Other and exactly one IIIC pattern each hold 0.3-0.7;
    - edge: two IIIC patterns each hold at least 0.25;
    - other: anything else.
    """
    shares = targets[list(TARGET_COLUMNS)].to_numpy()
    other = shares[:, CLASSES.index("Other")]
    iiic = shares[:, [CLASSES.index(c) for c in _IIIC]]
    in_band = (iiic >= 0.3) & (iiic <= 0.7)
    kind = np.full(len(shares), "other", dtype=object)
    kind[(iiic >= 0.25).sum(axis=1) >= 2] = "edge"
    kind[(other >= 0.3) & (other <= 0.7) & (in_band.sum(axis=1) == 1)] = "proto"
    kind[shares.max(axis=1) >= 0.9] = "idealized"
    return pd.Series(kind, index=targets.index, name="agreement")


def label_statistics(plan: SyntheticPlan) -> dict[str, pd.DataFrame | dict]:
    """The numbers of the realism profile, from train.csv as generated."""
    train = plan.train
    experts = train[list(VOTE_COLUMNS)].sum(axis=1)
    table = build_label_table(train, HIGH_VOTE_EXPERTS)
    high = table[table["high_vote"]]
    vote_range = pd.cut(experts, [0, 7, 9, 28], labels=["1-7", "8-9", "10-28"])
    class_shares = (
        pd.crosstab(vote_range, train["expert_consensus"], normalize="index")
        .reindex(columns=list(CLASSES), fill_value=0.0)
        .rename_axis(index="votes", columns=None)
    )
    consensus_per_patient = table.groupby("patient_id")["expert_consensus"].nunique()
    repeated = train.groupby("eeg_id")[list(VOTE_COLUMNS)].nunique().max(axis=1).eq(1)
    one_type = train.groupby("eeg_id")["expert_consensus"].nunique().eq(1)
    centres = high.groupby("expert_consensus")[list(TARGET_COLUMNS)].mean()
    centres = centres.reindex(list(CLASSES)).set_axis(list(CLASSES), axis=1)
    summary = {
        "rows": len(train),
        "eegs": len(table),
        "spectrograms": int(train["spectrogram_id"].nunique()),
        "patients": int(train["patient_id"].nunique()),
        "share of rows with 1-7 votes": float(experts.between(1, 7).mean()),
        "share of rows with 10-28 votes": float(experts.between(10, 28).mean()),
        "pattern types per patient": float(consensus_per_patient.mean()),
        "EEGs per patient": float(len(table) / table["patient_id"].nunique()),
        "EEGs whose sub-windows repeat the same votes": float(repeated.mean()),
        "EEGs with one consensus class": float(one_type.mean()),
    }
    agreement = agreement_kind(high).value_counts(normalize=True)
    agreement = agreement.reindex(["idealized", "proto", "edge", "other"], fill_value=0.0)
    return {
        "summary": summary,
        "vote_counts": experts.value_counts().sort_index(),
        "class_shares": class_shares,
        "agreement": agreement,
        "patterns_per_patient": consensus_per_patient.value_counts().sort_index(),
        "class_centres": centres,
    }


def _markdown_table(frame: pd.DataFrame, digits: int = 2) -> str:
    return frame.round(digits).to_markdown()


def profile_report(plan: SyntheticPlan, statistics: dict) -> str:
    """The realism profile as Markdown: generated numbers next to the public ones."""
    summary = statistics["summary"]
    rows = [(name, value, PUBLIC.get(name, "")) for name, value in summary.items()]
    comparison = pd.DataFrame(rows, columns=["", "synthetic", "public train.csv"]).set_index("")
    agreement = statistics["agreement"].rename("share of EEGs with >= 10 experts").to_frame()
    return "\n\n".join(
        [
            "# Synthetic data: realism profile",
            f"Preset sizes: {summary['rows']} rows, {summary['eegs']} EEGs, "
            f"seed {plan.config.seed}. Public figures and their sources: "
            "docs/synthetic_data.md. Figure: synthetic_profile.png.",
            "## Sizes and label structure\n\n" + comparison.to_markdown(floatfmt=".3g"),
            "## Class shares (expert consensus) by number of experts\n\n"
            "Public: very few seizures among the 10-28-vote rows, far more among 1-7.\n\n"
            + _markdown_table(statistics["class_shares"]),
            "## Agreement of EEGs with at least 10 experts\n\n"
            "The IIIC labels were collected around idealized, proto and edge cases "
            "(Jing et al. 2023); each must be at least 10 %.\n\n" + _markdown_table(agreement),
            "## Class centres (mean vote shares of EEGs with >= 10 experts, by consensus)\n\n"
            "Public: centres carry a strong Other admixture (an LRDA centre near 70 % "
            "LRDA, 15 % Other).\n\n" + _markdown_table(statistics["class_centres"]),
            "## Spectrograms\n\nPublic grid and units: 4 regions x 100 bins "
            "(k * 200/1024 Hz, k = 3..102), a frame every 2 s centred at odd seconds, "
            "region = mean power (µV²/Hz) of its 4 bipolar chains, NaN where the EEG is; "
            "multitaper estimate (2 DPSS tapers, NW = 1.5, 5.12 s).",
        ]
    )


# --- the figure ----------------------------------------------------------------------------


def class_examples(plan: SyntheticPlan) -> dict[str, tuple[Recording, int]]:
    """For each class, the high-vote EEG whose consensus is that class most clearly:
    its recording and the centre (s) of its middle sub-window."""
    table = build_label_table(plan.train, HIGH_VOTE_EXPERTS)
    episodes = {e.eeg_id: (r, e) for r in plan.train_recordings for e in r.episodes}
    examples = {}
    for k, name in enumerate(CLASSES):
        candidates = table[table["expert_consensus"] == name]
        if candidates.empty:
            continue
        best = candidates.iloc[int(np.argmax(candidates[TARGET_COLUMNS[k]]
                                             + candidates["high_vote"]))]  # fmt: skip
        recording, _ = episodes[int(best["eeg_id"])]
        examples[name] = (recording, int(best["spectrogram_label_offset_seconds"]) + HALF_WINDOW)
    return examples


def profile_figure(plan: SyntheticPlan, statistics: dict) -> Figure:
    """Vote counts, class shares, agreement and patterns per patient, then for each class
    10 s of bipolar EEG and the 10-minute spectrogram around a clear example."""
    examples = class_examples(plan)
    figure = Figure(figsize=(16, 4 + 2.6 * len(examples)))
    grid = figure.add_gridspec(1 + len(examples), 4, height_ratios=[1.3] + [1] * len(examples))
    _summary_panels(figure, grid, statistics)
    for row, (name, (recording, centre)) in enumerate(examples.items(), start=1):
        signal = render(recording.timeline, plan.config, centre - HALF_WINDOW,
                        centre + HALF_WINDOW).T  # fmt: skip
        middle = slice((HALF_WINDOW - 5) * EEG_SAMPLING_HZ, (HALF_WINDOW + 5) * EEG_SAMPLING_HZ)
        _eeg_panel(figure.add_subplot(grid[row, :2]), signal[middle], name)
        _spectrogram_panel(figure.add_subplot(grid[row, 2:]), signal, name)
    figure.tight_layout()
    return figure


def _summary_panels(figure: Figure, grid, statistics: dict) -> None:
    counts = statistics["vote_counts"]
    axis = figure.add_subplot(grid[0, 0])
    axis.bar(counts.index, counts.to_numpy() / counts.sum(), color="tab:blue")
    axis.set_title("experts per row (public: 62.6 % 1-7, 37.4 % 10-28)", fontsize=9)
    axis.set_xlabel("experts")
    shares = statistics["class_shares"]
    axis = figure.add_subplot(grid[0, 1])
    bottom = np.zeros(len(shares))
    for name in CLASSES:
        axis.bar(shares.index.astype(str), shares[name], bottom=bottom, label=name)
        bottom += shares[name].to_numpy()
    axis.set_title("consensus by experts (public: few seizures at 10-28)", fontsize=9)
    axis.legend(fontsize=6, ncol=2)
    agreement = statistics["agreement"]
    axis = figure.add_subplot(grid[0, 2])
    axis.bar(agreement.index, agreement.to_numpy(), color="tab:green")
    axis.axhline(0.1, color="grey", linestyle="--")
    axis.set_title("agreement, EEGs with >= 10 experts (each >= 10 %)", fontsize=9)
    per_patient = statistics["patterns_per_patient"]
    axis = figure.add_subplot(grid[0, 3])
    axis.bar(per_patient.index, per_patient.to_numpy(), color="tab:purple")
    axis.set_title("consensus classes per patient (public: about 2)", fontsize=9)


def _eeg_panel(axis, window: np.ndarray, name: str) -> None:
    """10 s of the 16 bipolar chains, LL, RL, LP, RP from the top."""
    chains = bipolar_signals(window).reshape(-1, window.shape[0])
    labels = [f"{a}-{c}" for r in REGIONS for a, c in bipolar_pairs(r)]
    t = np.arange(window.shape[0]) / EEG_SAMPLING_HZ
    spacing = 150.0
    for k, chain in enumerate(chains):
        axis.plot(t, np.clip(chain, -1000, 1000) - k * spacing, color="black", linewidth=0.5)
    axis.set_yticks(-spacing * np.arange(len(labels)), labels, fontsize=5)
    axis.set_xlim(0, t[-1])
    axis.set_title(f"{name}: 10 s of bipolar EEG at the labelled centre", fontsize=9)


def _spectrogram_panel(axis, signal: np.ndarray, name: str) -> None:
    """The 600 s window's four region spectrograms (log power), stacked LL, RL, LP, RP."""
    power, _ = region_power(signal)
    stacked = np.log(np.clip(np.concatenate(list(power[:, ::-1, :]), axis=0), np.exp(-4), None))
    axis.imshow(stacked, aspect="auto", cmap="magma", extent=(0, 600, 0, stacked.shape[0]))
    axis.set_yticks(
        [(3.5 - k) * len(SPECTROGRAM_FREQUENCIES) for k in range(4)], list(REGIONS), fontsize=7
    )
    axis.axvline(300, color="cyan", linewidth=0.5)
    axis.set_title(f"{name}: 10-minute spectrogram (0.6-20 Hz per region)", fontsize=9)
