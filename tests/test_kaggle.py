"""The real-data setup (conf/kaggle) end to end on a small HMS folder, scaled down for a CPU.

The folder is the shared tiny project's synthetic one without its truth sidecar, placed
where conf/kaggle expects the competition data, so the run sees what a real-data user's
run sees. Each backbone loads a local no-top weights file through the same code path as
ImageNet's (``weights: <path>``).
"""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from eeg_hba.hms.layout import VOTE_COLUMNS
from eeg_hba.training.model_kinds import MODELS
from eeg_hba.training.models import BACKBONES

from .projects import TINY_RUN, kedro_run, make_project

pytestmark = pytest.mark.slow
SIZE = 32


def _no_top_weights(folder: Path) -> dict[str, str]:
    """A no-top weights file per backbone, as ``keras.applications`` would download."""
    folder.mkdir()
    paths = {}
    for name, application in BACKBONES.items():
        base = application(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3),
                           pooling="avg")  # fmt: skip
        paths[name] = str(folder / f"{name}_notop.weights.h5")
        base.save_weights(paths[name])
    return paths


def _copy_of_hms_folder(trained_project: Path, project: Path) -> None:
    """The tiny project's synthetic folder where conf/kaggle expects the competition data."""
    shutil.copytree(
        trained_project / "data/01_raw/synthetic",
        project / "data/01_raw/hms-harmful-brain-activity-classification",
    )


def test_kaggle_preprocesses_an_hms_folder_at_512_by_512(trained_project, tmp_path):
    project = make_project(tmp_path / "project")
    _copy_of_hms_folder(trained_project, project)
    kedro_run(project, "ingestion,preprocessing", env="kaggle")
    for window_set in ("train_inputs", "test_inputs"):
        shards = sorted((project / f"data/05_model_input/{window_set}/shards").glob("*.npz"))
        images = np.concatenate([np.load(shard)["images"] for shard in shards]).astype(np.float32)
        assert images.shape[1:] == (512, 512), window_set
        assert np.isfinite(images).all() and images.std() > 0


@pytest.fixture(scope="module")
def kaggle_project(trained_project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A project after ``kedro run --env=kaggle`` with sizes scaled down by runtime
    parameters: 32 x 32 images, 2 folds (all of them, as kaggle trains), one seed (several
    seeds' scores: ``tests/test_evaluation.py``), one epoch each, no fine-tuning stage or
    backups."""
    root = tmp_path_factory.mktemp("kaggle")
    project = make_project(root / "project")
    _copy_of_hms_folder(trained_project, project)
    weights = _no_top_weights(root / "weights")
    params = {
        **TINY_RUN,
        "preprocessing": {"shard_size": 8, "features": {"image_height": SIZE, "image_width": SIZE}},
        "training_defaults": {
            **TINY_RUN["training_defaults"], "folds": 2, "seeds": 1, "jit_compile": False,
            "stage1": {"epochs": 1}, "stage2": {"epochs": 0}, "backup_dir": None,
        },
        # a backbone's own block (e.g. mobilenet_v3_large's epochs) overrides training_defaults
        **{name: {"training": {"weights": path, "stage1": {"epochs": 1}}}
           for name, path in weights.items()},
        "resnet1d_raw_eeg": {"training": {"stage1": {"epochs": 1}}},  # no weights to load
    }  # fmt: skip
    kedro_run(project, "__default__", env="kaggle", **params)
    return {"project": project, "weights": weights}


def test_kaggle_runs_end_to_end_on_an_hms_folder(kaggle_project):
    project = kaggle_project["project"]
    submission = pd.read_csv(project / "data/07_model_output/submission.csv")
    test = pd.read_csv(project / "data/01_raw/hms-harmful-brain-activity-classification/test.csv")
    assert submission["eeg_id"].tolist() == test["eeg_id"].tolist()
    np.testing.assert_allclose(submission[list(VOTE_COLUMNS)].sum(axis=1), 1.0, atol=1e-6)
    report = pd.read_csv(project / "data/08_reporting/comparison_report.csv")
    # real data has no latent truth: no oracle row
    assert "oracle (latent truth)" not in set(report["model"])


def test_kaggle_trains_every_fold_and_reports_out_of_fold_scores(kaggle_project):
    project = kaggle_project["project"]
    for name in MODELS:
        runs = sorted(p.name for p in (project / f"data/06_models/{name}/model_runs").iterdir())
        assert runs == [f"seed-42_fold-{f}.keras" for f in (0, 1)]
    labels = pd.read_parquet(project / "data/05_model_input/label_table.parquet")
    report = pd.read_csv(project / "data/08_reporting/comparison_report.csv").set_index("model")
    trained = report.loc[[*MODELS, "classical"]]
    assert (trained["seeds"] == 1).all()
    # out-of-fold over every EEG of the training split: all K folds were trained
    assert (trained["validation_rows"] == (labels["split"] == "train").sum()).all()


def test_kaggle_loads_local_weights_through_the_imagenet_code_path(kaggle_project):
    client = MlflowClient(f"sqlite:///{kaggle_project['project'] / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("eeg_hba")
    for name, path in kaggle_project["weights"].items():
        (run,) = client.search_runs(
            [experiment.experiment_id], f"tags.backbone = '{name}'", max_results=1
        )
        assert run.data.params["weights"] == path
        assert run.data.params["input_shape"] == f"({SIZE}, {SIZE})"
