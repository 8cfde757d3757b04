"""One run per project folder: a second run stops at once naming the first, a killed run
leaves nothing that blocks the next, and only runs whose process is gone are ended."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from eeg_hba.run_lock import ConcurrentRunError, acquire, release
from eeg_hba.training.tracking import end_interrupted_runs

#: A process that takes the lock at argv[1], forks a worker (as preprocessing does), says
#: so with the worker's pid, and waits to be killed.
HOLDER = (
    "import os, sys, time; from pathlib import Path; from eeg_hba.run_lock import acquire; "
    "acquire(Path(sys.argv[1])); worker = os.fork(); "
    "worker or time.sleep(600); print(worker, flush=True); time.sleep(600)"
)


def test_a_held_lock_names_its_holder_and_a_killed_holder_blocks_nothing(tmp_path):
    lock = tmp_path / "data/.kedro_run.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)], stdout=subprocess.PIPE, text=True
    )
    worker = int(holder.stdout.readline())
    try:
        with pytest.raises(ConcurrentRunError, match=rf"pid {holder.pid} on .*, started 20"):
            acquire(lock)
        holder.send_signal(signal.SIGKILL)  # no clean-up: the lock file stays
        holder.wait()
        assert lock.exists()
        acquire(lock)  # the kernel dropped the dead run's lock; its worker never held it
    finally:
        holder.kill()
        os.kill(worker, signal.SIGKILL)
    assert f'"pid": {os.getpid()}' in lock.read_text()
    release(lock)
    acquire(lock)  # and given back, it can be taken again
    release(lock)


@pytest.mark.slow
def test_two_runs_started_together_one_stops_at_once_the_other_as_a_lone_run(
    kedro_project, hand_folder, tmp_path
):
    """A lone run first (it also creates the project's MLflow store, which two first runs
    of a fresh project would create at once, before any run starts), then two together."""
    command = [
        str(Path(sys.executable).parent / "kedro"), "run", "--pipelines=ingestion,preprocessing",
        f"--params=raw_data_dir={hand_folder},preprocessing.workers=1",
    ]  # fmt: skip
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "400"}
    label_table = kedro_project / "data/05_model_input/label_table.parquet"
    lone = subprocess.run(
        command, cwd=kedro_project, env=env, capture_output=True, text=True, check=False
    )
    assert lone.returncode == 0, lone.stdout[-3000:] + lone.stderr[-3000:]
    alone = pd.read_parquet(label_table)
    label_table.unlink()

    logs = [(tmp_path / f"run-{n}.log").open("w") for n in range(2)]
    started = time.perf_counter()
    runs = [
        subprocess.Popen(command, cwd=kedro_project, env=env, stdout=log,
                         stderr=subprocess.STDOUT, text=True)
        for log in logs
    ]  # fmt: skip
    finished = {}
    while len(finished) < 2:
        for number, run in enumerate(runs):
            if number not in finished and run.poll() is not None:
                finished[number] = (run.returncode, time.perf_counter() - started)
        time.sleep(0.2)
    for log in logs:
        log.close()
    outputs = [" ".join(Path(log.name).read_text().split()) for log in logs]
    (loser,) = [n for n, (code, _) in finished.items() if code != 0]
    winner = 1 - loser
    assert finished[winner][0] == 0, outputs[winner][-3000:]
    assert "another kedro run is running in this project folder: pid" in outputs[loser]
    assert f"pid {runs[winner].pid} " in outputs[loser]
    assert finished[loser][1] < finished[winner][1]  # it stopped before the other ended
    pd.testing.assert_frame_equal(pd.read_parquet(label_table), alone)


def test_only_runs_whose_process_is_gone_are_ended_as_interrupted(tmp_path):
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = mlflow.set_experiment("eeg_hba").experiment_id
    living = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    try:
        runs = {}
        for name, pid in (("living", living.pid), ("gone", gone.pid)):
            tags = {"backbone": "resnet1d_raw_eeg", "pid": str(pid), "host": socket.gethostname()}
            runs[name] = mlflow.MlflowClient().create_run(experiment, tags=tags).info.run_id
        assert end_interrupted_runs("resnet1d_raw_eeg") == [runs["gone"]]
        status = {n: mlflow.get_run(r).info.status for n, r in runs.items()}
        assert status == {"living": "RUNNING", "gone": "KILLED"}
    finally:
        living.kill()
        living.wait()
        mlflow.set_tracking_uri(previous)
