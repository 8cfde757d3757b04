"""One ``kedro run`` per project folder at a time. No Kedro imports.

Two runs in one folder would share training backups, versioned models, shards and the
MLflow store, and each would end the other's MLflow runs as interrupted. A run holds an
exclusive POSIX record lock (``lockf``) on the folder's lock file and writes its process
id, host, start time and command in it; a second run stops at once with a message naming
the first. The operating system drops the lock when the holder's process ends, however it
ends (``kill -9`` included), and worker processes forked by the run do not inherit it (as
they would a ``flock``): a killed run never blocks the next one.
"""

import errno
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import TextIO

#: The lock files this process holds, open: closing one (or any other handle on the same
#: file in this process) would drop its lock.
_HELD: dict[Path, TextIO] = {}


class ConcurrentRunError(RuntimeError):
    """Another run holds the project folder."""


def process_alive(pid: int, host: str) -> bool:
    """Whether process ``pid`` of ``host`` still runs; a process of another host cannot be
    seen from here and counts as running."""
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def this_process() -> dict[str, object]:
    """What names this process to another one: pid, host, start time, command line."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join(sys.argv),
    }


def acquire(path: Path) -> None:
    """Hold the lock at ``path`` until ``release`` or the end of this process, or raise
    ``ConcurrentRunError`` naming the run that holds it."""
    path = path.resolve()
    if path in _HELD:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.open("a+")
    try:
        fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno not in (errno.EACCES, errno.EAGAIN):
            raise
        lock.seek(0)
        try:
            holder = json.loads(lock.read())
            named = (
                f"pid {holder['pid']} on {holder['host']}, started {holder['started']} "
                f"({holder['command']})"
            )
        except ValueError:  # its holder is writing it this instant
            named = "it started this instant"
        lock.close()
        raise ConcurrentRunError(
            f"another kedro run is running in this project folder: {named}. Wait for it "
            f"to end or stop it (its lock: {path})"
        ) from None
    lock.seek(0)
    lock.truncate()
    json.dump(this_process(), lock)
    lock.flush()
    _HELD[path] = lock


def release(path: Path) -> None:
    """Give the lock at ``path`` back, if this process holds it."""
    lock = _HELD.pop(path.resolve(), None)
    if lock is not None:
        lock.truncate(0)
        lock.close()  # closing drops the lock
