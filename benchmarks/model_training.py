"""Training rate of every model on the same shards, side by side on this machine.

    kedro run --pipelines=preprocessing              # or any run that wrote the shards
    python benchmarks/model_training.py              # reads data/05_model_input/train_inputs

Each model (the four image backbones and the 1-D signal network, at the input shapes the
shards hold: conf/base's 96 x 64 images and 20 s of 16 chains at 50 Hz) is built from
scratch and trained, each in its own process, at the same batch size: steps per second
fed by ``window_dataset`` from the shards (shuffled and augmented, as in training) and fed
one in-memory batch over and over (the compute floor), after a warm-up. Writes
``benchmarks/results/model_training.md`` (and the numbers as ``.json``).
"""

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import pandas as pd

from eeg_hba.training.model_kinds import MODELS

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "benchmarks"))
from run import approach  # noqa: E402 - the benchmarks' own runner, beside this file

RESULTS = PROJECT / "benchmarks" / "results" / "model_training.md"


def measure(inputs: Path, batch_size: int, steps: int) -> list[dict]:
    """Every model's rates, one process each (TensorFlow's memory does not carry over)."""
    return [approach("training", inputs, name, batch_size, steps) for name in MODELS]


def report(results: list[dict], inputs: Path, batch_size: int, steps: int) -> str:
    slowest = min(r["pipeline_steps_per_second"] for r in results)
    rows = pd.DataFrame(
        {
            "model": r["backbone"],
            "input (one window)": " x ".join(map(str, r["input_shape"])),
            "windows/s from shards": r["pipeline_steps_per_second"] * batch_size,
            "windows/s in memory": r["in_memory_steps_per_second"] * batch_size,
            "shards / in memory": r["pipeline_steps_per_second"] / r["in_memory_steps_per_second"],
            "x the slowest model": r["pipeline_steps_per_second"] / slowest,
            "peak MB": r["peak_mb"],
        }
        for r in results
    )
    windows = len(pd.read_parquet(inputs / "index.parquet"))
    return "\n".join(
        [
            "# Training rate per model",
            "",
            f"`python benchmarks/model_training.py` on {os.cpu_count()} CPU cores "
            f"({platform.processor() or platform.machine()}), no GPU: each model from scratch "
            f"in its own process, batch {batch_size}, {steps} timed steps after a warm-up, on "
            f"the shards of {inputs} ({windows} labelled windows). Windows per second while "
            "training, fed from the shards as training feeds them (shuffled, augmented) and "
            "fed one in-memory batch (the compute floor).",
            "",
            rows.to_markdown(index=False, floatfmt=".2f"),
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=Path,
                        default=PROJECT / "data/05_model_input/train_inputs")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    results = measure(args.inputs.resolve(), args.batch_size, args.steps)
    RESULTS.with_suffix(".json").write_text(json.dumps(results, indent=2))
    RESULTS.write_text(report(results, args.inputs, args.batch_size, args.steps))
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
