"""The ensemble as an MLflow pyfunc model: rows of a ``test.csv`` in, the submission out.

It does what ``kedro run --pipelines=predict`` does, with the same functions: the rows are
checked as test.csv is, the raw files they name are read and checked, cut into model
inputs and predicted by the members (the backbones from the images, the 1-D network from
the signals, the classical baseline from the features), blended with the ensemble
weights. No Kedro imports.

A request names rows, never paths: the files are read only under the data root fixed
when the server starts (the ``EEG_HBA_DATA_ROOT`` environment variable, else the HMS
folder the model was logged with), as ``test_eegs/<eeg_id>.parquet`` and
``test_spectrograms/<spectrogram_id>.parquet``, the ids checked as plain integers first.
Errors name files relative to ``<data root>``, never a server path, and a request holds
at most ``max_request_rows`` rows.

Nothing is pickled: MLflow logs the model as code (``ensemble_model_code.py`` builds it when the
model is loaded), the ``eeg_hba`` package travels with it as a code path, the backbones as
``.keras`` files loaded in Keras' safe mode, the classical baseline as a skops file loaded
with the project's own list of trusted types, the weights as JSON and the settings in the
MLmodel file.
"""

import json
import os
import tempfile
from collections.abc import Callable
from functools import cache, partial
from importlib.metadata import version
from pathlib import Path

import keras
import mlflow
import pandas as pd
import pyarrow.parquet as pq
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

from eeg_hba import lazy_module
from eeg_hba.hms.contract import (
    HmsContractError,
    parse_test_windows,
    recorded_violations,
    referenced_file_violations,
)
from eeg_hba.hms.layout import SPECTROGRAM_TIME_COLUMN, SUBMISSION_COLUMNS, TEST_COLUMNS
from eeg_hba.hms.windows import WindowError, read_layout
from eeg_hba.preprocessing.model_inputs import FeatureConfig
from eeg_hba.preprocessing.shards import (
    compute_shard,
    model_input_index,
    plan_rows,
    recorded_problems,
    shard_jobs,
)
from eeg_hba.serving.prediction import Member, predict_submission
from eeg_hba.training.inputs import model_input

#: scikit-learn loads only when an ensemble holding the classical baseline is saved or loaded.
classical = lazy_module("eeg_hba.training.classical")

DATA_ROOT_ENV = "EEG_HBA_DATA_ROOT"
#: What requests once named: now refused with a 400 (MLflow would drop an unknown one
#: silently, and the caller would believe a folder was read).
FOLDER_PARAM = "raw_data_dir"
#: How errors name the data root: the server's own paths are not the caller's business.
DATA_ROOT_NAME = "<data root>"
WEIGHTS_ARTIFACT = "ensemble_weights"
REQUEST = "request"  # how errors about the request's own rows name their source
#: What the package imports on the way to a prediction, pinned to the versions that logged it.
REQUIREMENTS = (
    "mlflow", "tensorflow", "keras", "numpy", "pandas", "pyarrow", "scipy", "scikit-learn",
    "pandera", "skops",
)  # fmt: skip
SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("long", column) for column in TEST_COLUMNS]),
    outputs=Schema([ColSpec("long" if c == "eeg_id" else "double", c) for c in SUBMISSION_COLUMNS]),
    params=ParamSchema([ParamSpec(FOLDER_PARAM, "string", None)]),
)


def _bad_request(message: str) -> MlflowException:
    """An error the scoring server answers with 400 and ``message``, not a stack trace."""
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def _parquet_loaders(
    folder: Path, file_ids: pd.Series, read: Callable[[str], object]
) -> dict[str, Callable[[], object]]:
    """``{id: loader}`` of the files that exist, as Kedro's PartitionedDataset gives them."""
    paths = {str(i): folder / f"{i}.parquet" for i in file_ids.unique()}
    return {i: partial(read, str(path)) for i, path in paths.items() if path.is_file()}


def _save_member(model: Member, folder: Path, name: str) -> str:
    """``model`` as a file in ``folder``: a ``.keras`` file or a classical ``.skops`` one."""
    if isinstance(model, keras.Model):
        path = folder / f"{name}.keras"
        model.save(path)
    else:
        path = folder / f"{name}.skops"
        path.write_bytes(classical.dump_classical_model(model))
    return str(path)


def _load_member(path: Path) -> Member:
    """What ``_save_member`` wrote, loaded without running code from the file."""
    if path.suffix == ".skops":
        return classical.load_classical_model(path.read_bytes())
    return keras.saving.load_model(path, safe_mode=True)


class EnsembleModel(mlflow.pyfunc.PythonModel):
    """The members blended with the ensemble weights, from raw HMS test files."""

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self.weights = json.loads(Path(context.artifacts[WEIGHTS_ARTIFACT]).read_text())
        self.models = {
            name: _load_member(Path(context.artifacts[name]))
            for name, weight in self.weights.items()
            if weight > 0
        }
        settings = context.model_config
        self.features = FeatureConfig(**settings["features"])
        self.shard_size = settings["shard_size"]
        self.batch_size = settings["batch_size"]
        self.max_all_nan_channels = settings["max_all_nan_channels"]
        self.max_request_rows = settings["max_request_rows"]
        self.data_root = Path(os.environ.get(DATA_ROOT_ENV) or settings["data_root"])

    def predict(
        self,
        context: mlflow.pyfunc.PythonModelContext,
        model_input: pd.DataFrame,
        params: dict | None = None,
    ) -> pd.DataFrame:
        """``eeg_id`` + six ``*_vote`` probabilities per row of ``model_input`` (test.csv's
        columns), in its order; a bad row or file raises an ``INVALID_PARAMETER_VALUE``
        error naming it (files relative to the data root). A request naming a folder
        (``raw_data_dir``) is refused; MLflow drops any other params."""
        if (params or {}).get(FOLDER_PARAM) is not None:
            raise _bad_request(
                f"{FOLDER_PARAM} is not accepted: a request names test rows, and the server "
                "reads their files only under the data root it was started with"
            )
        if len(model_input) > self.max_request_rows:
            raise _bad_request(
                f"a request may hold at most {self.max_request_rows} rows, this one holds "
                f"{len(model_input)}: send them in several requests"
            )
        try:
            return self._submission(model_input)
        except (HmsContractError, WindowError) as error:
            # a reader's error (a corrupt file) may quote the file's path
            raise _bad_request(str(error).replace(str(self.data_root), DATA_ROOT_NAME)) from error

    def _submission(self, requested: pd.DataFrame) -> pd.DataFrame:
        # checked as test.csv is: read as text, every cell against the contract; rows are
        # named by their position in the request
        windows = parse_test_windows(requested.reset_index(drop=True).astype(str), REQUEST)
        windows = windows.rename_axis("row").reset_index()
        eegs, spectrograms = self.data_root / "test_eegs", self.data_root / "test_spectrograms"
        # as ingestion does: every file checked from its footer first; errors name the
        # files under the data root's name, not its path
        violations = referenced_file_violations(
            windows.set_index("row"), REQUEST, DATA_ROOT_NAME, "test",
            _parquet_loaders(eegs, windows["eeg_id"], read_layout),
            _parquet_loaders(spectrograms, windows["spectrogram_id"],
                             partial(read_layout, columns=[SPECTROGRAM_TIME_COLUMN])),
        )  # fmt: skip
        if violations:
            raise HmsContractError(violations)
        # then, as the preprocessing pass does, each file read once: windows checked, cut
        plan = plan_rows(windows, self.shard_size)
        jobs = shard_jobs(
            plan, _parquet_loaders(spectrograms, windows["spectrogram_id"], pq.read_table),
            _parquet_loaders(eegs, windows["eeg_id"], pq.read_table), self.features,
            self.max_all_nan_channels,
        )  # fmt: skip
        # computed when first read, once for all the backbones
        shards = {job.name: cache(partial(compute_shard, job)) for job in jobs}
        violations = recorded_violations(recorded_problems(shards), REQUEST, DATA_ROOT_NAME, "test")
        if violations:
            raise HmsContractError(violations)
        index = model_input_index(windows, shards)
        return predict_submission(
            windows, index, shards, self.models, self.weights, self.batch_size
        )


def check_members_take(models: dict[str, Member], features: dict) -> None:
    """Raises ``ValueError`` naming every Keras member whose input is not what ``features``
    (the settings the model inputs were made with) makes: the served model would cut
    inputs of one shape and feed a model built for another."""
    config = FeatureConfig(**features)
    made = {"images": (config.image_height, config.image_width, 1), "signals": config.signal_shape}
    wrong = [
        f"{name} takes {key} of shape {shape}, the settings make {made[key]}"
        for name, model in sorted(models.items())
        if isinstance(model, keras.Model)
        for key, shape in [model_input(model)]
        if tuple(shape) != tuple(made[key])
    ]
    if wrong:
        raise ValueError(
            "the ensemble's members do not take the model inputs preprocessing made ("
            + "; ".join(wrong)
            + "): run preprocessing and training with the same preprocessing parameters"
        )


def log_ensemble_model(
    models: dict[str, Member], weights: dict[str, float], settings: dict, example: pd.DataFrame
) -> str:
    """The ensemble as a pyfunc model of the active run, named ``ensemble``; returns the
    LoggedModel's id.

    ``settings`` are what prediction needs besides the models (``features``,
    ``shard_size``, ``batch_size``, ``max_all_nan_channels``, ``max_request_rows``, and
    ``data_root``: the HMS folder served when ``EEG_HBA_DATA_ROOT`` names none);
    ``example``, rows of test.csv there, is the input example, which MLflow predicts once
    on logging.
    """
    with tempfile.TemporaryDirectory() as folder:
        artifacts = {WEIGHTS_ARTIFACT: str(Path(folder) / "ensemble_weights.json")}
        Path(artifacts[WEIGHTS_ARTIFACT]).write_text(json.dumps(weights))
        for name, weight in weights.items():
            if weight > 0:
                artifacts[name] = _save_member(models[name], Path(folder), name)
        info = mlflow.pyfunc.log_model(
            name="ensemble",
            python_model=Path(__file__).with_name("ensemble_model_code.py"),
            artifacts=artifacts,
            model_config=settings,
            code_paths=[str(Path(__file__).parents[1])],
            signature=SIGNATURE,
            input_example=example[list(TEST_COLUMNS)],
            pip_requirements=[f"{name}=={version(name)}" for name in REQUIREMENTS],
        )
    return info.model_id
