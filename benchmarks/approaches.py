"""The approaches that ``benchmarks/run.py`` measures side by side, one per process.

    python benchmarks/approaches.py naive RAW_DIR IMAGE_SIZE
    python benchmarks/approaches.py io_floor RAW_DIR
    python benchmarks/approaches.py training INPUTS_DIR IMAGE_SIZE BACKBONE BATCH STEPS
    python benchmarks/approaches.py untrained_models PROJECT_DIR IMAGE_SIZE

Each prints one JSON line with what it did and its own measured seconds, so interpreter
start and imports are never counted; ``run.py`` reads the peak memory of the process.
"""

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from eeg_hba.features import FeatureConfig, model_input_image

SPLITS = {"train": "train.csv", "test": "test.csv"}


def naive_loop(raw: Path, image_size: int) -> dict:
    """The public starter notebooks' way: for each label row, read its two parquet files
    with pandas and cut its window in a Python loop; all images kept, saved once.

    The images are made by the project's own feature functions, so only the I/O and the
    looping differ from the project's path. A test row has no offsets: its files are the
    window, as in ``test.csv``.
    """
    config = FeatureConfig(image_height=image_size, image_width=image_size)
    start = time.perf_counter()
    images = []
    for split, table in SPLITS.items():
        for row in pd.read_csv(raw / table).itertuples():
            spectrogram = pd.read_parquet(
                raw / f"{split}_spectrograms/{row.spectrogram_id}.parquet"
            )
            eeg = pd.read_parquet(raw / f"{split}_eegs/{row.eeg_id}.parquet")
            images.append(
                model_input_image(
                    spectrogram,
                    getattr(row, "spectrogram_label_offset_seconds", 0.0),
                    eeg,
                    getattr(row, "eeg_label_offset_seconds", 0.0),
                    config,
                )
            )
    np.save(raw.parent / "naive_images.npy", np.stack(images))
    return {"label_rows": len(images), "seconds": time.perf_counter() - start}


def io_floor(raw: Path) -> dict:
    """Only read every parquet file that a label row references, once, with pyarrow."""
    start = time.perf_counter()
    files = 0
    for split, table in SPLITS.items():
        rows = pd.read_csv(raw / table)
        for kind, column in (("spectrograms", "spectrogram_id"), ("eegs", "eeg_id")):
            for file_id in rows[column].unique():
                pq.read_table(raw / f"{split}_{kind}/{file_id}.parquet")
                files += 1
    return {"files": files, "seconds": time.perf_counter() - start}


def _steps_per_second(fit: Callable[[int], object], steps: int) -> float:
    fit(max(2, steps // 5))  # builds the graph and warms the pipeline
    start = time.perf_counter()
    fit(steps)
    return steps / (time.perf_counter() - start)


def training(inputs: Path, image_size: int, backbone: str, batch_size: int, steps: int) -> dict:
    """Training steps per second of one backbone fed by the ``tf.data`` pipeline from the
    shards (shuffled, augmented, as in training) and fed one in-memory batch over and
    over (the compute floor)."""
    import tensorflow as tf  # noqa: PLC0415 - only this approach needs it

    from eeg_hba.datasets import NpzDataset  # noqa: PLC0415
    from eeg_hba.inputs import AugmentConfig, window_dataset  # noqa: PLC0415
    from eeg_hba.models import build_model, compile_model  # noqa: PLC0415

    index = pd.read_parquet(inputs / "index.parquet")
    shards = {p.stem: NpzDataset(str(p)).load for p in sorted((inputs / "shards").glob("*.npz"))}
    shape = (image_size, image_size)
    model = compile_model(build_model(backbone, *shape, None, 0.2, 0.9), 1e-3)
    streamed = window_dataset(
        shards, index, shape, batch_size, training=True, augment=AugmentConfig()
    ).repeat()
    first = next(iter(window_dataset(shards, index, shape, batch_size)))
    in_memory = tf.data.Dataset.from_tensors(first).repeat()

    def fitter(dataset: tf.data.Dataset) -> Callable[[int], object]:
        return lambda n: model.fit(dataset, steps_per_epoch=n, epochs=1, verbose=0)

    return {
        "backbone": backbone,
        "batch_size": batch_size,
        "steps": steps,
        "pipeline_steps_per_second": _steps_per_second(fitter(streamed), steps),
        "in_memory_steps_per_second": _steps_per_second(fitter(in_memory), steps),
    }


def untrained_models(project: Path, image_size: int) -> dict:
    """Every backbone, untrained, and equal ensemble weights, saved through the project's
    catalog: ``predict`` then costs what it costs with trained ones."""
    from kedro.framework.session import KedroSession  # noqa: PLC0415
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    from eeg_hba.models import BACKBONES, build_model  # noqa: PLC0415

    bootstrap_project(project)
    with KedroSession.create(project_path=project) as session:
        catalog = session.load_context().catalog
        for backbone in BACKBONES:
            catalog.save(
                f"{backbone}.model", build_model(backbone, image_size, image_size, None, 0.2)
            )
        catalog.save("ensemble_weights", dict.fromkeys(BACKBONES, 1 / len(BACKBONES)))
    return {"backbones": len(BACKBONES)}


APPROACHES: dict[str, Callable[..., dict]] = {
    "naive": lambda raw, size: naive_loop(Path(raw), int(size)),
    "io_floor": lambda raw: io_floor(Path(raw)),
    "training": lambda inputs, size, backbone, batch, steps: training(
        Path(inputs), int(size), backbone, int(batch), int(steps)
    ),
    "untrained_models": lambda project, size: untrained_models(Path(project), int(size)),
}

if __name__ == "__main__":
    print(json.dumps(APPROACHES[sys.argv[1]](*sys.argv[2:])))
