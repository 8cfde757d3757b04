"""Preprocessing as a Spark job (local mode) writes the shards of the single-machine path."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")

from eeg_hba.preprocessing.spark import spark_session

from .projects import TINY_SYNTHETIC
from .test_preprocessing import _shards

SPARK = {"master": "local[2]", "config": {"spark.ui.enabled": "false"}}


@pytest.fixture(scope="module")
def spark():
    """One local session for the module; the pipeline's ``getOrCreate`` reuses it."""
    session = spark_session(**SPARK)
    yield session
    session.stop()


def written_model_inputs(project: Path) -> tuple[dict, pd.DataFrame]:
    """What preprocessing wrote: every shard's arrays per window set, and the index."""
    shards = {ns: _shards(project, ns) for ns in ("train_inputs", "test_inputs")}
    return shards, pd.read_parquet(project / "data/05_model_input/train_inputs/index.parquet")


def assert_same_model_inputs(written: tuple[dict, pd.DataFrame], expected: tuple) -> None:
    """The same shards holding the same arrays, bit for bit, and the same index."""
    pd.testing.assert_frame_equal(written[1], expected[1])
    assert written[0].keys() == expected[0].keys()
    for namespace, shards in expected[0].items():
        assert written[0][namespace].keys() == shards.keys()
        for name, arrays in shards.items():
            assert written[0][namespace][name].keys() == arrays.keys()
            for key, array in arrays.items():
                np.testing.assert_array_equal(written[0][namespace][name][key], array, name)


@pytest.mark.slow
def test_spark_job_writes_the_same_shards_as_worker_processes(spark, run_pipeline, kedro_project):
    tiny = {"synthetic": {"presets": {"default": TINY_SYNTHETIC}}}
    small_images = {"shard_size": 4, "features": {"image_height": 32, "image_width": 32}}
    run_pipeline("synthetic", **tiny)
    run_pipeline("ingestion", **tiny)
    run_pipeline("preprocessing", **tiny, preprocessing={**small_images, "workers": 2})
    local = written_model_inputs(kedro_project)
    shutil.rmtree(kedro_project / "data/05_model_input")  # the Spark run writes every shard anew

    run_pipeline(
        "preprocessing", **tiny, preprocessing={**small_images, "engine": "spark", "spark": SPARK}
    )

    assert len(local[0]["train_inputs"]) > 1  # several tasks
    assert_same_model_inputs(written_model_inputs(kedro_project), local)
