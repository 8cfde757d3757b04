"""The project's pipelines, written out explicitly so composite names work with --pipelines."""

from kedro.pipeline import Pipeline

from eeg_hba.pipelines import (
    classical,
    evaluation,
    ingestion,
    predict,
    preprocessing,
    synthetic,
    training,
)
from eeg_hba.training.model_kinds import MODELS


def register_pipelines() -> dict[str, Pipeline]:
    """``train_all`` (the four image backbones, the 1-D signal network and the classical
    baseline) and each ``train_<model>`` include the steps upstream of training;
    ``predict`` includes the test-window steps upstream of it, with the same code.

    The raw data comes from ``raw_data_dir``; the embedded synthetic data set is made by the
    ``synthetic`` pipeline (``kedro run --pipelines=synthetic``), a step of its own.
    """
    upstream = ingestion.create_pipeline() + preprocessing.create_pipeline()
    models = {name: training.create_pipeline(name) for name in MODELS}
    test_windows = ingestion.create_pipeline().only_nodes("validate_test_windows")
    test_inputs = preprocessing.create_pipeline().only_nodes_with_namespaces(["test_inputs"])
    pipelines = {
        "synthetic": synthetic.create_pipeline(),
        "ingestion": ingestion.create_pipeline(),
        "preprocessing": preprocessing.create_pipeline(),
        "classical": upstream + classical.create_pipeline(),
        "train_all": upstream + classical.create_pipeline() + sum(models.values(), Pipeline([])),
        **{f"train_{name}": upstream + pipeline for name, pipeline in models.items()},
        "evaluation": evaluation.create_pipeline(),
        "predict": test_windows + test_inputs + predict.create_pipeline(),
    }
    pipelines["__default__"] = (
        pipelines["train_all"] + pipelines["evaluation"] + pipelines["predict"]
    )
    return pipelines
