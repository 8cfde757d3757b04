"""Preprocessing as an Apache Spark job: the same per-shard work, on local cores or a cluster.

The planned shard jobs (``eeg_hba.preprocessing.shards``) are distributed as a collection, one task
each; every task runs the same ``compute_shard`` on an executor, which reads the raw
files that shard needs (so the raw folder must be reachable from the executors: a shared
file system or object store). On a cluster the executors get this package from the driver
(``ship_package``); its dependencies must be installed in their Python. Results wait on
the executors' disks and are then streamed to the driver one at a time, in order, where
the catalog writes them: the shards and their index are those of the single-machine
path. Needs the optional extra (``pip install -e .[spark]``) and Java 17+. No Kedro
imports.
"""

import os
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from pyspark import SparkContext, SparkFiles, StorageLevel
from pyspark.sql import SparkSession

Item = TypeVar("Item")
Result = TypeVar("Result")
PACKAGE = Path(__file__).resolve().parents[1]  # the eeg_hba package this driver runs


def spark_session(master: str, config: dict[str, str]) -> SparkSession:
    """The running session, or a new one on ``master`` (``local[*]`` or a cluster URL).

    Python workers run this interpreter unless ``PYSPARK_PYTHON`` (or the
    ``spark.pyspark.python`` property) names another: on a cluster, the path of a Python
    with the project's dependencies on every node. Local mode's workers are started from
    this environment and import the package as the driver does; a cluster's executors are
    sent it (``ship_package``).
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master)
    for key, value in config.items():
        builder = builder.config(key, str(value))
    session = builder.getOrCreate()
    if not master.startswith("local"):
        ship_package(session.sparkContext)
    return session


def ship_package(context: SparkContext) -> None:
    """Put this driver's ``eeg_hba`` on the executors' Python path, as a zip (once per session).

    Tasks are pickled here and unpickled on the executors, so they must run the very code
    the driver runs: a zip of the imported package guarantees it, needs no build or install
    step, and Spark distributes it under any cluster manager (standalone, YARN,
    Kubernetes). It is written in the session's own file folder, which Spark removes when
    it stops.
    """
    archive = f"{PACKAGE.name}.zip"
    if any(path.endswith(f"/{archive}") for path in context.listFiles):
        return
    folder = Path(SparkFiles.getRootDirectory()) / "package"
    folder.mkdir(exist_ok=True)
    with zipfile.ZipFile(folder / archive, "w") as package:
        for path in sorted(PACKAGE.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                package.write(path, path.relative_to(PACKAGE.parent))
    context.addPyFile(str(folder / archive))


def spark_ordered_map(
    function: Callable[[Item], Result], items: Iterable[Item], spark: SparkSession
) -> Iterator[Result]:
    """``map(function, items)`` as one Spark job, a task per item, results in input order.

    All tasks run in parallel before the first result is returned; results are kept on
    the executors' disks, not in memory, and the driver holds one at a time.
    """
    work = list(items)
    if not work:
        return
    results = (
        spark.sparkContext.parallelize(work, len(work))
        .map(function)
        .persist(StorageLevel.DISK_ONLY)
    )
    try:
        results.count()  # runs every task; the iterator below only fetches
        yield from results.toLocalIterator()
    finally:
        results.unpersist()
