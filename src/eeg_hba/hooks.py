"""Project hooks."""

import logging
from datetime import datetime
from pathlib import Path

import mlflow
from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from eeg_hba import run_lock
from eeg_hba.training.multi_worker import chief_only

logger = logging.getLogger(__name__)
#: Held by the run in progress (inside the project folder, as every output it writes).
RUN_LOCK = "data/.kedro_run.lock"


class RunLockHook:
    """One run per project folder at a time (``eeg_hba.run_lock``): taken before anything
    else of a run (before kedro-mlflow starts its MLflow run), given back when it ends.
    Each non-chief worker of a multi-worker training locks its own scratch folder, as it
    writes there."""

    @staticmethod
    def _path(run_params: dict) -> Path:
        return Path(chief_only(str(Path(run_params["project_path"]) / RUN_LOCK)))

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict) -> None:
        run_lock.acquire(self._path(run_params))

    @hook_impl
    def after_pipeline_run(self, run_params: dict) -> None:
        run_lock.release(self._path(run_params))

    @hook_impl
    def on_pipeline_error(self, run_params: dict) -> None:
        run_lock.release(self._path(run_params))


class RunNameHook:
    """Names the MLflow run of a ``kedro run`` after what it ran, on which data and when
    (``evaluation+predict+train_all on data/01_raw/synthetic, 2026-12-08 01:02``):
    kedro-mlflow names it after the pipelines alone (``__default__``)."""

    @hook_impl(trylast=True)  # after kedro-mlflow has started the run
    def before_pipeline_run(self, run_params: dict, catalog: DataCatalog) -> None:
        if mlflow.active_run() is None:  # tracking switched off for this pipeline
            return
        # sorted: Kedro passes the names of --pipelines in no fixed order
        pipelines = "+".join(sorted(run_params.get("pipeline_names") or ["__default__"]))
        data = catalog.load("params:raw_data_dir")
        mlflow.set_tag("mlflow.runName", f"{pipelines} on {data}, {datetime.now():%Y-%m-%d %H:%M}")


class EmbeddedDataHook:
    """Stops, before anything runs, a run that reads the embedded synthetic folder while it
    holds no complete data set (no manifest), saying how to make one.

    Generating the data is a step of its own, the ``synthetic`` pipeline, so that kedro viz
    and the run's log show it; this hook never runs it behind the user's back. A raw
    folder elsewhere (real data) is not checked here: ingestion names what it lacks.
    """

    @hook_impl(tryfirst=True)  # registered after RunLockHook: runs before the lock is taken
    def before_pipeline_run(
        self, run_params: dict, pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        if not any(name.startswith("raw_") for name in pipeline.inputs()):
            return
        if "synthetic_manifest" in pipeline.all_outputs():
            # nothing orders the generator before the readers of the folder it writes
            raise MissingDataError(
                "Generate the synthetic data set in a run of its own "
                "(`kedro run --pipelines=synthetic`), then run the pipelines that read it."
            )
        raw = Path(catalog.load("params:raw_data_dir")).resolve()
        embedded = Path(catalog.load("params:synthetic_data_dir")).resolve()
        if raw != embedded or catalog.exists("synthetic_manifest"):
            return
        names = ",".join(run_params.get("pipeline_names") or ["__default__"])
        raise MissingDataError(
            f"No data set in {raw} yet. Generate the embedded synthetic one first with "
            f"`kedro run --pipelines=synthetic`, then `kedro run --pipelines={names}` again; "
            "or point raw_data_dir at an HMS folder: "
            "`kedro run --params=raw_data_dir=/path/to/hms`."
        )


class MissingDataError(RuntimeError):
    """A run would read a raw HMS folder that holds no data set."""
