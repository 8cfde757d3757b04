"""Project hooks."""

import logging
from pathlib import Path

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from eeg_hba.pipelines import synthetic

logger = logging.getLogger(__name__)


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
