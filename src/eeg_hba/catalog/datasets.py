"""Project datasets: atomic saving for any file dataset, ``.npz`` archives that are never
unpickled, the classical baseline in skops' format, raw HMS tables read as text, and
partitions a node may resume from."""

import logging
import posixpath
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import IO, Any
from uuid import uuid4

import fsspec
import numpy as np
import pandas as pd
from kedro.io import AbstractDataset, AbstractVersionedDataset, DatasetError, Version
from kedro.io.core import get_filepath_str, get_protocol_and_path
from kedro_datasets.pandas import CSVDataset
from kedro_datasets.partitions import PartitionedDataset

from eeg_hba.catalog.raw_files import FileDataset
from eeg_hba.hms.contract import HmsContractError, Violation
from eeg_hba.training.classical import ClassicalModel, dump_classical_model, load_classical_model


@contextmanager
def _written_beside(fs: fsspec.AbstractFileSystem, target: str) -> Iterator[str]:
    """A hidden temporary path beside ``target``, renamed onto it once written completely.

    A rename within one folder is atomic, so after a crash at any moment the target is
    either the old file or the complete new one; the temporary file never matches a
    dataset's name or suffix, so nothing reads it.
    """
    folder, name = posixpath.split(target)
    fs.makedirs(folder, exist_ok=True)
    partial = posixpath.join(folder, f".{name}.{uuid4().hex}.partial")
    try:
        yield partial
        fs.mv(partial, target)
    finally:
        if fs.exists(partial):
            fs.rm(partial, recursive=True)


@contextmanager
def _file_written_beside(fs: fsspec.AbstractFileSystem, target: str) -> Iterator[IO[bytes]]:
    """A binary file to write, renamed onto ``target`` once closed (``_written_beside``)."""
    with _written_beside(fs, target) as partial, fs.open(partial, "wb") as file:
        yield file


class AtomicDataset(AbstractVersionedDataset[Any, Any]):
    """Any file dataset (``dataset``: its type; other arguments go to it) saved atomically.

    Kedro's file datasets write in place, so a run killed while saving leaves half a
    file; this one lets the wrapped dataset write a temporary file beside the target and
    renames it. Versioned too: an unfinished version holds no file, so it is never the
    latest.
    """

    def __init__(
        self,
        *,
        dataset: str,
        filepath: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
        **dataset_args: Any,
    ):
        protocol, path = get_protocol_and_path(filepath)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol)
        self._dataset_config = {"type": dataset, **dataset_args}
        self.metadata = metadata
        super().__init__(PurePosixPath(path), version, self._fs.exists, self._fs.glob)

    def _wrapped(self, path: PurePosixPath | str) -> AbstractDataset:
        filepath = get_filepath_str(PurePosixPath(path), self._protocol)
        return AbstractDataset.from_config(
            f"atomic:{self._filepath}", {**self._dataset_config, "filepath": filepath}
        )

    def load(self) -> Any:
        return self._wrapped(self._get_load_path()).load()

    def save(self, data: Any) -> None:
        target = get_filepath_str(self._get_save_path(), self._protocol)
        with _written_beside(self._fs, target) as partial:
            self._wrapped(partial).save(data)

    def _exists(self) -> bool:
        try:
            load_path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(load_path)

    def _describe(self) -> dict[str, Any]:
        return {
            "dataset": self._dataset_config["type"],
            "filepath": self._filepath,
            "version": self._version,
        }


class NpzArchive(Mapping[str, np.ndarray]):
    """The arrays of one ``.npz`` file, each read when first asked for and never unpickled
    (an object array raises ``ValueError`` when read): a zip member is read on its own, so
    a reader of a shard's ids or fingerprint never reads its images."""

    def __init__(self, open_file: Callable[[], IO[bytes]], path: str):
        self._open, self._path = open_file, path
        with open_file() as file:
            self._names = np.load(file, allow_pickle=False).files  # the zip's directory
        self._arrays: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._arrays:
            if key not in self._names:
                raise KeyError(f"{key!r} is not in {self._path} (it holds {self._names})")
            with self._open() as file:
                self._arrays[key] = np.load(file, allow_pickle=False)[key]
        return self._arrays[key]

    def __contains__(self, key: object) -> bool:  # without reading the array
        return key in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class NpzDataset(FileDataset):
    """A dict of arrays in one ``.npz`` file, saved atomically; loaded as an ``NpzArchive``
    that reads each array when it is first used and refuses pickles."""

    def load(self) -> NpzArchive:
        return NpzArchive(lambda: self._fs.open(self._path(), "rb"), self._path())

    def save(self, data: dict[str, np.ndarray]) -> None:
        with _file_written_beside(self._fs, self._path()) as file:
            np.savez(file, **data)


class ClassicalModelDataset(FileDataset):
    """The classical baseline's ``ClassicalModel`` in one skops file, saved atomically;
    loading refuses a file holding any type outside ``eeg_hba.training.classical.TRUSTED_TYPES``."""

    def load(self) -> ClassicalModel:
        with self._fs.open(self._path(), "rb") as file:
            return load_classical_model(file.read())

    def save(self, data: ClassicalModel) -> None:
        with _file_written_beside(self._fs, self._path()) as file:
            file.write(dump_classical_model(data))


class RawTableDataset(CSVDataset):
    """A raw HMS table: a file that is empty or not a CSV table is a contract violation
    naming the file, not a parser's stack trace."""

    def load(self) -> pd.DataFrame:
        try:
            return super().load()
        except DatasetError as error:
            unreadable = (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError)
            if not isinstance(error.__cause__, unreadable):
                raise
            rule = f"the file must be a CSV table with a header row ({error.__cause__})"
            raise HmsContractError([Violation(str(self._filepath), rule)]) from error


class OptionalCSVDataset(CSVDataset):
    """A CSV that may be absent: loads as an empty table (and says so) when missing.

    For sidecars such as the synthetic generator's latent truth, which real data lacks.
    """

    def load(self) -> pd.DataFrame:
        if not self._exists():
            logging.getLogger(__name__).info(
                "%s does not exist: using an empty table", self._filepath
            )
            return pd.DataFrame()
        return super().load()


class ResumablePartitionsDataset(PartitionedDataset):
    """The partitions a folder already holds, as loaders (none on a first run).

    Given to the node that writes that folder, so that a re-run after a crash computes
    only what is missing.
    """

    def load(self) -> dict[str, Callable[[], Any]]:
        return super().load() if self._exists() else {}
