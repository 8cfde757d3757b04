"""The comparison report: every model and baseline on the held-out split. No Kedro imports."""

import numpy as np
import pandas as pd

from eeg_hba.evaluation.scores import CONFIDENCE

#: Report columns in order; a model without a value (e.g. a baseline's training time) is blank.
COLUMNS = (
    "model", "kind", "kl_all", "kl_all_ci_low", "kl_all_ci_high", "kl_all_sd",
    "kl_high_vote", "kl_high_vote_ci_low", "kl_high_vote_ci_high", "kl_high_vote_sd",
    "accuracy", "accuracy_sd", "validation_kl", "validation_kl_ci_low", "validation_kl_ci_high",
    "validation_rows", "beats_classical", "beats_class_prior",
    "seeds", "parameters", "training_seconds", "windows_per_second", "rows", "high_vote_rows",
    "top_probability_min", "top_probability_max", "predicted_classes",
)  # fmt: skip


def comparison_table(scores: dict[str, dict]) -> pd.DataFrame:
    """One row per model, best held-out KL first (ranks within an interval are not a result:
    the ``beats_*`` columns say which differences are)."""
    rows = [{"model": name, **values} for name, values in scores.items()]
    table = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    return table.sort_values("kl_all", kind="stable").reset_index(drop=True)


def _with_interval_cell(row: pd.Series, metric: str) -> str:
    """``0.512 ± 0.020 [0.43, 0.60]``: mean over seeds ± sd over seeds [95 % interval]."""
    if pd.isna(row[metric]):
        return ""
    text = f"{row[metric]:.3f}"
    if row.get(f"{metric}_sd", 0) and row["seeds"] > 1:
        text += f" ± {row[f'{metric}_sd']:.3f}"
    if not pd.isna(row.get(f"{metric}_ci_low", np.nan)):
        text += f" [{row[f'{metric}_ci_low']:.3f}, {row[f'{metric}_ci_high']:.3f}]"
    return text


def _with_interval(table: pd.DataFrame, metric: str) -> pd.Series:
    """``_with_interval_cell`` of every row."""
    return table.apply(_with_interval_cell, axis=1, metric=metric)


#: The baselines' rows of the table, by name.
CLASS_PRIOR, ORACLE = "class prior", "oracle (latent truth)"
#: A model whose top probability spans less than this over the held-out EEGs predicts
#: about the same distribution for every one of them.
NEAR_CONSTANT = 0.1


def _predictions_look(row: pd.Series) -> str:
    """What a model's held-out predictions look like, in a few words."""
    low, high = row["top_probability_min"], row["top_probability_max"]
    classes = str(row["predicted_classes"])
    if pd.isna(low):
        return ""
    shape = "near-constant, " if high - low < NEAR_CONSTANT else ""
    one_class = "," not in classes
    said = f"always {classes.rsplit(' ', 1)[0]}" if one_class else f"predicts {classes}"
    return f" ({shape}top probability {low:.2f}-{high:.2f}; {said})"


def verdict(table: pd.DataFrame, context: dict, ensemble: dict | None = None) -> str:
    """The report's first paragraph: which models learned (beat the class prior with
    confidence), which did not and what their predictions look like, the best model, the
    ensemble's place and weights, and what this run was (``context``: ``data``,
    ``image_size``, ``ensemble_weights``). Read from the table, so it cannot disagree."""
    models = table[~table["kind"].isin(["baseline", "ensemble"])]
    learned = models[models["beats_class_prior"] == "yes"]
    others = models[models["beats_class_prior"] != "yes"]
    rows = int(table["rows"].max())
    seeds = int(models["seeds"].max()) if not models.empty else 1
    lines = [
        f"**Verdict.** {context['data']}; {rows} held-out EEGs; images "
        f"{context['image_size']}; {seeds} training seed{'s' if seeds > 1 else ''}.",
    ]
    level = f"{CONFIDENCE:.0%}"
    if learned.empty:
        lines.append(f"No model beats the class prior with {level} confidence: none learned.")
    else:
        names = ", ".join(f"{r.model} {r.kl_all:.3f}" for r in learned.itertuples())
        lines.append(f"Learned (beat the class prior with {level} confidence): {names}.")
    if not others.empty:
        described = "; ".join(
            f"{row['model']}, "
            + ("ties the prior" if row["beats_class_prior"] == "tie" else "worse than the prior")
            + _predictions_look(row)
            for _, row in others.iterrows()
        )
        lines.append(f"Did not learn: {described}.")
    if not models.empty:
        best = models.iloc[0]  # the table is sorted by held-out KL
        sentence = f"Best model: {best['model']}, held-out KL {_with_interval_cell(best, 'kl_all')}"
        by_name = table.set_index("model")
        if {CLASS_PRIOR, ORACLE} <= set(by_name.index):
            prior, oracle = by_name.loc[CLASS_PRIOR, "kl_all"], by_name.loc[ORACLE, "kl_all"]
            share = (prior - best["kl_all"]) / (prior - oracle)
            sentence += (
                f", {share:.0%} of the way from the class prior ({prior:.3f}) to the "
                f"oracle ({oracle:.3f})"
            )
        lines.append(sentence + ".")
    if ensemble is not None:
        lines.append(ensemble_sentence(ensemble))
    weights = context.get("ensemble_weights")
    if weights:
        shares = sorted(weights.items(), key=lambda item: -item[1])
        lines.append(
            "Ensemble weights: " + ", ".join(f"{name} {w:.2f}" for name, w in shares) + "."
        )
    return " ".join(lines)


def comparison_markdown(
    table: pd.DataFrame, ensemble: dict | None = None, verdict_paragraph: str | None = None
) -> str:
    """The report as Markdown: the verdict paragraph (``verdict``), the table, then what its
    columns and verdicts mean."""
    shown = pd.DataFrame(
        {
            "model": table["model"],
            "kind": table["kind"],
            "held-out KL": _with_interval(table, "kl_all"),
            "high-vote KL": _with_interval(table, "kl_high_vote"),
            "accuracy": table["accuracy"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}"),
            "validation KL (out-of-fold)": _with_interval(table, "validation_kl"),
            "beats classical": table["beats_classical"].astype(object).fillna(""),
            "beats class prior": table["beats_class_prior"].astype(object).fillna(""),
            "seeds": table["seeds"].map(lambda v: "" if pd.isna(v) else str(int(v))),
        }
    )
    held_out = int(table["rows"].max())
    level = f"{CONFIDENCE:.0%}"
    lines = [
        "# Model comparison on the held-out split",
        "",
        *([verdict_paragraph, ""] if verdict_paragraph is not None else []),
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
    if ensemble is not None and verdict_paragraph is None:  # else the verdict says it
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
