"""Figures for reports and MLflow. No Kedro imports.

Figures are built as ``matplotlib.figure.Figure`` objects, never through pyplot, so no
GUI backend is needed and the caller's backend is left alone.
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def training_curve(
    history: pd.DataFrame, title: str, class_prior: dict[int, float] | None = None
) -> Figure:
    """Training and validation KL per epoch of every model run (seed, fold), where stage 2
    (fine-tuning on high-vote rows) starts, and each fold's ``class_prior`` validation KL
    (where a model that learned nothing stays) as a reference line."""
    figure = Figure(figsize=(7, 4))
    axis = figure.subplots()
    runs = history.groupby(["seed", "fold"], sort=True) if "seed" in history else [("", history)]
    for number, (run, epochs) in enumerate(runs):
        color = f"C{number % 10}"
        label = "" if run == "" else f"seed {run[0]}, fold {run[1]}: "
        axis.plot(epochs["epoch"] + 1, epochs["loss"], color=color, linestyle=":",
                  label=f"{label}training")  # fmt: skip
        axis.plot(epochs["epoch"] + 1, epochs["val_loss"], color=color, marker="o",
                  markersize=3, label=f"{label}validation")  # fmt: skip
    first = next(iter(runs))[1]
    for start in first.loc[first["stage"].ne(first["stage"].shift()), "epoch"].iloc[1:]:
        axis.axvline(start + 0.5, color="grey", linestyle="--")
    for fold, kl in sorted((class_prior or {}).items()):
        axis.axhline(kl, color="black", linestyle="-.", linewidth=1,
                     label=f"class prior, validation fold {fold} ({kl:.3f})")  # fmt: skip
    axis.set_xlabel("epoch (dashed line: fine-tuning on high-vote rows starts)")
    axis.set_ylabel("KL divergence")
    axis.legend(loc="upper right", fontsize=7)
    axis.set_title(title)
    figure.tight_layout()
    return figure


def confusion_figure(confusion: pd.DataFrame, title: str) -> Figure:
    """Expert consensus against predicted class, counts annotated."""
    figure = Figure(figsize=(5.5, 4.5))
    axis = figure.subplots()
    axis.imshow(confusion.to_numpy(), cmap="Blues")
    axis.set_xticks(range(len(confusion.columns)), confusion.columns, rotation=45)
    axis.set_yticks(range(len(confusion.index)), confusion.index)
    axis.set_xlabel("predicted (most probable class)")
    axis.set_ylabel("expert consensus")
    for (row, column), count in np.ndenumerate(confusion.to_numpy()):
        axis.text(column, row, int(count), ha="center", va="center", fontsize=8)
    axis.set_title(title)
    figure.tight_layout()
    return figure


def reliability_figure(reliability: pd.DataFrame, title: str) -> Figure:
    """Calibration: mean target share against mean predicted probability per bin."""
    figure = Figure(figsize=(4.5, 4.5))
    axis = figure.subplots()
    axis.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfectly calibrated")
    axis.plot(reliability["predicted"], reliability["observed"], marker="o", label="model")
    axis.set_xlabel("predicted probability")
    axis.set_ylabel("observed share of expert votes")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.legend(loc="upper left")
    axis.set_title(title)
    figure.tight_layout()
    return figure


def comparison_figure(report: pd.DataFrame) -> Figure:
    """Held-out KL (all rows and high-vote rows) of every model, best first, with the
    95 % patient-bootstrap intervals as error bars, and the class prior's and the classical
    baseline's held-out KL as reference lines; the legend sits below the bars."""
    ordered = report.sort_values("kl_all")
    figure = Figure(figsize=(7, 0.45 * len(ordered) + 1.5))
    axis = figure.subplots()
    positions = np.arange(len(ordered))
    for offset, metric, label in ((-0.2, "kl_all", "all held-out EEGs"),
                                  (0.2, "kl_high_vote", "high-vote EEGs")):  # fmt: skip
        errors = np.abs(
            ordered[[f"{metric}_ci_low", f"{metric}_ci_high"]].to_numpy(float).T
            - ordered[metric].to_numpy(float)
        )
        axis.barh(positions + offset, ordered[metric], height=0.4, label=label,
                  xerr=np.nan_to_num(errors), capsize=2)  # fmt: skip
    by_model = ordered.set_index("model")["kl_all"]
    for reference, style in (("class prior", "--"), ("classical", ":")):
        if reference in by_model:
            axis.axvline(by_model[reference], color="black", linestyle=style, linewidth=1,
                         label=f"{reference} ({by_model[reference]:.3f})")  # fmt: skip
    axis.set_yticks(positions, ordered["model"])
    axis.invert_yaxis()
    axis.set_xlabel("KL divergence on the held-out split, 95 % interval (lower is better)")
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.6 / figure.get_figheight()),
                ncol=2, fontsize=8)  # fmt: skip
    figure.tight_layout()
    return figure
