"""Scale: generate, ingest and preprocess a large synthetic preset, with time and peak memory.

    python benchmarks/full_scale.py                    # default and eighth, 2 cores
    python benchmarks/full_scale.py --presets eighth   # only the large one
    python benchmarks/full_scale.py --presets eighth full   # the public size, measured

Each preset runs in a scratch copy of the project: ``synthetic`` (generation),
``ingestion`` (tables and file footers) and ``preprocessing`` (the one read of every
file: window data checked, model inputs, label table), each in its own process, timed
by Kedro's runner alone (``approaches.pipeline``); peak memory is that of its largest
process. With ``full`` among the presets, the public size is measured, against issue 24's
bounds (at most 30 minutes for the three steps, peak memory at most 1.1 times that of
``eighth``); otherwise it is extrapolated from the largest preset linearly in its EEG
count. Writes ``benchmarks/results/full_scale.md``.

Disk: ``full`` writes about 28 GB of raw parquet files into the scratch folder (seen on
2026-12-08: its 17,089 EEG files 19 GB, spectrograms 0.8 MB each, about 9 GB for 11,138),
then its model-input shards: start it with 40 GB free under ``$TMPDIR``.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from run import PROJECT, pipeline, scratch_project

RESULTS = PROJECT / "benchmarks" / "results" / "full_scale.md"
PIPELINES = ("synthetic", "ingestion", "preprocessing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["default", "eighth"])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    parameters = yaml.safe_load((PROJECT / "conf/base/parameters_synthetic.yml").read_text())
    presets = parameters["synthetic"]["presets"]
    rows, totals = [], {}
    with tempfile.TemporaryDirectory(prefix="eeg-hba-full-scale-") as scratch:
        for preset in args.presets:
            project = scratch_project(Path(scratch) / preset)
            sizes = presets[preset]
            for name in PIPELINES:
                print(f"{preset}: {name}", flush=True)
                result = pipeline(project, name, {"synthetic": {"preset": preset}})
                totals[preset] = totals.get(preset, 0.0) + result["seconds"]
                rows.append(
                    {"preset": preset, "label rows": sizes["n_rows"], "EEGs": sizes["n_eegs"],
                     "step": name, "seconds": result["seconds"], "peak MB": result["peak_mb"]}
                )  # fmt: skip
    largest = args.presets[-1]
    factor = presets["full"]["n_eegs"] / presets[largest]["n_eegs"]
    steps = pd.DataFrame(rows)
    peak = steps.groupby("preset")["peak MB"].max()
    if "full" in totals:
        minutes = totals["full"] / 60
        if "eighth" in peak:
            ratio = peak["full"] / peak["eighth"]
            memory = (f"{ratio:.2f} times that of `eighth` (at most 1.1: "
                      f"{'holds' if ratio <= 1.1 else 'does not hold'})")  # fmt: skip
        else:
            memory = "not compared with `eighth` (run `--presets eighth full`)"
        summary = [
            f"The public size (`full`), measured: {minutes:.1f} minutes for the three steps "
            f"(at most 30: {'holds' if minutes <= 30 else 'does not hold'}); peak memory "
            f"{peak['full']:.0f} MB, {memory}.",
        ]
    else:
        extrapolated = steps[steps["preset"] == largest].set_index("step")["seconds"] * factor / 60
        summary = [
            f"Preset `{largest}`: {totals[largest] / 60:.1f} minutes for all three steps. The "
            f"public size (`full`, {factor:.0f}x its EEGs) extrapolates linearly to about "
            f"{totals[largest] * factor / 60:.0f} minutes on this machine ("
            + ", ".join(f"{step} {minutes:.0f} min" for step, minutes in extrapolated.items())
            + "), with the same peak memory.",
        ]
    lines = [
        "# Full-scale synthetic data",
        "",
        f"`python benchmarks/full_scale.py {' '.join(sys.argv[1:])}` on {os.cpu_count()} CPU "
        "cores: each step in its own process, seconds of Kedro's runner, peak memory of the "
        "largest process.",
        "",
        steps.to_markdown(index=False, floatfmt=".0f"),
        "",
        *summary,
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
