"""Learning on the project's own data: a backbone (from the images) and the 1-D network
(from the raw signals), trained from scratch on the synthetic HMS data, beat the class
prior on their validation patients, and do not when learning is broken (learning rate 0,
targets shuffled between training windows)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from eeg_hba.evaluation.scores import class_prior_baseline, evaluate
from eeg_hba.preprocessing.splits import ModelRun, fold_rows
from eeg_hba.serving.prediction import predict_windows
from eeg_hba.training.inputs import stored_shape
from eeg_hba.training.model_kinds import input_key
from eeg_hba.training.two_stage import train_model_run

from .projects import kedro_run, make_project, training_config

#: Small enough for CI, large enough to learn from: 200 EEGs of 40 patients, every
#: sub-window an image of the default layout (96 x 64: at 64 x 32 the validation KL of the
#: same recipe stayed within 4 % of the prior, 1.071 against 1.115).
LEARNING_DATA = {
    "synthetic": {"presets": {"default": {
        "n_patients": 40, "n_spectrograms": 120, "n_eegs": 200, "n_rows": 1250,
        "n_test_patients": 2, "n_test_eegs": 3,
    }}},
    "preprocessing": {"shard_size": 64},
}  # fmt: skip
RUN = ModelRun(seed=42, fold=0)
#: Each model's recipe here: the fastest backbone, and the 1-D network (a fraction of its
#: time per epoch).
RECIPES = {
    "mobilenet_v3_large": {"epochs": 10, "learning_rate": 2e-3},
    "resnet1d_raw_eeg": {"epochs": 10, "learning_rate": 2e-3},
}


@pytest.fixture(scope="module")
def learning_data(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Shards, model-input index and label table written by a real ``kedro run``."""
    project = make_project(tmp_path_factory.mktemp("learning") / "project")
    kedro_run(project, "synthetic", **LEARNING_DATA)
    kedro_run(project, "ingestion,preprocessing", **LEARNING_DATA)
    inputs = project / "data/05_model_input"
    files = sorted((inputs / "train_inputs/shards").glob("*.npz"))
    shards = {path.stem: dict(np.load(path)) for path in files}
    index = pd.read_parquet(inputs / "train_inputs/index.parquet")
    return shards, index, pd.read_parquet(inputs / "label_table.parquet")


def _shuffled_training_targets(shards: dict, index: pd.DataFrame, seed: int) -> dict:
    """The shards with the targets of fold ``RUN.fold``'s training images permuted among
    them: images and targets no longer belong together."""
    shuffled = {name: {**a, "targets": a["targets"].copy()} for name, a in shards.items()}
    train, _ = fold_rows(index, RUN.fold)
    places = list(zip(train["shard"], train["position"], strict=True))
    targets = np.array([shards[s]["targets"][p] for s, p in places])
    permuted = targets[np.random.default_rng(seed).permutation(len(targets))]
    for (shard, position), target in zip(places, permuted, strict=True):
        shuffled[shard]["targets"][position] = target
    return shuffled


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model_name", "broken", "learns"),
    [
        ("mobilenet_v3_large", None, True),
        # learning rate 0 fails the same threshold for both (the 1-D network's case is the
        # cheaper); shuffled targets, which a network can memorise, is tried on each
        ("mobilenet_v3_large", "shuffled targets", False),
        ("resnet1d_raw_eeg", None, True),
        ("resnet1d_raw_eeg", "learning rate 0", False),
        ("resnet1d_raw_eeg", "shuffled targets", False),
    ],
)
def test_a_model_beats_the_class_prior_on_validation_patients(
    learning_data, tmp_path: Path, model_name: str, broken: str | None, learns: bool
):
    shards, index, label_table = learning_data
    if broken == "shuffled targets":
        shards = _shuffled_training_targets(shards, index, seed=0)
    stage1 = RECIPES[model_name]
    if broken == "learning rate 0":
        stage1 = {**stage1, "learning_rate": 0.0}
    config = training_config(
        backbone=model_name, early_stopping_patience=None, stage1=stage1,
        stage2={"epochs": 0, "learning_rate": 0.0}, min_learning_rate=0.0,
    )  # fmt: skip
    loaders = {name: (lambda arrays=arrays: arrays) for name, arrays in shards.items()}
    shape = stored_shape(loaders, input_key(model_name))
    model, _ = train_model_run(
        RUN, loaders, index, shape, config, tf.distribute.get_strategy(), tmp_path
    )
    _, validation = fold_rows(index, RUN.fold)
    rows = label_table[label_table["eeg_id"].isin(validation["eeg_id"])]
    predicted = evaluate(rows, predict_windows(model, loaders, validation, 64))["kl_all"]
    prior = evaluate(rows, class_prior_baseline(label_table, rows["eeg_id"]))["kl_all"]
    print(f"{model_name} {broken or 'learning'}: validation KL {predicted:.3f}, "
          f"class prior {prior:.3f}")  # fmt: skip
    assert (predicted < 0.85 * prior) is learns
