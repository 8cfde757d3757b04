"""Preprocessing as a Spark job (local mode) writes the shards of the single-machine path."""

import shutil

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")

from eeg_hba.spark import spark_session

from .conftest import TINY_SYNTHETIC
from .test_preprocessing import _shards

SPARK = {"master": "local[2]", "config": {"spark.ui.enabled": "false"}}


@pytest.fixture(scope="module")
def spark():
    """One local session for the module; the pipeline's ``getOrCreate`` reuses it."""
    session = spark_session(**SPARK)
    yield session
    session.stop()


@pytest.mark.slow
def test_spark_job_writes_the_same_shards_as_worker_processes(spark, run_pipeline, kedro_project):
    tiny = {"synthetic": {"presets": {"default": TINY_SYNTHETIC}}}
    small_images = {"shard_size": 4, "features": {"image_height": 32, "image_width": 32}}
    model_inputs = kedro_project / "data/05_model_input"
    run_pipeline("ingestion", **tiny)
    run_pipeline("preprocessing", **tiny, preprocessing={**small_images, "workers": 2})
    local = {ns: _shards(kedro_project, ns) for ns in ("train_inputs", "test_inputs")}
    local_index = pd.read_parquet(model_inputs / "train_inputs/index.parquet")
    shutil.rmtree(model_inputs)  # the Spark run writes every shard anew

    run_pipeline(
        "preprocessing", **tiny, preprocessing={**small_images, "engine": "spark", "spark": SPARK}
    )

    pd.testing.assert_frame_equal(
        pd.read_parquet(model_inputs / "train_inputs/index.parquet"), local_index
    )
    assert len(local["train_inputs"]) > 1  # several tasks
    for namespace, expected in local.items():
        written = _shards(kedro_project, namespace)
        assert written.keys() == expected.keys()
        for name, arrays in expected.items():
            assert written[name].keys() == arrays.keys()
            for key, array in arrays.items():
                np.testing.assert_array_equal(written[name][key], array)
