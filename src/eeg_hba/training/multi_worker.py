"""Which process of a multi-worker training keeps its outputs. No Kedro imports.

Under ``tf.distribute.MultiWorkerMirroredStrategy`` every worker runs the same program,
each started with its role in the ``TF_CONFIG`` environment variable. All of them must go
through the same steps, saving included (saving may read variables with collective
ops), but only the chief's outputs are kept: as in TensorFlow's multi-worker guide, every
other worker writes to a scratch folder of its own, removed when the process ends.
"""

import atexit
import json
import logging
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

logger = logging.getLogger(__name__)


def is_chief() -> bool:
    """Whether this process's outputs are kept: outside a ``TF_CONFIG`` cluster, the
    ``chief`` task, or worker 0 of a cluster that names no chief."""
    tf_config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = tf_config.get("task")
    if not task:
        return True
    if "chief" in tf_config.get("cluster", {}):
        return task["type"] == "chief"
    return task["type"] == "worker" and int(task["index"]) == 0


@cache
def scratch_folder() -> Path:
    """This process's scratch folder, removed when it ends."""
    folder = Path(tempfile.mkdtemp(prefix="eeg-hba-worker-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    logger.warning(
        "Not the chief of the multi-worker training in TF_CONFIG: this process writes its "
        "outputs to %s, removed when it ends; the chief writes the real ones",
        folder,
    )
    return folder


def chief_only(path: str) -> str:
    """``path`` on the chief; on any other worker, the same path inside its scratch folder.

    The configuration resolver ``${chief_only:...}`` of the outputs a training writes.
    """
    if is_chief():
        return path
    scratch = scratch_folder() / path.lstrip("/")
    scratch.parent.mkdir(parents=True, exist_ok=True)  # e.g. for an SQLite file
    return str(scratch)
