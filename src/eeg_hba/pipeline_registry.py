"""The project's pipelines, written out explicitly so composite names work with --pipelines."""

from kedro.pipeline import Pipeline

from eeg_hba.pipelines import ingestion, preprocessing, synthetic


def register_pipelines() -> dict[str, Pipeline]:
    pipelines = {
        "synthetic": synthetic.create_pipeline(),
        "ingestion": ingestion.create_pipeline(),
        "preprocessing": preprocessing.create_pipeline(),
    }
    pipelines["__default__"] = pipelines["ingestion"] + pipelines["preprocessing"]
    return pipelines
