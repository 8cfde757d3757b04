"""The default run's stage times, and each model's time outside its training steps.

    python benchmarks/default_run.py       # a fresh clone of this repository, README's runs
    python benchmarks/default_run.py --project DIR --log FILE   # a run already made

The first form clones this repository's HEAD into a scratch folder and runs README's
main command there under ``/usr/bin/time -v``: ``kedro run --pipelines=synthetic`` then
``kedro run`` (the embedded default: about 40 minutes on 2 cores), saving their console.
Stage times come from that console (each node runs between its "Running node" and
"Completed node" lines); wall time and peak memory from ``time -v``; the share of each
epoch outside the training steps (validation, backups, logging) from every model's
``training_history.csv`` (``epoch_seconds`` against ``train_step_seconds``). Writes
``benchmarks/results/default_run.md`` (and the numbers as ``.json``).
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from eeg_hba.pipeline_registry import register_pipelines
from eeg_hba.training.model_kinds import MODELS

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "benchmarks" / "results" / "default_run.md"
TIMESTAMP = re.compile(r"^\[(\d\d/\d\d/\d\d \d\d:\d\d:\d\d)\]")
NODE = re.compile(r"(Running|Completed) node: ([\w.]+)")


def run_on_a_fresh_clone(folder: Path) -> tuple[Path, Path]:
    """README's main command under ``/usr/bin/time -v`` in a clone of this repository's
    HEAD (wall time of both runs, peak memory of the larger); its console."""
    project, log = folder / "project", folder / "kedro_run.log"
    subprocess.run(["git", "clone", "-q", str(PROJECT), str(project)], check=True)
    kedro = Path(sys.executable).parent / "kedro"
    with log.open("w") as console:
        subprocess.run(
            ["/usr/bin/time", "-v", "sh", "-c",
             f"{kedro} run --pipelines=synthetic && {kedro} run"], cwd=project, stdout=console,
            stderr=subprocess.STDOUT, check=True,
            env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200",
                 "PYTHONPATH": str(project / "src")},
        )  # fmt: skip
    return project, log


def node_seconds(console: str) -> pd.DataFrame:
    """Each node's full name and seconds (to the second the log prints), in run order: one
    node runs at a time, between its "Running node" line and its "Completed node" line."""
    rows, now, started = [], None, None
    for line in console.splitlines():
        if stamp := TIMESTAMP.match(line):
            now = pd.Timestamp(pd.to_datetime(stamp.group(1), format="%m/%d/%y %H:%M:%S"))
        if node := NODE.search(line):
            if node.group(1) == "Running":
                started = now
            else:
                rows.append({"node": node.group(2), "seconds": (now - started).total_seconds()})
    return pd.DataFrame(rows, columns=["node", "seconds"])


def stage_of_every_node() -> dict[str, str]:
    """Node name -> stage: the registered pipelines, each model's training and predictions
    apart, the rest of evaluation as ensemble and report, the submission as predict."""
    pipelines = register_pipelines()
    stages: dict[str, str] = {}
    for stage in ("synthetic", "ingestion", "preprocessing", "classical"):
        for node in pipelines[stage].nodes:
            stages.setdefault(node.name, stage)
    for name in MODELS:
        for node in pipelines[f"train_{name}"].nodes:
            stages.setdefault(node.name, f"training {name}")
    for node in pipelines["evaluation"].nodes:
        owner = node.namespace.split(".")[-1] if node.namespace else ""
        stages[node.name] = (
            f"predictions and scores {owner}" if owner else
            "ensemble" if "ensemble" in node.name else "baselines and report"
        )  # fmt: skip
    for node in pipelines["predict"].nodes:
        stages.setdefault(node.name, "predict (submission)")
    return stages


def stage_seconds(nodes: pd.DataFrame) -> pd.DataFrame:
    """Seconds per stage, in the order the stages first ran."""
    stages = stage_of_every_node()
    named = nodes.assign(stage=nodes["node"].map(lambda n: stages.get(n, "other")))
    return named.groupby("stage", sort=False)["seconds"].sum().reset_index()


def outside_training_steps(project: Path) -> pd.DataFrame:
    """Per model: epochs, seconds per epoch, and the share of it outside the training steps
    (each model run's first epoch apart: it includes tracing the train and test functions)."""
    rows = []
    for name in MODELS:
        path = project / "data/08_reporting" / name / "training_history.csv"
        if not path.exists():
            continue
        history = pd.read_csv(path)
        outside = 1 - history["train_step_seconds"] / history["epoch_seconds"]
        first = history.groupby(["seed", "fold"]).cumcount() == 0
        rows.append({
            "model": name, "epochs": len(history),
            "seconds per epoch": history["epoch_seconds"].mean(),
            "outside steps, first epoch": outside[first].mean(),
            "outside steps, later epochs": outside[~first].mean(),
        })  # fmt: skip
    return pd.DataFrame(rows)


def resources(console: str) -> dict[str, float]:
    """Wall seconds and peak memory (GB) from ``/usr/bin/time -v``'s lines."""
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", console)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", console)
    hours, minutes, seconds = (float(g or 0) for g in wall.groups()) if wall else (0, 0, 0)
    return {
        "wall_seconds": hours * 3600 + minutes * 60 + seconds if wall else float("nan"),
        "peak_gb": int(peak.group(1)) / 1024**2 if peak else float("nan"),
    }


def report(stages: pd.DataFrame, epochs: pd.DataFrame, totals: dict, commit: str) -> str:
    within = 0.05
    holds = epochs["outside steps, later epochs"] <= within
    return "\n".join([
        "# The default run, stage by stage",
        "",
        "`python benchmarks/default_run.py`: `kedro run --pipelines=synthetic && kedro run` "
        f"under `/usr/bin/time -v` on a fresh clone "
        f"(main at {commit}), the embedded default, {os.cpu_count()} CPU cores "
        f"({platform.processor() or platform.machine()}), no GPU: "
        f"{totals['wall_seconds'] / 60:.1f} min wall, peak memory {totals['peak_gb']:.1f} GB. "
        "Seconds per stage from the run's log (to the second; Kedro's and TensorFlow's "
        "start-up are outside every stage):",
        "",
        stages.to_markdown(index=False, floatfmt=".0f"),
        "",
        "Each model's epochs: the share of an epoch spent outside the training steps "
        "(validation, backups, logging). The first epoch also traces the train and test "
        f"functions. Target (issue 24): at most {within:.0%} of an epoch after the first.",
        "",
        epochs.assign(**{f"≤ {within:.0%}": holds.map({True: "holds", False: "does not hold"})})
        .to_markdown(index=False, floatfmt=".3f"),
        "",
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="a project folder after `kedro run`")
    parser.add_argument("--log", type=Path, help="that run's console (with time -v's lines)")
    args = parser.parse_args()
    if args.project is None:
        args.project, args.log = run_on_a_fresh_clone(Path(tempfile.mkdtemp()))
    console = args.log.read_text()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=args.project,
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    stages = stage_seconds(node_seconds(console))
    epochs = outside_training_steps(args.project)
    totals = resources(console)
    RESULTS.with_suffix(".json").write_text(json.dumps({
        "commit": commit, **totals, "stages": stages.to_dict("records"),
        "epochs": epochs.to_dict("records"),
    }, indent=2))  # fmt: skip
    RESULTS.write_text(report(stages, epochs, totals, commit))
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
