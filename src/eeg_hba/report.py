"""The comparison report: every model and baseline on the held-out split. No Kedro imports."""

import numpy as np
import pandas as pd

from eeg_hba.evaluation import CONFIDENCE

#: Report columns in order; a model without a value (e.g. a baseline's training time) is blank.
COLUMNS = (
    "model", "kind", "kl_all", "kl_all_ci_low", "kl_all_ci_high", "kl_all_sd",
    "kl_high_vote", "kl_high_vote_ci_low", "kl_high_vote_ci_high", "kl_high_vote_sd",
    "accuracy", "accuracy_sd", "validation_kl", "validation_kl_ci_low", "validation_kl_ci_high",
    "validation_rows", "beats_classical", "beats_class_prior",
    "seeds", "parameters", "training_seconds", "windows_per_second", "rows", "high_vote_rows",
)  # fmt: skip


def comparison_table(scores: dict[str, dict]) -> pd.DataFrame:
    """One row per model, best held-out KL first (ranks within an interval are not a result:
    the ``beats_*`` columns say which differences are)."""
    rows = [{"model": name, **values} for name, values in scores.items()]
    table = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    return table.sort_values("kl_all", kind="stable").reset_index(drop=True)


def _with_interval(table: pd.DataFrame, metric: str) -> pd.Series:
    """``0.512 ± 0.020 [0.43, 0.60]``: mean over seeds ± sd over seeds [95 % interval]."""

    def cell(row: pd.Series) -> str:
        if pd.isna(row[metric]):
            return ""
        text = f"{row[metric]:.3f}"
        if row.get(f"{metric}_sd", 0) and row["seeds"] > 1:
            text += f" ± {row[f'{metric}_sd']:.3f}"
        if not pd.isna(row.get(f"{metric}_ci_low", np.nan)):
            text += f" [{row[f'{metric}_ci_low']:.3f}, {row[f'{metric}_ci_high']:.3f}]"
        return text

    return table.apply(cell, axis=1)


def comparison_markdown(table: pd.DataFrame, ensemble: dict | None = None) -> str:
    """The report as Markdown: the table, then what its columns and verdicts mean."""
    shown = pd.DataFrame(
        {
            "model": table["model"],
            "kind": table["kind"],
            "held-out KL": _with_interval(table, "kl_all"),
            "high-vote KL": _with_interval(table, "kl_high_vote"),
            "accuracy": table["accuracy"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}"),
            "validation KL (out-of-fold)": _with_interval(table, "validation_kl"),
            "beats classical": table["beats_classical"].fillna(""),
            "beats class prior": table["beats_class_prior"].fillna(""),
            "seeds": table["seeds"].map(lambda v: "" if pd.isna(v) else str(int(v))),
        }
    )
    held_out = int(table["rows"].max())
    level = f"{CONFIDENCE:.0%}"
    lines = [
        "# Model comparison on the held-out split",
        "",
        f"{held_out} held-out EEGs of patients no model trained on. KL divergence as the "
        "leaderboard computed it (lower is better): mean over training seeds ± sd over "
        f"seeds, [{level} interval from a bootstrap over patients]. *Beats* is a paired "
        f"bootstrap of the per-EEG KL difference: **yes** when its {level} interval is "
        "below zero, **tie** when it contains zero, **no (worse)** when above. The "
        "validation KL is each model's out-of-fold score on the validation folds it "
        "trained with (rows it never trained on; every training EEG when all K folds are "
        "trained).",
        "",
        shown.to_markdown(index=False),
        "",
    ]
    if ensemble is not None:
        lines += [ensemble_sentence(ensemble), ""]
    return "\n".join(lines)


#: The reference that says what the signal networks add: the ensemble refitted without them.
WITHOUT_SIGNALS = "ensemble_without_signal_networks"


def _difference(scores: dict, reference: str) -> str:
    """The mean KL difference against ``reference`` and its interval, as text."""
    key = f"kl_difference_vs_{reference}"
    return f"{scores[key]:+.3f} [{scores[f'{key}_ci_low']:+.3f}, {scores[f'{key}_ci_high']:+.3f}]"


def ensemble_sentence(ensemble: dict) -> str:
    """Whether the ensemble earns its place over its best member, and whether the signal
    networks earn theirs in it (against the ensemble refitted without them)."""
    sentences = [_best_member_sentence(ensemble)]
    verdict = ensemble.get(f"beats_{WITHOUT_SIGNALS}")
    if verdict is not None:
        difference = _difference(ensemble, WITHOUT_SIGNALS)
        sentences.append(
            {
                "yes": "With the 1-D signal network the ensemble scores better than refitted "
                f"without it: KL difference {difference}.",
                "tie": "With the 1-D signal network the ensemble does not score better than "
                f"refitted without it, with confidence: KL difference {difference}.",
            }.get(
                verdict,
                "With the 1-D signal network the ensemble scores worse than refitted "
                f"without it: KL difference {difference}.",
            )
        )
    return " ".join(sentences)


def _best_member_sentence(ensemble: dict) -> str:
    verdict = ensemble.get("beats_best_member")
    best = ensemble.get("best_member")
    difference = _difference(ensemble, "best_member")
    if verdict == "yes":
        return f"The ensemble beats its best member, {best}: KL difference {difference}."
    if verdict == "tie":
        return (
            f"The ensemble does not beat its best member, {best}, with confidence: KL "
            f"difference {difference} contains zero, so their order above is noise."
        )
    return f"The ensemble is worse than its best member, {best}: KL difference {difference}."
