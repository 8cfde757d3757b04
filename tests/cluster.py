"""Clusters on 127.0.0.1 for tests: every command in its own session (and process group)
with a bounded lifetime, all stopped at the end and checked gone, with every port they
listened on.

``ProcessGroups`` starts the commands; ``spark_standalone`` starts a Spark standalone
master and workers from the pinned pyspark package; ``python_without_project`` makes an
interpreter with the project's dependencies but not the project, as a cluster node has.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
STOP_SECONDS = 20  # SIGTERM, then SIGKILL for what is left


class StartError(RuntimeError):
    """A process did not get ready: which one, why, and the end of its log."""


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Started:
    """One started command: the leader of its own process group, logging to ``log``."""

    name: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout_s: float) -> re.Match:
        """The first match of ``pattern`` in the log, or a ``StartError`` saying why not."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = re.search(pattern, self.output())
            if found:
                return found
            if self.process.poll() is not None:
                raise StartError(
                    f"{self.name} exited with code {self.process.returncode} before logging "
                    f"{pattern!r}; its log ends:\n{self.output()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise StartError(
                    f"{self.name} did not log {pattern!r} within {timeout_s:.0f} s; "
                    f"its log ends:\n{self.output()[-3000:]}"
                )
            time.sleep(0.2)

    def wait(self, timeout_s: float) -> int:
        """The exit code; a ``TimeoutError`` naming the process if it runs longer."""
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise TimeoutError(
                f"{self.name} still runs after {timeout_s:.0f} s; its log ends:\n"
                f"{self.output()[-3000:]}"
            ) from None


class ProcessGroups:
    """Starts commands, each leading a new session and process group, under ``timeout``:
    a test that dies without cleaning up leaves nothing running beyond ``lifetime_s``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[Started] = []

    def start(
        self,
        name: str,
        command: list[str],
        lifetime_s: int,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Started:
        log = self.folder / (re.sub(r"\W+", "-", name) + ".log")
        with log.open("w") as output:
            process = subprocess.Popen(
                ["timeout", "--kill-after=10", str(lifetime_s), *command],
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                env=env, cwd=cwd,
            )  # fmt: skip
        self.started.append(Started(name, process, log))
        return self.started[-1]

    def kill(self, started: Started) -> None:
        """SIGKILL every process of one started command, as a machine that dies."""
        _signal_sessions([started.process.pid], signal.SIGKILL)
        started.process.wait(timeout=STOP_SECONDS)

    def stop_and_check(self) -> None:
        """Stop every process of the started sessions (a child that made a process group
        of its own, as pyspark's worker daemon does, stays in its session); assert that none
        runs and that no port they listened on (recorded just before) still listens."""
        sessions = [started.process.pid for started in self.started]
        ports = listening_ports(sessions)
        _signal_sessions(sessions, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        while any(session_members(s) for s in sessions) and time.monotonic() < deadline:
            time.sleep(0.2)
        _signal_sessions(sessions, signal.SIGKILL)
        for started in self.started:
            started.process.wait(timeout=STOP_SECONDS)
        left = {s.name: session_members(s.process.pid) for s in self.started}
        assert not any(left.values()), f"processes left running: {left}"
        still = ports & listening_ports(None)
        assert not still, f"ports still listening on {HOST}: {sorted(still)}"


def wait_all(started: list[Started], timeout_s: float) -> list[int]:
    """The exit codes of processes that run together (a cluster's workers). The first to
    fail ends the wait, naming it: the others may wait for it forever."""
    deadline = time.monotonic() + timeout_s
    while any(s.process.poll() is None for s in started):
        failed = [s for s in started if s.process.poll() not in (None, 0)]
        if failed:
            raise StartError(
                f"{failed[0].name} exited with code {failed[0].process.returncode} while "
                f"the others still ran; its log ends:\n{failed[0].output()[-3000:]}"
            )
        if time.monotonic() > deadline:
            running = [s.name for s in started if s.process.poll() is None]
            raise TimeoutError(f"{running} still run after {timeout_s:.0f} s")
        time.sleep(0.5)
    return [s.process.returncode for s in started]


@contextmanager
def process_groups(folder: Path) -> Iterator[ProcessGroups]:
    """``ProcessGroups`` whose processes are stopped and checked gone when the block ends."""
    groups = ProcessGroups(folder)
    try:
        yield groups
    finally:
        groups.stop_and_check()


def _signal_sessions(sessions: list[int], signal_number: int) -> None:
    for pid in (pid for session in sessions for pid in session_members(session)):
        with suppress(ProcessLookupError):  # it has ended
            os.kill(pid, signal_number)


def session_members(session: int) -> list[int]:
    """Live (not zombie) processes of a session, from ``/proc``."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while we looked
        state, process_session = fields[0], int(fields[3])
        if process_session == session and state != "Z":
            members.append(int(stat.parent.name))
    return members


def listening_ports(sessions: list[int] | None) -> set[int]:
    """TCP ports in LISTEN state, of the processes of ``sessions`` (None: of anyone)."""
    listening: dict[str, int] = {}  # socket inode -> port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                listening[fields[9]] = int(fields[1].rsplit(":", 1)[1], 16)
    if sessions is None:
        return set(listening.values())
    inodes = set()
    for pid in (pid for session in sessions for pid in session_members(session)):
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    return {port for inode, port in listening.items() if inode in inodes}


def python_without_project(folder: Path) -> Path:
    """A Python that imports this environment's packages but not ``eeg_hba``, as a cluster
    node with the dependencies installed: a bare venv whose ``.pth`` names our
    site-packages. The editable install's own ``.pth`` there is not processed, so the
    project is importable only from what the driver ships."""
    subprocess.run(
        [sys._base_executable, "-m", "venv", "--without-pip", str(folder)], check=True
    )  # fmt: skip
    site_packages = Path(
        sysconfig.get_path("purelib", vars={"base": str(folder), "platbase": str(folder)})
    )
    (site_packages / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return folder / "bin/python"


def spark_environment() -> dict[str, str]:
    """The environment of every Spark process here: bound to 127.0.0.1, no project on the
    path (executors must get it from the driver), small daemon heaps, no REST submission
    server (it listens on a fixed port), and a taken port is an error rather than a silent
    move to the next one."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return {
        **env,
        "SPARK_LOCAL_IP": HOST,
        "SPARK_DAEMON_MEMORY": "256m",
        "SPARK_DAEMON_JAVA_OPTS": "-Dspark.master.rest.enabled=false -Dspark.port.maxRetries=0",
    }


def spark_daemon(
    groups: ProcessGroups, name: str, main_class: str, port: int, arguments: list[str],
    lifetime_s: int,
) -> Started:  # fmt: skip
    """A Spark master or worker (``main_class``) of the pinned pyspark on 127.0.0.1:``port``."""
    import pyspark  # noqa: PLC0415 - the optional extra; tests without it are skipped

    spark_class = Path(pyspark.__file__).parent / "bin/spark-class"
    return groups.start(
        name,
        [str(spark_class), main_class, *arguments, "--host", HOST, "--port", str(port),
         "--webui-port", str(free_port())],
        lifetime_s,
        env=spark_environment(),
    )  # fmt: skip


def spark_standalone(
    groups: ProcessGroups, workers: int, lifetime_s: int, start_timeout_s: float = 120
) -> str:
    """A Spark standalone master and ``workers`` one-core workers on 127.0.0.1; its URL once
    every worker is registered. A worker that cannot start raises ``StartError``."""
    port = free_port()
    master = spark_daemon(
        groups, "spark master", "org.apache.spark.deploy.master.Master", port, [], lifetime_s
    )
    master.wait_for(r"I have been elected leader", start_timeout_s)
    url = f"spark://{HOST}:{port}"
    started = []
    for number in range(1, workers + 1):
        arguments = [url, "--cores", "1", "--memory", "1g", "--work-dir",
                     str(groups.folder / f"worker-{number}")]  # fmt: skip
        worker = spark_daemon(
            groups, f"spark worker {number}", "org.apache.spark.deploy.worker.Worker",
            free_port(), arguments, lifetime_s,
        )  # fmt: skip
        started.append(worker)
    for worker in started:
        worker.wait_for(r"Successfully registered with master", start_timeout_s)
    return url
