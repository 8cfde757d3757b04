"""MLflow models: every backbone a LoggedModel (Keras flavour, signature, linked held-out
metrics), the ensemble a pyfunc model that predicts the submission from raw HMS files,
each registered with its data set, commit and a champion alias; the ensemble served."""

import json
import os
import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from eeg_hba.hms.layout import VOTE_COLUMNS
from eeg_hba.serving.ensemble_model import check_members_take, log_ensemble_model
from eeg_hba.serving.prediction import predict_windows
from eeg_hba.training.model_kinds import MODELS, input_key

from .servers import HOST, free_port, serving

pytestmark = pytest.mark.slow
ENSEMBLE = "models:/eeg_hba-ensemble@champion"
SERVE_START_SECONDS = 300  # TensorFlow's import alone takes a while on a busy machine


@pytest.fixture(scope="module")
def client(trained_project: Path) -> Iterator[mlflow.MlflowClient]:
    """The tiny project's store, also for ``models:/`` URIs, as a user's session sets it."""
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{trained_project / 'mlflow.db'}")
    yield mlflow.MlflowClient()
    mlflow.set_tracking_uri(previous)


def _experiment_id(client: mlflow.MlflowClient) -> str:
    return client.get_experiment_by_name("eeg_hba").experiment_id


def test_every_keras_model_is_a_logged_model_with_its_holdout_metrics(client, trained_project):
    report = pd.read_csv(trained_project / "data/08_reporting/comparison_report.csv")
    holdout_kl = report.set_index("model")["kl_all"]
    shards = sorted((trained_project / "data/05_model_input/train_inputs/shards").glob("*.npz"))
    stored = np.load(shards[0])
    for name in MODELS:  # a backbone takes an image (H, W, 1), the 1-D model signals (T, 16)
        example = stored[input_key(name)][:1].astype(np.float32)
        example = example[..., None] if input_key(name) == "images" else example
        (logged,) = client.search_logged_models(
            [_experiment_id(client)], filter_string=f"name = '{name}'"
        )
        info = mlflow.models.get_model_info(f"models:/{logged.model_id}")
        assert {"keras", "python_function"} <= set(info.flavors)
        (inputs,) = info.signature.inputs.to_dict()
        assert inputs["tensor-spec"]["shape"] == (-1, *example.shape[1:])
        (outputs,) = info.signature.outputs.to_dict()
        assert outputs["tensor-spec"]["shape"] == (-1, 6)
        assert info.saved_input_example_info["type"] == "ndarray"
        # the few scores MLflow's Models view shows beside it; every score is on its run
        metrics = {m.key: m.value for m in logged.metrics}
        assert metrics["holdout_kl_all"] == pytest.approx(holdout_kl[name])
        assert set(metrics) == {
            "holdout_kl_all", "holdout_kl_all_ci_low", "holdout_kl_all_ci_high",
            "holdout_kl_high_vote", "holdout_kl_difference_vs_class_prior",
        }  # fmt: skip
        assert "holdout_accuracy" in client.get_run(logged.source_run_id).data.metrics
        # the logged model is the backbone's model: the same predictions as the catalog's
        served = mlflow.pyfunc.load_model(f"models:/{logged.model_id}").predict(example)
        assert np.asarray(served).shape == (1, 6)


def test_every_model_is_registered_with_data_set_commit_and_champion(client):
    for name in (*MODELS, "ensemble"):
        champion = client.get_model_version_by_alias(f"eeg_hba-{name}", "champion")
        assert champion.tags["data_set"].startswith("data/01_raw/synthetic #")
        assert champion.tags["git_commit"]
        kl = float(champion.tags["holdout_kl_all"])
        assert kl > 0
        # described: what the model is, and what this version scored on which data
        assert client.get_registered_model(f"eeg_hba-{name}").description.startswith(f"{name} (")
        assert champion.description.startswith(f"Held-out KL {kl:.3f} [")
        assert champion.tags["data_set"] in champion.description


@pytest.fixture(scope="module")
def raw_folder(trained_project: Path) -> Path:
    return trained_project / "data/01_raw/synthetic"


@pytest.fixture(scope="module")
def submission(trained_project: Path) -> pd.DataFrame:
    return pd.read_csv(trained_project / "data/07_model_output/submission.csv")


@pytest.fixture(scope="module")
def ensemble(client) -> mlflow.pyfunc.PyFuncModel:
    return mlflow.pyfunc.load_model(ENSEMBLE)


def test_the_ensemble_is_a_logged_pyfunc_model_with_its_holdout_metrics(
    client, trained_project
):
    report = pd.read_csv(trained_project / "data/08_reporting/comparison_report.csv")
    (logged,) = client.search_logged_models(
        [_experiment_id(client)], filter_string="name = 'ensemble'"
    )
    info = mlflow.models.get_model_info(f"models:/{logged.model_id}")
    assert set(info.flavors) == {"python_function"}
    assert "model_code_path" in info.flavors["python_function"]  # code, not a pickle
    assert [c["name"] for c in info.signature.inputs.to_dict()] == [
        "spectrogram_id", "eeg_id", "patient_id"
    ]  # fmt: skip
    # a request carries rows; the one param there is, a folder, is refused
    assert [p["name"] for p in info.signature.params.to_dict()] == ["raw_data_dir"]
    metrics = {m.key: m.value for m in logged.metrics}
    assert metrics["holdout_kl_all"] == pytest.approx(
        report.set_index("model").loc["ensemble", "kl_all"]
    )
    champion = client.get_model_version_by_alias("eeg_hba-ensemble", "champion")
    assert champion.source == f"models:/{logged.model_id}"


def test_the_registered_ensemble_predicts_the_submission_from_the_raw_folder(
    ensemble, raw_folder, submission
):
    test = pd.read_csv(raw_folder / "test.csv")
    predicted = ensemble.predict(test)  # read under the data root it was logged with
    pd.testing.assert_frame_equal(predicted, submission, check_exact=False, rtol=0, atol=1e-6)
    # a folder a request names is never read: refused, named nowhere in the answer
    for folder in ("/etc", "../..", str(raw_folder.parent.parent)):
        with pytest.raises(MlflowException) as named_folder:
            ensemble.predict(test, params={"raw_data_dir": folder})
        assert named_folder.value.error_code == "INVALID_PARAMETER_VALUE"
        assert "raw_data_dir is not accepted" in named_folder.value.message
        assert folder not in named_folder.value.message.replace("raw_data_dir", "")
    # other params are dropped by MLflow (the signature has none of them)
    ignored = ensemble.predict(test, params={"data_root": "/etc"})
    pd.testing.assert_frame_equal(ignored, submission, check_exact=False, rtol=0, atol=1e-6)


def test_the_served_model_runs_the_signal_network_from_raw_files(
    ensemble, trained_project, raw_folder, tmp_path
):
    """Whatever weight the tiny run gave it: an ensemble of the 1-D network alone, logged as
    the pipeline logs the ensemble (its settings), predicts from the raw test files what the
    network predicts from the test shards preprocessing wrote. Logged in a store of its own:
    the tiny project's runs are what other tests count."""
    name = "resnet1d_raw_eeg"
    (path,) = (trained_project / f"data/06_models/{name}/model.keras").glob("*/model.keras")
    network = keras.saving.load_model(path, safe_mode=True)
    test = pd.read_csv(raw_folder / "test.csv")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:  # an experiment of this store: the active one may belong to another test's store
        experiment_id = mlflow.MlflowClient().create_experiment("served signal network")
        with mlflow.start_run(experiment_id=experiment_id):
            model_id = log_ensemble_model({name: network}, {name: 1.0}, ensemble.model_config,
                                          test.head(1))  # fmt: skip
        served = mlflow.pyfunc.load_model(f"models:/{model_id}").predict(test)
    finally:
        mlflow.set_tracking_uri(previous)
    inputs = trained_project / "data/05_model_input/test_inputs"
    shards = {p.stem: (lambda p=p: dict(np.load(p))) for p in (inputs / "shards").glob("*.npz")}
    expected = predict_windows(network, shards, pd.read_parquet(inputs / "index.parquet"), 8)
    expected = expected.set_index("eeg_id").loc[test["eeg_id"], list(VOTE_COLUMNS)]
    np.testing.assert_allclose(served[list(VOTE_COLUMNS)], expected, rtol=0, atol=1e-6)
    assert served[list(VOTE_COLUMNS)].std().max() > 0  # not one row repeated


def test_a_bad_request_is_an_invalid_parameter_naming_the_problem_and_no_server_path(
    ensemble, raw_folder
):
    test = pd.read_csv(raw_folder / "test.csv")
    unknown = test.head(1).assign(eeg_id=987654321)
    with pytest.raises(MlflowException) as missing_file:
        ensemble.predict(unknown)
    assert missing_file.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "<data root>/test_eegs/987654321.parquet does not exist" in missing_file.value.message
    assert str(raw_folder) not in missing_file.value.message
    with pytest.raises(MlflowException) as missing_column:
        ensemble.predict(test.drop(columns="patient_id"))
    assert missing_column.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "missing inputs ['patient_id']" in missing_column.value.message
    # an id is a number, not a path: a path never reaches the file system
    with pytest.raises(MlflowException) as path_as_id:
        ensemble.predict(test.head(1).astype(object).assign(eeg_id="../../../etc/passwd"))
    assert str(raw_folder) not in path_as_id.value.message
    too_many = ensemble.model_config["max_request_rows"] + 1
    with pytest.raises(MlflowException, match=f"at most {too_many - 1} rows") as too_large:
        ensemble.predict(test.sample(too_many, replace=True, random_state=0))
    assert too_large.value.error_code == "INVALID_PARAMETER_VALUE"


def _post(url: str, body: dict) -> tuple[int, str]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_mlflow_models_serve_answers_with_the_submission_and_a_4xx_naming_a_missing_file(
    trained_project, raw_folder, submission, tmp_path
):
    port = free_port()
    venv = Path(sys.executable).parent
    command = [
        str(venv / "mlflow"), "models", "serve", "-m", ENSEMBLE, "--env-manager", "local",
        "-h", HOST, "-p", str(port),
    ]  # fmt: skip
    # the data root is fixed when the server starts: here a copy of the HMS folder
    data_root = shutil.copytree(raw_folder, tmp_path / "served-hms-folder")
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{trained_project / 'mlflow.db'}",
        "PATH": f"{venv}{os.pathsep}{os.environ['PATH']}",  # it starts the venv's uvicorn
        "EEG_HBA_DATA_ROOT": str(data_root),
    }
    test = pd.read_csv(raw_folder / "test.csv")
    folder = {"raw_data_dir": "/etc"}  # refused: a request cannot choose a folder
    log = tmp_path / "serve.log"
    with serving(command, port, "/ping", log, env, SERVE_START_SECONDS) as url:
        rows = {"dataframe_split": test.to_dict(orient="split", index=False)}
        status, body = _post(f"{url}/invocations", rows)
        assert status == 200, body
        served = pd.DataFrame(json.loads(body)["predictions"])
        pd.testing.assert_frame_equal(served, submission, check_exact=False, rtol=0, atol=1e-6)

        status, body = _post(f"{url}/invocations", {**rows, "params": folder})
        assert status == 400 and "raw_data_dir is not accepted" in body, body
        assert "/etc" not in body

        unknown = test.head(1).assign(eeg_id=987654321)
        status, body = _post(
            f"{url}/invocations", {"dataframe_split": unknown.to_dict(orient="split", index=False)}
        )
        assert 400 <= status < 500, body
        assert "<data root>/test_eegs/987654321.parquet does not exist" in body
        assert str(data_root) not in body and str(raw_folder) not in body
        assert "Traceback" not in body


def test_logging_refuses_members_built_for_other_model_inputs(trained_project):
    """The served model makes its inputs with the settings preprocessing recorded; a
    member built for another image size is named before anything is logged."""
    settings = json.loads(
        (trained_project / "data/05_model_input/model_input_settings.json").read_text()
    )
    images = keras.Input((settings["features"]["image_height"], 8, 1), name="images")
    other_width = keras.Model(images, keras.layers.Dense(6)(keras.layers.Flatten()(images)))
    check_members_take({"classical": object()}, settings["features"])  # not a Keras model
    with pytest.raises(ValueError, match=r"wide_one takes images of shape \(32, 8, 1\), the settings make \(32, 32, 1\)"):
        check_members_take({"wide_one": other_width}, settings["features"])
