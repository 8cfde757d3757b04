"""Every benchmark side by side, on this machine, in one run; writes a Markdown table.

    python benchmarks/run.py        # writes benchmarks/results/benchmarks.md

- Preprocessing, on synthetic data at three sizes (each twice the last): the project's
  ``kedro run --pipelines=preprocessing``, the public starter notebooks' loop
  (``approaches.naive_loop``) and the I/O floor (``approaches.io_floor``) on the same
  raw folder; windows per second, peak memory and their ratios.
- Training input: steps per second of one backbone fed by the ``tf.data`` pipeline from
  the largest size's shards, against the same model fed one in-memory batch.
- Prediction: ``kedro run --pipelines=predict`` (the ensemble of every backbone, untrained
  but of full cost) from the raw test files to submission rows, in windows per second.

Each measurement is its own process; its peak resident memory is that of the largest
single process it ran (workers included), from ``getrusage(RUSAGE_CHILDREN)``. Data
generation and ingestion are not measured.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from approaches import SPLITS

PROJECT = Path(__file__).resolve().parents[1]
APPROACHES = PROJECT / "benchmarks" / "approaches.py"
RESULTS = PROJECT / "benchmarks" / "results" / "benchmarks.md"
SCALES = (1, 2, 4)
PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
    "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)
ENVIRONMENT = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200"}


def synthetic_sizes(fraction: float, scale: int) -> dict[str, int]:
    """The default synthetic preset times ``fraction * scale``, every count at least 1."""
    parameters = yaml.safe_load((PROJECT / "conf/base/parameters_synthetic.yml").read_text())
    default = parameters["synthetic"]["presets"]["default"]
    return {key: max(1, round(value * fraction * scale)) for key, value in default.items()}


def _measured(command: list[str], cwd: Path) -> tuple[str, float]:
    """(output, peak MB) of ``command`` run in a fresh process."""
    run = subprocess.run(
        [sys.executable, "-c", PEAK, *command],
        cwd=cwd, env=ENVIRONMENT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    output = run.stdout + run.stderr
    if run.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return output, int(re.search(r"PEAK_KB (\d+)", output).group(1)) / 1024


def kedro(project: Path, pipeline: str, params: str) -> dict[str, float]:
    """Seconds of pipeline execution, as Kedro's runner reports them, and peak MB."""
    command = [sys.executable, "-m", "kedro", "run", f"--pipelines={pipeline}"]
    output, peak = _measured([*command, f"--params={params}"], project)
    seconds = re.search(r"completed successfully in ([0-9.]+) sec", " ".join(output.split()))
    return {"seconds": float(seconds.group(1)), "peak_mb": peak}


def approach(name: str, *args: object) -> dict[str, float]:
    """One of ``approaches.py``: its JSON result and peak MB."""
    output, peak = _measured([sys.executable, str(APPROACHES), name, *map(str, args)], PROJECT)
    result = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
    return {**result, "peak_mb": peak}


def scratch_project(folder: Path) -> Path:
    """The project's configuration in ``folder``; runs there write only there."""
    folder.mkdir(parents=True)
    shutil.copy(PROJECT / "pyproject.toml", folder)
    shutil.copytree(PROJECT / "conf", folder / "conf", ignore=shutil.ignore_patterns("local"))
    (folder / "conf/local").mkdir()
    (folder / "src").mkdir()
    return folder


def subset_folder(source: Path, target: Path, share: float) -> Path:
    """A raw folder with the first ``share`` of ``source``'s recordings (whole spectrogram
    files with all their EEGs) and test rows; parquet files are hard links."""
    train, test = (pd.read_csv(source / table) for table in SPLITS.values())
    recordings = train["spectrogram_id"].unique()
    train = train[train["spectrogram_id"].isin(recordings[: round(len(recordings) * share)])]
    test = test.head(max(1, round(len(test) * share)))
    sample = pd.read_csv(source / "sample_submission.csv")
    target.mkdir(parents=True)
    for split, rows in (("train", train), ("test", test)):
        rows.to_csv(target / SPLITS[split], index=False)
        for kind, column in (("spectrograms", "spectrogram_id"), ("eegs", "eeg_id")):
            (target / f"{split}_{kind}").mkdir()
            for file_id in rows[column].unique():
                name = f"{split}_{kind}/{file_id}.parquet"
                os.link(source / name, target / name)
    sample[sample["eeg_id"].isin(test["eeg_id"])].to_csv(
        target / "sample_submission.csv", index=False
    )
    return target


def run_parameters(raw: Path, image_size: int) -> str:
    """``--params`` of the measured Kedro runs (two folds: any size can be split)."""
    parameters = {
        f"preprocessing.features.image_{side}": image_size for side in ("height", "width")
    }
    return ",".join(
        [f"{key}={value}" for key, value in parameters.items()]
        + ["ingestion.n_folds=2", f"raw_data_dir={raw}"]
    )


def measure_size(project: Path, raw: Path, image_size: int) -> dict:
    """Preprocessing of one raw folder by the project, the starter loop and the I/O floor."""
    parameters = run_parameters(raw, image_size)
    kedro(project, "ingestion", parameters)  # not measured
    train, test = (pd.read_csv(raw / table) for table in SPLITS.values())
    return {
        "windows": train["eeg_id"].nunique() + len(test),
        "label_rows": len(train) + len(test),
        "project": kedro(project, "preprocessing", parameters),
        "naive": approach("naive", raw, image_size),
        "io_floor": approach("io_floor", raw),
    }


def measure_prediction(project: Path, raw: Path, image_size: int) -> dict:
    """Raw test files to submission rows with the ensemble, test shards computed anew."""
    approach("untrained_models", project, image_size)
    shutil.rmtree(project / "data/05_model_input/test_inputs")
    windows = len(pd.read_csv(raw / SPLITS["test"]))
    return {"windows": windows, **kedro(project, "predict", run_parameters(raw, image_size))}


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _verdict(holds: bool) -> str:
    return "holds" if holds else "**does not hold**"


def report(sizes: list[dict], training: dict, prediction: dict, args: argparse.Namespace) -> str:
    """The results as Markdown: tables, ratios and the acceptance checks."""
    smallest, largest = sizes[0], sizes[-1]
    lines = [
        "# Benchmarks",
        "",
        f"`python benchmarks/run.py` on {os.cpu_count()} CPU cores, one run, everything side "
        f"by side; synthetic data, {args.image_size} x {args.image_size} images.",
        "",
        "## Preprocessing",
        "",
        "A *label row* is one row of `train.csv`/`test.csv`. The starter loop makes one image",
        "per label row, reading both its parquet files with pandas each time. The project",
        "collapses the sub-windows of an EEG (about five label rows) into one window and",
        "image, reads each file once and works in parallel processes. So two ratios: *per",
        "window* compares images made per second (same feature functions, only I/O and",
        "looping differ); *per label row* compares the time to cover every label row of the",
        "data set. The I/O floor only reads every referenced parquet file once with pyarrow.",
        "",
        _row("size", "label rows", "windows", "project s", "starter loop s", "I/O floor s",
             "project windows/s", "starter windows/s", "x starter per window",
             "x starter per label row", "project / I/O floor time"),
        _row(*["---"] * 11),
    ]  # fmt: skip
    for scale, size in zip(SCALES, sizes, strict=True):
        project, naive, floor = size["project"], size["naive"], size["io_floor"]
        project_rate = size["windows"] / project["seconds"]
        naive_rate = naive["label_rows"] / naive["seconds"]
        lines.append(
            _row(
                f"{scale}x",
                size["label_rows"],
                size["windows"],
                f"{project['seconds']:.1f}",
                f"{naive['seconds']:.1f}",
                f"{floor['seconds']:.1f}",
                f"{project_rate:.1f}",
                f"{naive_rate:.1f}",
                f"{project_rate / naive_rate:.1f}",
                f"{naive['seconds'] / project['seconds']:.1f}",
                f"{project['seconds'] / floor['seconds']:.2f}",
            )
        )
    lines += [
        "",
        "## Growth with size (project)",
        "",
        _row("size", "data x smallest", "time x smallest", "seconds per window x smallest",
             "peak MB project", "peak x smallest", "peak MB starter", "peak MB I/O floor"),
        _row(*["---"] * 8),
    ]  # fmt: skip
    for scale, size in zip(SCALES, sizes, strict=True):
        time_ratio = size["project"]["seconds"] / smallest["project"]["seconds"]
        data_ratio = size["windows"] / smallest["windows"]
        lines.append(
            _row(
                f"{scale}x",
                f"{data_ratio:.1f}",
                f"{time_ratio:.2f}",
                f"{time_ratio / data_ratio:.2f}",
                f"{size['project']['peak_mb']:.0f}",
                f"{size['project']['peak_mb'] / smallest['project']['peak_mb']:.2f}",
                f"{size['naive']['peak_mb']:.0f}",
                f"{size['io_floor']['peak_mb']:.0f}",
            )
        )
    input_ratio = training["pipeline_steps_per_second"] / training["in_memory_steps_per_second"]
    lines += [
        "",
        "## Training input pipeline",
        "",
        f"`{training['backbone']}`, batch {training['batch_size']}, {training['steps']} timed "
        "steps each after a warm-up: fed by `eeg_hba.inputs.window_dataset` from the largest "
        "size's shards (shuffled, augmented, as in training) against one in-memory batch "
        "fed over and over (the compute floor).",
        "",
        _row("tf.data from shards steps/s", "in-memory steps/s", "ratio"),
        _row(*["---"] * 3),
        _row(
            f"{training['pipeline_steps_per_second']:.2f}",
            f"{training['in_memory_steps_per_second']:.2f}",
            f"{input_ratio:.2f}",
        ),
        "",
        "## Prediction",
        "",
        "`kedro run --pipelines=predict` on the largest size's raw test folder: test.csv",
        "checked, test windows preprocessed, the four backbones loaded and blended,",
        "submission rows written (models untrained: the cost is the same).",
        "",
        _row("test windows", "seconds", "windows/s", "peak MB"),
        _row(*["---"] * 4),
        _row(
            prediction["windows"],
            f"{prediction['seconds']:.1f}",
            f"{prediction['windows'] / prediction['seconds']:.2f}",
            f"{prediction['peak_mb']:.0f}",
        ),
    ]
    per_window = (largest["windows"] / largest["project"]["seconds"]) / (
        largest["naive"]["label_rows"] / largest["naive"]["seconds"]
    )
    per_label_row = largest["naive"]["seconds"] / largest["project"]["seconds"]
    floor = largest["project"]["seconds"] / largest["io_floor"]["seconds"]
    peak = largest["project"]["peak_mb"] / smallest["project"]["peak_mb"]
    lines += [
        "",
        "## Acceptance (largest size)",
        "",
        f"- at least 5x faster than the starter loop: {per_label_row:.1f}x per label row "
        f"({_verdict(per_label_row >= 5)}), {per_window:.1f}x per window "
        f"({_verdict(per_window >= 5)})",
        f"- within 2x of the I/O floor: {floor:.2f}x ({_verdict(floor <= 2)})",
        f"- input pipeline at least 0.9 of the in-memory floor: {input_ratio:.2f} "
        f"({_verdict(input_ratio >= 0.9)})",
        f"- peak memory at the largest size within 20% of the smallest: {peak:.2f} "
        f"({_verdict(peak <= 1.2)})",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fraction",
        type=float,
        default=0.3,
        help="smallest size as a fraction of the default synthetic preset",
    )
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--backbone", default="mobilenet_v3_large")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--training-steps", type=int, default=40)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory(prefix="eeg-hba-benchmark-") as scratch:
        largest = scratch_project(Path(scratch) / f"{SCALES[-1]}x")
        sizes = synthetic_sizes(args.fraction, SCALES[-1])
        print(f"generating the largest size: {sizes}", flush=True)
        synthetic = ",".join(f"synthetic.presets.default.{k}={v}" for k, v in sizes.items())
        kedro(largest, "synthetic", synthetic)  # not measured
        generated = largest / "data/01_raw/synthetic"
        for scale in SCALES:
            print(f"size {scale}x", flush=True)
            share = scale / SCALES[-1]
            project = largest if share == 1 else scratch_project(Path(scratch) / f"{scale}x")
            raw = generated if share == 1 else subset_folder(generated, project / "raw", share)
            results.append(measure_size(project, raw, args.image_size))
        print("training input pipeline", flush=True)
        training = approach(
            "training", largest / "data/05_model_input/train_inputs", args.image_size,
            args.backbone, args.batch_size, args.training_steps,
        )  # fmt: skip
        print("prediction", flush=True)
        prediction = measure_prediction(largest, generated, args.image_size)
    table = report(results, training, prediction, args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
