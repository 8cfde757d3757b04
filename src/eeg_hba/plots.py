"""Figures for reports and MLflow. No Kedro imports."""

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def training_curve(history: pd.DataFrame, title: str) -> Figure:
    """Training and validation KL per epoch, the learning rate, and where stage 2 starts."""
    figure, loss_axis = plt.subplots(figsize=(7, 4))
    loss_axis.plot(history["epoch"] + 1, history["loss"], marker="o", label="training KL")
    loss_axis.plot(history["epoch"] + 1, history["val_loss"], marker="o", label="validation KL")
    loss_axis.set_xlabel("epoch")
    loss_axis.set_ylabel("KL divergence")
    stage_starts = history.loc[history["stage"].ne(history["stage"].shift()), "epoch"].iloc[1:]
    for start in stage_starts:
        loss_axis.axvline(
            start + 0.5, color="grey", linestyle="--", label="fine-tune on high-vote rows"
        )
    rate_axis = loss_axis.twinx()
    rate_axis.plot(history["epoch"] + 1, history["learning_rate"], color="tab:green", alpha=0.5)
    rate_axis.set_ylabel("learning rate", color="tab:green")
    rate_axis.set_yscale("log")
    loss_axis.legend(loc="upper right")
    loss_axis.set_title(title)
    figure.tight_layout()
    return figure


def confusion_figure(confusion: pd.DataFrame, title: str) -> Figure:
    """Expert consensus against predicted class, counts annotated."""
    figure, axis = plt.subplots(figsize=(5.5, 4.5))
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
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
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
    """Test KL (all rows and high-vote rows) of every model and baseline, best first."""
    ordered = report.sort_values("kl_all")
    figure, axis = plt.subplots(figsize=(7, 0.45 * len(ordered) + 1.5))
    positions = np.arange(len(ordered))
    axis.barh(positions - 0.2, ordered["kl_all"], height=0.4, label="all test rows")
    axis.barh(positions + 0.2, ordered["kl_high_vote"], height=0.4, label="high-vote rows")
    axis.set_yticks(positions, ordered["model"])
    axis.invert_yaxis()
    axis.set_xlabel("KL divergence on the held-out test split (lower is better)")
    axis.legend(loc="lower right")
    figure.tight_layout()
    return figure
