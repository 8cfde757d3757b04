"""Servers on 127.0.0.1 for tests (kedro viz, the MLflow UI, MLflow's scoring server):
each in its own process group, stopped when the test is done and checked gone."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from .cluster import HOST, free_port

__all__ = ["HOST", "free_port", "serving"]

SERVER_START_SECONDS = 120


def is_listening(port: int) -> bool:
    with closing(socket.socket()) as probe:
        return probe.connect_ex((HOST, port)) == 0


def group_is_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the server's whole process group (workers too), SIGKILL if it lingers."""
    group = process.pid  # start_new_session: the server leads its own group
    if not group_is_alive(group):  # it exited by itself (and the test says why)
        return
    os.killpg(group, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(group, signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + 30
    while group_is_alive(group) and time.monotonic() < deadline:
        time.sleep(0.2)
    if group_is_alive(group):
        os.killpg(group, signal.SIGKILL)


@contextmanager
def serving(
    command: list[str],
    port: int,
    ready_path: str,
    log: Path,
    env: dict[str, str] | None = None,
    start_seconds: float = SERVER_START_SECONDS,
) -> Iterator[str]:
    """Run a server on 127.0.0.1:``port`` until the block ends; yields its base URL.

    Ready when ``ready_path`` answers; afterwards nothing of it may still run or listen.
    """
    url = f"http://{HOST}:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
    try:
        wait_until_answers(url + ready_path, process, log, start_seconds)
        yield url
    finally:
        stop_group(process)
    assert not group_is_alive(process.pid), f"{command[0]} left processes running"
    assert not is_listening(port), f"something still listens on {HOST}:{port}"


def wait_until_answers(
    url: str, process: subprocess.Popen, log: Path, start_seconds: float
) -> None:
    deadline = time.monotonic() + start_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {start_seconds:.0f} s:\n{log.read_text()}")
