"""The approaches that ``benchmarks/run.py`` measures side by side, one per process.

    python benchmarks/approaches.py pipeline PROJECT_DIR PIPELINE PARAMS_JSON
    python benchmarks/approaches.py naive RAW_DIR IMAGE_SIZE [SAMPLE_ROWS]
    python benchmarks/approaches.py io_floor RAW_DIR WORKERS
    python benchmarks/approaches.py input_throughput INPUTS_DIR IMAGE_SIZE BATCH IMAGES
    python benchmarks/approaches.py training INPUTS_DIR IMAGE_SIZE BACKBONE BATCH STEPS
    python benchmarks/approaches.py untrained_models PROJECT_DIR IMAGE_SIZE
    python benchmarks/approaches.py compare NEW_PROJECT_DIR OLD_PROJECT_DIR

Each prints one JSON line with what it did and its own measured seconds, so interpreter
start and imports are never counted; ``run.py`` reads the peak memory of the process.
``pipeline`` imports only Kedro at the top, so it also times older code of the project
(``PYTHONPATH`` naming its ``src``).
"""

import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))  # the tests' helpers: the project's configuration, one source
SPLITS = {"train": "train.csv", "test": "test.csv"}
FILES_PER_TASK = 32


def pipeline(project: Path, name: str, params: dict) -> dict:
    """One registered pipeline of ``project`` run by Kedro's SequentialRunner over the
    session's catalog, timed alone: no hooks (no MLflow run, no data generation)."""
    from kedro.framework.project import pipelines  # noqa: PLC0415 - after bootstrap
    from kedro.framework.session import KedroSession  # noqa: PLC0415
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415
    from kedro.runner import SequentialRunner  # noqa: PLC0415

    bootstrap_project(project)
    with KedroSession.create(project_path=project, runtime_params=params) as session:
        catalog = session.load_context().catalog
        start = time.perf_counter()
        SequentialRunner().run(pipelines[name], catalog)
        return {"pipeline": name, "seconds": time.perf_counter() - start}


def _label_rows(raw: Path) -> list[tuple[str, object]]:
    return [
        (split, row)
        for split, table in SPLITS.items()
        for row in pd.read_csv(raw / table).itertuples()
    ]


def naive_loop(raw: Path, image_size: int, sample_rows: int | None = None, seed: int = 0) -> dict:
    """The public starter notebooks' way: for each label row, read its two parquet files
    with pandas and cut its window in a Python loop; all images kept, saved once.

    With ``sample_rows``, only that many label rows drawn at random (``seed``) are timed:
    the loop's time per row does not depend on which rows. The images are made by the
    project's own feature functions, so only the I/O and the looping differ from the
    project's path. A test row has no offsets: its files are the window.
    """
    from tests.projects import feature_config  # noqa: PLC0415

    from eeg_hba.hms.layout import (  # noqa: PLC0415
        EEG_CHANNELS,
        SPECTROGRAM_TIME_COLUMN,
        SPECTROGRAM_VALUE_COLUMNS,
    )
    from eeg_hba.hms.windows import eeg_rows, spectrogram_rows  # noqa: PLC0415
    from eeg_hba.preprocessing.model_inputs import model_input_image  # noqa: PLC0415

    config = feature_config("kaggle", image_height=image_size, image_width=image_size)
    rows = _label_rows(raw)
    timed = random.Random(seed).sample(rows, sample_rows) if sample_rows else rows
    start = time.perf_counter()
    images = []
    for split, row in timed:
        spectrogram = pd.read_parquet(raw / f"{split}_spectrograms/{row.spectrogram_id}.parquet")
        eeg = pd.read_parquet(raw / f"{split}_eegs/{row.eeg_id}.parquet")
        given = spectrogram_rows(
            spectrogram[SPECTROGRAM_TIME_COLUMN].to_numpy(),
            getattr(row, "spectrogram_label_offset_seconds", 0.0),
        )
        signal = eeg_rows(len(eeg), getattr(row, "eeg_label_offset_seconds", 0.0))
        images.append(
            model_input_image(
                spectrogram[list(SPECTROGRAM_VALUE_COLUMNS)].to_numpy(np.float32)[given],
                eeg[list(EEG_CHANNELS)].to_numpy(np.float32)[signal],
                config,
            )
        )
    np.save(raw.parent / "naive_images.npy", np.stack(images))
    return {
        "label_rows": len(rows),
        "timed_rows": len(timed),
        "seconds": time.perf_counter() - start,
    }


def _read_files(paths: Sequence[Path]) -> int:
    return sum(pq.read_table(path).nbytes for path in paths)


def io_floor(raw: Path, workers: int = 1) -> dict:
    """Only read every parquet file that a label row references, once, with pyarrow, in
    ``workers`` processes (the project's pool), ``FILES_PER_TASK`` files per task."""
    from eeg_hba.preprocessing.parallel import ordered_parallel_map  # noqa: PLC0415

    files = [
        raw / f"{split}_{kind}/{file_id}.parquet"
        for split, table in SPLITS.items()
        for kind, column in (("spectrograms", "spectrogram_id"), ("eegs", "eeg_id"))
        for file_id in pd.read_csv(raw / table)[column].unique()
    ]
    tasks = [files[i : i + FILES_PER_TASK] for i in range(0, len(files), FILES_PER_TASK)]
    start = time.perf_counter()
    read = sum(ordered_parallel_map(_read_files, tasks, workers))
    return {"files": len(files), "bytes": read, "seconds": time.perf_counter() - start}


def _shard_loaders(inputs: Path) -> dict[str, Callable]:
    from eeg_hba.catalog.datasets import NpzDataset  # noqa: PLC0415

    return {p.stem: NpzDataset(str(p)).load for p in sorted((inputs / "shards").glob("*.npz"))}


def input_throughput(inputs: Path, image_size: int, batch_size: int, images: int) -> dict:
    """Images per second out of ``eeg_hba.training.inputs.window_dataset`` from the shards
    (float16, as written) and from float32 copies of them (as before), shuffled and
    augmented as in training; no model. The shards sit in the page cache, as after a first
    epoch."""
    from tests.projects import augment_config  # noqa: PLC0415

    from eeg_hba.training.inputs import window_dataset  # noqa: PLC0415

    index = pd.read_parquet(inputs / "index.parquet")
    shape = (image_size, image_size)
    results = {"image_size": image_size, "batch_size": batch_size, "images": images}
    with tempfile.TemporaryDirectory(prefix="float32-shards-") as scratch:
        (Path(scratch) / "shards").mkdir()
        for path in sorted((inputs / "shards").glob("*.npz")):
            with np.load(path) as arrays:
                copy = {k: arrays[k] for k in arrays.files}
            copy["images"] = copy["images"].astype(np.float32)
            np.savez(Path(scratch) / "shards" / path.name, **copy)
        for storage, folder in (("float16", inputs), ("float32", Path(scratch))):
            shards = _shard_loaders(folder)
            dataset = window_dataset(
                shards, index, shape, batch_size, training=True, augment=augment_config()
            ).repeat()
            batches = iter(dataset)
            for _ in range(3):  # warm-up: the pipeline starts its threads
                next(batches)
            start = time.perf_counter()
            for _ in range(images // batch_size):
                next(batches)
            seconds = time.perf_counter() - start
            size = sum(p.stat().st_size for p in (folder / "shards").glob("*.npz"))
            results[storage] = {
                "images_per_second": (images // batch_size) * batch_size / seconds,
                "megabytes_per_image": size / len(index) / 2**20,
            }
    return results


def _steps_per_second(fit: Callable[[int], object], steps: int) -> float:
    fit(max(2, steps // 5))  # builds the graph and warms the pipeline
    start = time.perf_counter()
    fit(steps)
    return steps / (time.perf_counter() - start)


def training(inputs: Path, model_name: str, batch_size: int, steps: int) -> dict:
    """Training steps per second of one model (a backbone or the 1-D network, at the input
    shape the shards hold) fed by the ``tf.data`` pipeline from the shards (shuffled,
    augmented, as in training) and fed one in-memory batch over and over (the compute
    floor)."""
    import tensorflow as tf  # noqa: PLC0415 - only this approach needs it
    from tests.projects import augment_config  # noqa: PLC0415

    from eeg_hba.training.inputs import (  # noqa: PLC0415
        model_input,
        stored_shape,
        window_dataset,
    )
    from eeg_hba.training.model_kinds import input_key  # noqa: PLC0415
    from eeg_hba.training.models import build_network, compile_model  # noqa: PLC0415

    index = pd.read_parquet(inputs / "index.parquet")
    shards = _shard_loaders(inputs)
    shape = stored_shape(shards, input_key(model_name))
    model = compile_model(build_network(model_name, shape, None, 0.2, 0.9), 1e-3)
    reads = model_input(model)
    streamed = window_dataset(
        shards, index, reads, batch_size, training=True, augment=augment_config()
    ).repeat()
    first = next(iter(window_dataset(shards, index, reads, batch_size)))
    in_memory = tf.data.Dataset.from_tensors(first).repeat()

    def fitter(dataset: tf.data.Dataset) -> Callable[[int], object]:
        return lambda n: model.fit(dataset, steps_per_epoch=n, epochs=1, verbose=0)

    return {
        "backbone": model_name,
        "input_shape": list(shape),
        "batch_size": batch_size,
        "steps": steps,
        "pipeline_steps_per_second": _steps_per_second(fitter(streamed), steps),
        "in_memory_steps_per_second": _steps_per_second(fitter(in_memory), steps),
    }


def untrained_models(project: Path, image_size: int) -> dict:
    """Every Keras model (the backbones at ``image_size`` square, the 1-D network on the
    default signals), untrained, and equal ensemble weights, saved through the project's
    catalog: ``predict`` then costs what it costs with trained ones."""
    from kedro.framework.session import KedroSession  # noqa: PLC0415
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415
    from tests.projects import feature_config  # noqa: PLC0415

    from eeg_hba.training.model_kinds import MODELS, input_key  # noqa: PLC0415
    from eeg_hba.training.models import build_network  # noqa: PLC0415

    shapes = {"images": (image_size, image_size), "signals": feature_config().signal_shape}
    bootstrap_project(project)
    with KedroSession.create(project_path=project) as session:
        catalog = session.load_context().catalog
        for name in MODELS:
            catalog.save(f"{name}.model", build_network(name, shapes[input_key(name)], None, 0.2))
        catalog.save("ensemble_weights", dict.fromkeys(MODELS, 1 / len(MODELS)))
    return {"models": len(MODELS)}


def _model_inputs(project: Path, namespace: str) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The index and every image, target and id of one namespace, in index order."""
    folder = project / "data/05_model_input" / namespace
    index = pd.read_parquet(folder / "index.parquet")
    shards = {p.stem: dict(np.load(p)) for p in (folder / "shards").glob("*.npz")}
    where = list(zip(index["shard"], index["position"], strict=True))
    arrays = {
        key: np.stack([shards[s][key][p] for s, p in where])
        for key in ("images", "eeg_id", "targets")
        if key in next(iter(shards.values()))
    }
    return index, arrays


def _equal(new: pd.DataFrame, old: pd.DataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(new, old)
    except AssertionError as difference:
        print(f"not equal: {difference}", file=sys.stderr)
        return False
    return True


def compare(new: Path, old: Path) -> dict:
    """What the new code writes against what the old code wrote from the same raw folder:
    tables equal or not; per image, the largest difference of the given-spectrogram half
    (same meaning) and the correlation of the EEG half (frames now follow the width)."""
    result = {}
    new_table, old_table = (pd.read_parquet(p / "data/05_model_input/label_table.parquet")
                            for p in (new, old))  # fmt: skip
    result["label_table_equal"] = _equal(new_table, old_table)
    for namespace in ("train_inputs", "test_inputs"):
        new_index, new_arrays = _model_inputs(new, namespace)
        old_index, old_arrays = _model_inputs(old, namespace)
        shared = [c for c in old_index.columns if c in new_index.columns]
        width = new_arrays["images"].shape[2] // 2
        given = np.abs(
            new_arrays["images"][..., :width].astype(np.float32) - old_arrays["images"][..., :width]
        )
        eeg_new = new_arrays["images"][..., width:].reshape(len(new_index), -1).astype(np.float64)
        eeg_old = old_arrays["images"][..., width:].reshape(len(old_index), -1).astype(np.float64)
        correlation = [np.corrcoef(a, b)[0, 1] for a, b in zip(eeg_new, eeg_old, strict=True)]
        result[namespace] = {
            "windows": len(new_index),
            "index_equal": _equal(new_index[shared], old_index),
            "extra_index_columns": sorted(set(new_index.columns) - set(old_index.columns)),
            "ids_equal": bool(np.array_equal(new_arrays["eeg_id"], old_arrays["eeg_id"])),
            "targets_equal": bool(
                np.array_equal(new_arrays.get("targets"), old_arrays.get("targets"))
            ),
            "given_half_max_abs_difference": float(given.max()),
            "eeg_half_median_correlation": float(np.median(correlation)),
        }
    return result


APPROACHES: dict[str, Callable[..., dict]] = {
    "pipeline": lambda project, name, params: pipeline(Path(project), name, json.loads(params)),
    "naive": lambda raw, size, sample=None: naive_loop(
        Path(raw), int(size), int(sample) if sample else None
    ),
    "io_floor": lambda raw, workers: io_floor(Path(raw), int(workers)),
    "input_throughput": lambda inputs, size, batch, images: input_throughput(
        Path(inputs), int(size), int(batch), int(images)
    ),
    "training": lambda inputs, model, batch, steps: training(
        Path(inputs), model, int(batch), int(steps)
    ),
    "untrained_models": lambda project, size: untrained_models(Path(project), int(size)),
    "compare": lambda new, old: compare(Path(new), Path(old)),
}

if __name__ == "__main__":
    print(json.dumps(APPROACHES[sys.argv[1]](*sys.argv[2:])))
