"""Training: learns on a learnable set; train_all tracked in MLflow end to end."""

import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from mlflow.tracking import MlflowClient

from eeg_hba.evaluation.metrics import kl_divergence
from eeg_hba.evaluation.plots import training_curve
from eeg_hba.hms.layout import CLASSES, VOTE_COLUMNS
from eeg_hba.preprocessing.splits import ModelRun, fold_rows
from eeg_hba.training.inputs import model_input, prediction_order, window_dataset
from eeg_hba.training.model_kinds import MODELS
from eeg_hba.training.two_stage import (
    StageConfig,
    class_prior_validation_kl,
    cosine_learning_rate,
    distribution_strategy,
    train_model_run,
)

from .projects import PROJECT_ROOT, TINY_RUN, kedro_run, training_config

LEARNABLE = 64  # the learnable set: at 32 x 32 a backbone's last feature map is 1 x 1
BACKBONE = "mobilenet_v3_large"  # the fastest backbone, where one stands for all


def _learnable_shards(n: int = 240, seed: int = 0) -> tuple[dict, pd.DataFrame]:
    """Images whose bright row band says the dominant class; soft targets around it."""
    rng = np.random.default_rng(seed)
    dominant = rng.integers(0, len(CLASSES), n)
    targets = 0.2 * rng.dirichlet(np.ones(len(CLASSES)), n)
    targets[np.arange(n), dominant] += 0.8
    images = rng.normal(0, 0.3, (n, LEARNABLE, LEARNABLE)).astype(np.float32)
    for i, k in enumerate(dominant):
        images[i, 10 * k + 2 : 10 * k + 10, :] += 3.0
    patients = np.arange(n) // 4
    index = pd.DataFrame({
        "eeg_id": np.arange(n), "patient_id": patients,
        "split": np.where(patients % 10 == 9, "holdout", "train"),
        "fold": np.where(patients % 10 == 9, -1, patients % 3), "high_vote": rng.random(n) < 0.5,
        "shard": [f"shard-{i // 40:05d}" for i in range(n)], "position": np.arange(n) % 40,
    })  # fmt: skip
    shards = {
        name: (lambda s=slice(start, start + 40): {
            "images": images[s], "targets": targets[s].astype(np.float32), "eeg_id": np.arange(n)[s]})
        for name, start in zip(sorted(index["shard"].unique()), range(0, n, 40), strict=True)
    }  # fmt: skip
    return shards, index


def test_validation_kl_falls_below_the_class_prior_baseline(tmp_path):
    shards, index = _learnable_shards()
    config = training_config(
        # From scratch the validation KL sits at uniform for about five epochs before it
        # falls: no early stopping here, so what is measured is whether it learns.
        backbone="mobilenet_v3_large", batch_size=16, dropout=0.1, early_stopping_patience=None,
        stage1={"epochs": 12, "learning_rate": 2e-3}, stage2={"epochs": 0, "learning_rate": 1e-4},
        augment={"hemisphere_swap": 0, "time_shift": 0, "time_mask": 0, "frequency_mask": 0},
    )  # fmt: skip
    run = ModelRun(seed=1, fold=0)
    model, history = train_model_run(
        run, shards, index, (LEARNABLE, LEARNABLE), config, tf.distribute.get_strategy(), tmp_path
    )
    assert list(history.columns[:2]) == ["epoch", "stage"] and "learning_rate" in history

    train, validation = fold_rows(index, run.fold)
    ordered = prediction_order(validation)
    predictions = model.predict(
        window_dataset(shards, ordered, model_input(model), 16, with_targets=False), verbose=0
    )
    targets = np.concatenate(
        [
            shards[s]()["targets"][p][None]
            for s, p in zip(ordered["shard"], ordered["position"], strict=True)
        ]
    )
    train_targets = np.concatenate(
        [
            shards[s]()["targets"][p][None]
            for s, p in zip(train["shard"], train["position"], strict=True)
        ]
    )
    prior = np.tile(train_targets.mean(axis=0), (len(targets), 1))
    assert kl_divergence(
        targets, predictions.astype(np.float64) / predictions.sum(axis=1, keepdims=True)
    ) < 0.5 * kl_divergence(targets, prior)


def test_the_training_curve_draws_each_folds_class_prior_validation_kl():
    """Known answer: training windows Seizure and LPD (prior 1/2, 1/2), the validation EEG's
    middle image Seizure: KL = ln 2. The EEG's other images are not what training validates on."""
    seizure, lpd, gpd = np.eye(6, dtype=np.float32)[:3]
    shards = {"s0": lambda: {"targets": np.stack([seizure, lpd, gpd, seizure, gpd])}}
    index = pd.DataFrame({
        "shard": "s0", "position": range(5), "eeg_id": [1, 2, 3, 3, 3],
        "split": "train", "fold": [1, 1, 0, 0, 0],
    })  # fmt: skip
    kl = class_prior_validation_kl(shards, index, fold=0)
    assert kl == pytest.approx(math.log(2))
    history = pd.DataFrame({"epoch": [0, 1], "stage": "all rows", "loss": [1.0, 0.8],
                            "val_loss": [0.9, 0.7], "seed": 42, "fold": 0})  # fmt: skip
    (axis,) = training_curve(history, "a model", {0: kl}).axes
    lines = {line.get_label(): line.get_ydata()[0] for line in axis.get_lines()}
    assert lines["class prior, validation fold 0 (0.693)"] == pytest.approx(math.log(2))


def test_cosine_schedule_warms_up_then_decays_to_the_floor():
    """3 epochs at 1e-3 with 0.3 epochs of warm-up: linear up to 1e-3 at 0.3 epochs, half
    way down at 1.65 epochs, the floor at the stage's end, falling all the way."""
    stage = StageConfig(epochs=3, learning_rate=1e-3)
    rate = [cosine_learning_rate(t, stage, 0.3, 1e-6) for t in np.linspace(0, 3, 301)]
    assert rate[15] == pytest.approx(0.5e-3) and rate[30] == pytest.approx(1e-3)
    assert cosine_learning_rate(1.65, stage, 0.3, 0.0) == pytest.approx(0.5e-3)
    assert rate[-1] == pytest.approx(1e-6) and np.all(np.diff(rate[30:]) < 0)
    assert np.all(np.diff(rate[:31]) > 0) and min(rate) > 0


def _runs(client: MlflowClient) -> list:
    experiment = client.get_experiment_by_name("eeg_hba")
    return client.search_runs([experiment.experiment_id])


@pytest.mark.slow
def test_train_all_logs_a_run_per_backbone_with_a_nested_run_per_model(trained_project):
    client = MlflowClient(tracking_uri=f"sqlite:///{trained_project / 'mlflow.db'}")
    runs = _runs(client)
    # one `kedro run --pipelines=train_all,evaluation,predict`: one top-level run (and one
    # for the `kedro run --pipelines=synthetic` before it)
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags
                 and not r.info.run_name.startswith("synthetic ")]  # fmt: skip
    assert re.fullmatch(
        r"evaluation\+predict\+train_all on data/01_raw/synthetic, \d{4}-\d\d-\d\d \d\d:\d\d",
        parent.info.run_name,
    )
    children = {
        r.info.run_name: r
        for r in runs
        if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id
    }
    assert {*MODELS, "classical"} <= set(children)
    for child in (children[name] for name in [*MODELS, "classical"]):
        assert child.info.status == "FINISHED"
        if child.info.run_name == "classical":
            continue
        assert child.data.params["backbone"] == child.info.run_name
        assert int(child.data.params["parameter_count"]) > 0
        assert "training_curve.png" in {a.path for a in client.list_artifacts(child.info.run_id)}
        # per-epoch curves on the backbone's run too (the run its logged model links to)
        epochs = [m.step for m in client.get_metric_history(child.info.run_id, "val_loss")]
        assert epochs == list(range(len(epochs))) and len(epochs) >= 2
        (model_run,) = [
            r for r in runs if r.data.tags.get("mlflow.parentRunId") == child.info.run_id
        ]
        assert model_run.info.run_name == f"{child.info.run_name} seed-42_fold-0"
        for metric in ("loss", "val_loss", "learning_rate"):
            steps = [m.step for m in client.get_metric_history(model_run.info.run_id, metric)]
            assert steps == list(range(len(steps))) and len(steps) >= 2  # one per epoch
        models = trained_project / "data/06_models" / child.info.run_name
        assert len(list((models / "model.keras").iterdir())) == 1  # one version, via the catalog
        assert sorted(p.name for p in (models / "model_runs").iterdir()) == ["seed-42_fold-0.keras"]


@pytest.mark.slow
def test_evaluation_report_and_submission_after_training(trained_project):
    report = pd.read_csv(trained_project / "data/08_reporting/comparison_report.csv")
    baselines = {"uniform (1/6)", "class prior", "oracle (latent truth)"}
    assert set(report["model"]) == {*MODELS, "classical", "ensemble", *baselines}
    for _, row in report.iterrows():  # every KL inside its own 95 % patient interval
        assert row["kl_all_ci_low"] <= row["kl_all"] <= row["kl_all_ci_high"], row["model"]
    models = report[~report["model"].isin(baselines)]
    assert set(models["beats_class_prior"]) <= {"yes", "tie", "no (worse)"}
    assert report.loc[report["model"] == "classical", "beats_classical"].isna().all()
    assert report["validation_kl"].notna().sum() == len(MODELS) + 1  # and the classical model
    markdown = (trained_project / "data/08_reporting/comparison_report.md").read_text()
    assert "The ensemble" in markdown and "best member" in markdown
    # what the 1-D network adds: the ensemble against itself refitted without it
    assert "With the 1-D signal network the ensemble" in markdown
    without = json.loads(
        (trained_project / "data/06_models/ensemble_weights_without_signal_networks.json").read_text()
    )
    assert set(without) == {*MODELS, "classical"} - {"resnet1d_raw_eeg"}
    ensemble = json.loads((trained_project / "data/08_reporting/ensemble/holdout_scores.json").read_text())
    assert ensemble["beats_ensemble_without_signal_networks"] in {"yes", "tie", "no (worse)"}
    weights = json.loads((trained_project / "data/06_models/ensemble_weights.json").read_text())
    assert set(weights) == {*MODELS, "classical"}  # the classical baseline is a member
    assert sum(weights.values()) == pytest.approx(1)

    client = MlflowClient(tracking_uri=f"sqlite:///{trained_project / 'mlflow.db'}")
    by_name = {r.info.run_name: r for r in _runs(client)}
    for row in report.itertuples():  # the same numbers in MLflow
        assert by_name[row.model].data.metrics["holdout_kl_all"] == pytest.approx(row.kl_all)
    assert {"confusion_matrix.png", "reliability.png"} <= {
        a.path for a in client.list_artifacts(by_name["densenet121"].info.run_id)
    }

    submission = pd.read_csv(trained_project / "data/07_model_output/submission.csv")
    test = pd.read_csv(trained_project / "data/01_raw/synthetic/test.csv")
    assert list(submission.columns) == ["eeg_id", *VOTE_COLUMNS]
    assert submission["eeg_id"].tolist() == test["eeg_id"].tolist()
    np.testing.assert_allclose(submission[list(VOTE_COLUMNS)].sum(axis=1), 1.0, atol=1e-6)
    assert (submission[list(VOTE_COLUMNS)] >= 0).all().all()


def test_the_report_begins_with_a_verdict_that_agrees_with_its_table(trained_project):
    report = pd.read_csv(trained_project / "data/08_reporting/comparison_report.csv")
    markdown = (trained_project / "data/08_reporting/comparison_report.md").read_text()
    paragraphs = markdown.split("\n\n")
    assert paragraphs[0] == "# Model comparison on the held-out split"
    verdict = paragraphs[1]
    assert verdict.startswith("**Verdict.** ") and "12 labelled EEGs of 6 patients" in verdict
    models = report[~report["kind"].isin(["baseline", "ensemble"])]
    learned = set(models.loc[models["beats_class_prior"] == "yes", "model"])
    said_learned = verdict.split("confidence): ")[1].split(". ")[0] if learned else ""
    said_not = verdict.split("Did not learn: ")[1].split(". Best model")[0] if len(
        learned) < len(models) else ""  # fmt: skip
    for name in models["model"]:  # "learned" exactly when it beats the prior
        assert (name in said_learned) == (name in learned), name
        assert (name in said_not) == (name not in learned), name
    best = models.sort_values("kl_all").iloc[0]["model"]
    assert f"Best model: {best}, held-out KL {models['kl_all'].min():.3f}" in verdict
    assert "Ensemble weights: " in verdict
    # the same paragraph describes the kedro run in MLflow
    client = MlflowClient(tracking_uri=f"sqlite:///{trained_project / 'mlflow.db'}")
    (parent,) = [r for r in _runs(client) if "mlflow.parentRunId" not in r.data.tags
                 and not r.info.run_name.startswith("synthetic ")]  # fmt: skip
    assert parent.data.tags["mlflow.note.content"] == verdict


@pytest.mark.slow
def test_a_failing_backbone_run_ends_failed(run_pipeline, kedro_project):
    broken = {
        **TINY_RUN,
        "densenet121": {"training": {"backbone": "densenet121", "weights": "/no/such.h5"}},
    }
    run_pipeline("synthetic", **broken)
    with pytest.raises(
        Exception, match=r"weights file /no/such\.h5 for densenet121 does not exist"
    ):
        run_pipeline("train_densenet121", **broken)
    client = MlflowClient(tracking_uri=f"sqlite:///{kedro_project / 'mlflow.db'}")
    statuses = {r.info.run_name.split(" on ")[0]: r.info.status for r in _runs(client)}
    assert statuses == {
        "synthetic": "FINISHED", "train_densenet121": "FAILED", "densenet121": "FAILED",
        "densenet121 seed-42_fold-0": "FAILED",
    }  # fmt: skip


class _StepCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.steps = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.steps += 1


def _one_epoch_under(distribution: str) -> dict:
    """Build under the named strategy, train one epoch; what the tests check of it."""
    shards, index = _learnable_shards(n=40)
    config = training_config(
        backbone="mobilenet_v3_large", distribution=distribution, batch_size=8,
        stage1={"epochs": 1, "learning_rate": 1e-3}, stage2={"epochs": 0, "learning_rate": 1e-4},
    )  # fmt: skip
    strategy = distribution_strategy(config.distribution)
    counter = _StepCounter()
    with tempfile.TemporaryDirectory() as backup:
        model, history = train_model_run(
            ModelRun(42, 0), shards, index, (LEARNABLE, LEARNABLE), config, strategy,
            Path(backup), callbacks=[counter],
        )  # fmt: skip
    # every weight is a distributed variable, one copy per replica of this process
    copies = [
        [copy.numpy() for copy in strategy.experimental_local_results(weight.value)]
        for weight in model.weights
    ]
    resolver = getattr(strategy, "cluster_resolver", None)
    return {
        "strategy": next(  # its public tf.distribute name
            name
            for name in ("MultiWorkerMirroredStrategy", "MirroredStrategy", "Strategy")
            if isinstance(strategy, getattr(tf.distribute, name))
        ),
        "task_type": resolver.task_type if resolver else None,
        "replicas": strategy.num_replicas_in_sync,
        "local_copies": len(copies[0]),
        "copies_agree": all(np.array_equal(c[0], other) for c in copies for other in c),
        "training_rows": len(fold_rows(index, 0)[0]),
        "steps": counter.steps,
        "epochs": len(history),
        "finite_loss": bool(np.isfinite(history["loss"]).all()),
        # the output layer starts at zero (the uniform prediction): has it learnt?
        "moved": bool(np.abs(model.get_layer("classes").get_weights()[0]).sum() > 0),
    }


def _one_epoch_in_subprocess(
    distribution: str, cpu_devices: int = 1, env: dict[str, str] | None = None
) -> dict:
    """``_one_epoch_under`` in a fresh process whose CPU is split into ``cpu_devices``
    logical devices (fixed once TensorFlow initialises, hence the process)."""
    script = (
        "import json, tensorflow as tf\n"
        "cpu = tf.config.list_physical_devices('CPU')[0]\n"
        "tf.config.set_logical_device_configuration(\n"
        f"    cpu, [tf.config.LogicalDeviceConfiguration()] * {cpu_devices})\n"
        "from tests.test_training import _one_epoch_under\n"
        f"print('RESULT', json.dumps(_one_epoch_under({distribution!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.split("RESULT ", 1)[1])


@pytest.mark.parametrize("cpu_devices", [1, 2])
def test_training_steps_run_under_mirrored_strategy(cpu_devices):
    """Every other training test runs under the default strategy. On a machine without a
    GPU, ``mirrored`` replicates over the CPU's logical devices: here one, then two."""
    result = _one_epoch_in_subprocess("mirrored", cpu_devices)
    assert result["strategy"] == "MirroredStrategy"
    assert result["replicas"] == result["local_copies"] == cpu_devices
    # batch_size is per replica: each step takes 8 windows on every replica; with several
    # replicas only whole global batches are taken
    rows, global_batch = result["training_rows"], 8 * cpu_devices
    steps = math.ceil(rows / global_batch) if cpu_devices == 1 else rows // global_batch
    assert result["steps"] == steps >= 1
    assert result["copies_agree"]  # every replica holds the same weights, moving averages too
    assert result["epochs"] == 1 and result["finite_loss"] and result["moved"]


@pytest.mark.slow
def test_multi_worker_training_follows_tf_config():
    """A one-worker cluster from TF_CONFIG, as each machine of a real cluster is started."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tf_config = {
        "cluster": {"worker": [f"127.0.0.1:{port}"]},
        "task": {"type": "worker", "index": 0},
    }
    result = _one_epoch_in_subprocess(
        "multi_worker_mirrored", env={"TF_CONFIG": json.dumps(tf_config)}
    )
    assert result["strategy"] == "MultiWorkerMirroredStrategy"
    assert result["task_type"] == "worker" and result["replicas"] == 1
    assert result["epochs"] == 1 and result["moved"]


def test_unknown_distribution_is_named():
    with pytest.raises(ValueError, match=r"unknown distribution 'tpu'; choose one of \['default'"):
        distribution_strategy("tpu")


@pytest.mark.slow
def test_the_same_run_twice_gives_the_same_report(trained_project, tmp_path):
    """The same pipelines again, same parameters and seed, in a copy of the project: a
    backbone and the classical baseline retrain from the same raw files (ingestion and
    preprocessing run again too), yet every KL of the report, every submission probability
    and every weight of the retrained backbone is the same. (One backbone keeps the suite
    fast; all four train through the same code.)"""
    again = tmp_path / "again"
    shutil.copytree(trained_project, again)
    (again / "conf/local/mlflow.yml").write_text(
        f"server:\n  mlflow_tracking_uri: sqlite:///{again / 'mlflow.db'}\n"
    )
    kedro_run(again, f"train_{BACKBONE},classical,evaluation,predict", **TINY_RUN)
    first, second = (
        pd.read_csv(p / "data/08_reporting/comparison_report.csv").set_index("model")
        for p in (trained_project, again)
    )
    retrained = [BACKBONE, "classical"]
    assert (
        second.loc[retrained, "training_seconds"] != first.loc[retrained, "training_seconds"]
    ).all()
    kl_columns = [c for c in first if c.startswith(("kl_", "validation_kl"))]
    pd.testing.assert_frame_equal(second[kl_columns], first[kl_columns], rtol=0, atol=1e-6)
    submissions = [
        pd.read_csv(p / "data/07_model_output/submission.csv") for p in (trained_project, again)
    ]
    pd.testing.assert_frame_equal(submissions[1], submissions[0], rtol=0, atol=1e-6)
    weights = [  # the newest version of the backbone's model (the catalog versions it)
        keras.saving.load_model(
            sorted((p / f"data/06_models/{BACKBONE}/model.keras").glob("*/model.keras"))[-1]
        ).get_weights()
        for p in (trained_project, again)
    ]
    for retrained_weight, first_weight in zip(weights[1], weights[0], strict=True):
        np.testing.assert_array_equal(retrained_weight, first_weight)
