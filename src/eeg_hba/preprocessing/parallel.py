"""Process-parallel work feeding Kedro's lazily saved partitions, with bounded memory.

Worker processes come from joblib's reusable loky executor: started once, they stay for
every later map of the process (train and test shards, each set of synthetic files)
and import only the modules of the tasks they unpickle.
"""

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import islice
from typing import TypeVar

from joblib.externals.loky import get_reusable_executor
from tqdm.auto import tqdm

Item = TypeVar("Item")
Result = TypeVar("Result")
#: ``map(function, items)`` in order, computed elsewhere (e.g. ``eeg_hba.preprocessing.spark``).
OrderedMap = Callable[[Callable[[Item], Result], Iterable[Item]], Iterator[Result]]


def ordered_parallel_map(
    function: Callable[[Item], Result], items: Iterable[Item], workers: int, lookahead: int = 2
) -> Iterator[Result]:
    """``map(function, items)`` over ``workers`` processes, in order.

    At most ``workers * lookahead`` items are submitted and not yet consumed, so memory
    stays bounded whatever the number of items and however slowly results are consumed
    (``joblib.Parallel`` dispatches on completion, not on consumption). Workers are
    loky processes (fork-exec), so a parent that has loaded TensorFlow is safe to use.
    """
    if workers <= 1:
        yield from map(function, items)
        return
    executor = get_reusable_executor(max_workers=workers)
    remaining = iter(items)
    pending = deque(
        executor.submit(function, item) for item in islice(remaining, workers * lookahead)
    )
    try:
        while pending:
            result = pending.popleft().result()
            pending.extend(executor.submit(function, item) for item in islice(remaining, 1))
            yield result
    finally:  # a consumer that stops early leaves no work running
        for future in pending:
            future.cancel()


class _OrderedResults:
    """Results of ``function`` over named items, produced in sorted-name order on demand."""

    def __init__(self, function: Callable, items: dict, ordered_map: OrderedMap, description: str):
        self._function, self._items, self._map = function, items, ordered_map
        self.names = sorted(items)
        self._results: Iterator | None = None  # started by the first request
        self._buffer: dict = {}
        self._produced = 0
        self._progress = tqdm(total=len(self.names), desc=description, unit="file", delay=1)

    def take(self, name: str):
        if self._results is None:
            work = (self._items[n] for n in self.names)
            self._results = self._map(self._function, work)
        while name not in self._buffer:
            self._buffer[self.names[self._produced]] = next(self._results)
            self._produced += 1
            self._progress.update()
        if self._produced == len(self.names):
            self._progress.close()
        return self._buffer.pop(name)


def lazy_partitions(
    function: Callable[[Item], Result],
    items: dict[str, Item],
    workers: int,
    description: str,
    ordered_map: OrderedMap | None = None,
) -> dict[str, Callable[[], Result]]:
    """``{name: loader}`` for a PartitionedDataset to save lazily, computed in parallel.

    ``workers`` local processes compute them, unless ``ordered_map`` (e.g. a Spark job)
    is given. Work starts when the dataset asks for its first partition and runs a few
    partitions ahead in the order the dataset saves them (sorted names); a request out of
    that order is still answered, by buffering. A progress bar shows the ETA.
    """
    mapper = ordered_map or partial(ordered_parallel_map, workers=workers)
    results = _OrderedResults(function, items, mapper, description)
    return {name: partial(results.take, name) for name in results.names}
