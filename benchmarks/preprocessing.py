"""Preprocessing throughput and peak memory on synthetic data at two sizes, 4x apart.

    python benchmarks/preprocessing.py            # writes benchmarks/results/preprocessing.md

For each size, a scratch copy of the project generates the synthetic data and runs
ingestion (not measured), then ``kedro run --pipelines=preprocessing`` runs in a fresh
process whose peak resident memory, and that of its worker processes, is read from
``getrusage(RUSAGE_CHILDREN)`` (the largest single process). Throughput is windows
(train + test) per second of pipeline execution, as Kedro reports it.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "benchmarks" / "results" / "preprocessing.md"
BASE = {"n_patients": 16, "n_spectrograms": 24, "n_eegs": 48, "n_rows": 192,
        "n_test_patients": 2, "n_test_eegs": 8}  # fmt: skip
MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
    "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _sizes(scale: int) -> dict[str, int]:
    return {key: value * scale for key, value in BASE.items()}


def _params(sizes: dict[str, int], workers: int) -> list[str]:
    synthetic = ",".join(f"synthetic.presets.default.{k}={v}" for k, v in sizes.items())
    return [f"--params={synthetic},preprocessing.workers={workers}"]


def _kedro(project: Path, pipeline: str, params: list[str]) -> list[str]:
    return [sys.executable, "-m", "kedro", "run", f"--pipelines={pipeline}", *params]


def measure(scale: int, workers: int) -> dict[str, float]:
    sizes = _sizes(scale)
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200"}
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch)
        shutil.copy(PROJECT / "pyproject.toml", project)
        shutil.copytree(PROJECT / "conf", project / "conf")
        (project / "src").mkdir()
        params = _params(sizes, workers)
        subprocess.run(_kedro(project, "ingestion", params), cwd=project, env=env, check=True,
                       capture_output=True)  # fmt: skip
        run = subprocess.run(
            [sys.executable, "-c", MEASURE, *_kedro(project, "preprocessing", params)],
            cwd=project, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
    output = " ".join((run.stdout + run.stderr).split())
    seconds = float(re.search(r"completed successfully in ([0-9.]+) sec", output).group(1))
    windows = sizes["n_eegs"] + sizes["n_test_eegs"]
    return {
        "windows": windows,
        "seconds": seconds,
        "windows_per_second": windows / seconds,
        "peak_mb": int(re.search(r"PEAK_KB (\d+)", output).group(1)) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs=2, default=(1, 4))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    rows = [(scale, measure(scale, args.workers)) for scale in args.scales]
    small = rows[0][1]
    lines = [
        "# Preprocessing benchmark",
        "",
        f"`python benchmarks/preprocessing.py` on {os.cpu_count()} CPU cores, "
        f"{args.workers} worker process(es), default 128 x 128 images.",
        "",
        "| size | windows | seconds | windows/s | peak RSS (MB) | peak vs smallest |",
        "|---|---|---|---|---|---|",
    ]
    for scale, result in rows:
        lines.append(
            f"| {scale}x | {result['windows']} | {result['seconds']:.1f} | "
            f"{result['windows_per_second']:.2f} | {result['peak_mb']:.0f} | "
            f"{result['peak_mb'] / small['peak_mb']:.2f} |"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
