"""Project hooks."""

import logging
from pathlib import Path

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from eeg_hba import run_lock
from eeg_hba.multi_worker import chief_only
from eeg_hba.pipelines import synthetic

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


class EmbeddedDataHook:
    """Makes the embedded default work on a fresh clone.

    Before a run that reads the raw HMS folder, when that folder is the synthetic one and
    holds no complete data set (no manifest), the ``synthetic`` pipeline runs first.
    A raw folder elsewhere (real data) is never written to.
    """

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict, pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        if not any(name.startswith("raw_") for name in pipeline.inputs()):
            return
        raw = Path(catalog.load("params:raw_data_dir")).resolve()
        embedded = Path(catalog.load("params:synthetic_data_dir")).resolve()
        if raw != embedded or catalog.exists("synthetic_manifest"):
            return
        logger.info("No synthetic data set in %s yet: running the 'synthetic' pipeline first", raw)
        SequentialRunner().run(synthetic.create_pipeline(), catalog)
