"""Whether two commits write the same comparison report and submission: the determinism
test's check (``tests/test_training.py``), run across commits, e.g. across a refactoring.

    python benchmarks/across_commits.py BEFORE AFTER            # the tests' tiny run
    python benchmarks/across_commits.py BEFORE AFTER --default  # the default (~40 min each)

Each commit is cloned into a scratch folder and run there with its own code
(``PYTHONPATH=<clone>/src``): ``kedro run --pipelines=synthetic``, then
``kedro run --pipelines=train_all,evaluation,predict``, with the same seed and parameters.
Every KL column of ``comparison_report.csv`` and every probability of ``submission.csv``
must agree to 1e-6. Prints the verdict and the largest differences; exits 1 when they
differ.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
from tests.projects import TINY_RUN, cli_params  # noqa: E402 - the tests' tiny run, one source

TOLERANCE = 1e-6


def run_commit(commit: str, folder: Path, params: list[str]) -> Path:
    """A clone of ``commit`` after the two runs; its console in ``folder / kedro_run.log``."""
    project = folder / "project"
    subprocess.run(["git", "clone", "-q", str(PROJECT), str(project)], check=True)
    subprocess.run(["git", "checkout", "-q", commit], cwd=project, check=True)
    kedro = Path(sys.executable).parent / "kedro"
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "PYTHONPATH": str(project / "src")}
    with (folder / "kedro_run.log").open("w") as console:
        for pipelines in ("synthetic", "train_all,evaluation,predict"):
            subprocess.run(
                [str(kedro), "run", f"--pipelines={pipelines}", *params], cwd=project,
                stdout=console, stderr=subprocess.STDOUT, check=True, env=env,
            )  # fmt: skip
    return project


def largest_differences(before: Path, after: Path) -> dict[str, float]:
    """The largest absolute difference of the report's KL columns and of the submission."""
    reports = [
        pd.read_csv(p / "data/08_reporting/comparison_report.csv").set_index("model")
        for p in (before, after)
    ]
    kl = [c for c in reports[0] if c.startswith(("kl_", "validation_kl"))]
    submissions = [pd.read_csv(p / "data/07_model_output/submission.csv") for p in (before, after)]
    if list(reports[0].index) != list(reports[1].index) or list(reports[0][kl]) != list(
        reports[1][kl]
    ):
        raise SystemExit("the two reports do not list the same models and scores")
    return {
        "report KL": float((reports[1][kl] - reports[0][kl]).abs().max().max()),
        "submission": float((submissions[1] - submissions[0]).abs().max().max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--default", action="store_true", help="the embedded default run")
    args = parser.parse_args()
    params = [] if args.default else ["--params=" + ",".join(cli_params(TINY_RUN))]
    with tempfile.TemporaryDirectory() as scratch:
        before, after = (
            run_commit(commit, Path(scratch) / name, params)
            for name, commit in (("before", args.before), ("after", args.after))
        )
        differences = largest_differences(before, after)
    same = all(value <= TOLERANCE for value in differences.values())
    found = ", ".join(f"{name} differs by at most {diff:.2e}" for name, diff in differences.items())
    size = "default" if args.default else "tiny"
    print(f"{args.before} -> {args.after} ({size} run): {found}: "
          + ("the same to 1e-6" if same else "NOT the same"))  # fmt: skip
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
