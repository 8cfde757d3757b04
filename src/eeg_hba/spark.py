"""Preprocessing as an Apache Spark job: the same per-shard work, on local cores or a cluster.

The planned shard jobs (``eeg_hba.shards``) are distributed as a collection, one task
each; every task runs the same ``compute_shard`` on an executor, which reads the raw
files that shard needs (so the raw folder must be reachable from the executors: a shared
file system or object store). Results wait on the executors' disks and are then streamed
to the driver one at a time, in order, where the catalog writes them: the shards and
their index are those of the single-machine path. Needs the optional extra
(``pip install -e .[spark]``) and Java 17+. No Kedro imports.
"""

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from pyspark import StorageLevel
from pyspark.sql import SparkSession

Item = TypeVar("Item")
Result = TypeVar("Result")


def spark_session(master: str, config: dict[str, str]) -> SparkSession:
    """The running session, or a new one on ``master`` (``local[*]`` or a cluster URL).

    Python workers run this interpreter unless ``PYSPARK_PYTHON`` names another, so
    local mode sees the project's environment.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master)
    for key, value in config.items():
        builder = builder.config(key, str(value))
    return builder.getOrCreate()


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
