"""Scale: generate and preprocess a large synthetic preset, with time and peak memory.

    python benchmarks/full_scale.py                  # default and eighth: about 30 min, 2 cores
    python benchmarks/full_scale.py --presets eighth   # only the large one

Each preset runs in a scratch copy of the project: ``synthetic`` (generation),
``ingestion`` and ``preprocessing``, each a fresh ``kedro run`` whose seconds Kedro's
runner reports and whose peak memory is that of its largest process. The full public
size is extrapolated from the largest preset linearly, as the benchmarks of
``benchmarks/run.py`` show time to grow. Writes ``benchmarks/results/full_scale.md``.
"""

import argparse
import tempfile
from pathlib import Path

import yaml
from run import PROJECT, kedro, scratch_project

RESULTS = PROJECT / "benchmarks" / "results" / "full_scale.md"
PIPELINES = ("synthetic", "ingestion", "preprocessing")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["default", "eighth"])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    parameters = yaml.safe_load((PROJECT / "conf/base/parameters_synthetic.yml").read_text())
    presets = parameters["synthetic"]["presets"]
    lines = [
        "# Full-scale synthetic data",
        "",
        "`python benchmarks/full_scale.py` on this machine: each step a fresh `kedro run`;",
        "seconds of pipeline execution; peak memory of the largest process.",
        "",
        "| preset | label rows | EEGs | step | seconds | peak MB |",
        "|---|---|---|---|---|---|",
    ]
    totals = {}
    with tempfile.TemporaryDirectory(prefix="eeg-hba-full-scale-") as scratch:
        for preset in args.presets:
            project = scratch_project(Path(scratch) / preset)
            sizes = presets[preset]
            totals[preset] = 0.0
            for pipeline in PIPELINES:
                print(f"{preset}: {pipeline}", flush=True)
                result = kedro(project, pipeline, f"synthetic.preset={preset}")
                totals[preset] += result["seconds"]
                lines.append(
                    f"| {preset} | {sizes['n_rows']} | {sizes['n_eegs']} | {pipeline} | "
                    f"{result['seconds']:.0f} | {result['peak_mb']:.0f} |"
                )
    largest = args.presets[-1]
    factor = presets["full"]["n_eegs"] / presets[largest]["n_eegs"]
    lines += [
        "",
        f"Preset `{largest}`: {totals[largest] / 60:.1f} minutes for all three steps. "
        f"The public size (`full`, {factor:.0f}x its EEGs) extrapolates linearly to about "
        f"{totals[largest] * factor / 3600:.1f} hours on this machine, with the same peak "
        "memory.",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
