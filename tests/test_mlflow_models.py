"""MLflow models: every backbone a LoggedModel (Keras flavour, signature, linked held-out
metrics), registered with its data set, commit and a champion alias."""

from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from eeg_hba.models import BACKBONES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(trained_project: Path) -> Iterator[mlflow.MlflowClient]:
    """The tiny project's store, also for ``models:/`` URIs, as a user's session sets it."""
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{trained_project / 'mlflow.db'}")
    yield mlflow.MlflowClient()
    mlflow.set_tracking_uri(previous)


def _experiment_id(client: mlflow.MlflowClient) -> str:
    return client.get_experiment_by_name("eeg_hba").experiment_id


def test_every_backbone_is_a_logged_keras_model_with_its_holdout_metrics(
    client, trained_project
):
    report = pd.read_csv(trained_project / "data/08_reporting/comparison_report.csv")
    holdout_kl = report.set_index("model")["kl_all"]
    shards = sorted((trained_project / "data/05_model_input/train_inputs/shards").glob("*.npz"))
    image = np.load(shards[0])["images"][:1, ..., None].astype(np.float32)
    for name in BACKBONES:
        (logged,) = client.search_logged_models(
            [_experiment_id(client)], filter_string=f"name = '{name}'"
        )
        info = mlflow.models.get_model_info(f"models:/{logged.model_id}")
        assert {"keras", "python_function"} <= set(info.flavors)
        (inputs,) = info.signature.inputs.to_dict()
        assert inputs["tensor-spec"]["shape"] == (-1, *image.shape[1:])
        (outputs,) = info.signature.outputs.to_dict()
        assert outputs["tensor-spec"]["shape"] == (-1, 6)
        assert info.saved_input_example_info["type"] == "ndarray"
        metrics = {m.key: m.value for m in logged.metrics}
        assert metrics["holdout_kl_all"] == pytest.approx(holdout_kl[name])
        assert {"holdout_kl_all_ci_low", "holdout_kl_all_ci_high"} <= set(metrics)
        # the logged model is the backbone's model: the same predictions as the catalog's
        served = mlflow.pyfunc.load_model(f"models:/{logged.model_id}").predict(image)
        assert np.asarray(served).shape == (1, 6)


def test_every_backbone_is_registered_with_data_set_commit_and_champion(client):
    for name in BACKBONES:
        champion = client.get_model_version_by_alias(f"eeg_hba-{name}", "champion")
        assert champion.tags["data_set"].startswith("data/01_raw/synthetic #")
        assert champion.tags["git_commit"]
        assert float(champion.tags["holdout_kl_all"]) > 0
