"""Raw HMS parquet files for the catalog: a file's table, or only what its footer says.

``ParquetTableDataset`` loads a file as a ``pyarrow.Table``: the preprocessing pass cuts
its windows straight from the columns, without a pandas frame of the whole file.
``ParquetLayoutDataset`` loads a ``ParquetLayout``: column names and types and the row
count from the footer, and only the columns asked for (a spectrogram's ``time``), so
ingestion checks every file without reading its data. Light on imports: the worker
processes of the preprocessing pass unpickle these datasets (no pandera, no sklearn).
"""

from pathlib import PurePosixPath
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from kedro.io import AbstractDataset
from kedro.io.core import get_filepath_str, get_protocol_and_path
from pyarrow import fs as arrow_fs

from eeg_hba.hms.windows import ParquetLayout, read_layout


class FileDataset(AbstractDataset):
    """One file at ``filepath`` on any fsspec file system: the base of the raw parquet
    datasets here and of ``eeg_hba.catalog.datasets.NpzDataset``."""

    def __init__(
        self,
        filepath: str,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        protocol, path = get_protocol_and_path(filepath)
        self._protocol = protocol
        self._filepath = PurePosixPath(path)
        self._fs = fsspec.filesystem(protocol, **(fs_args or {}))
        self.metadata = metadata

    def _path(self) -> str:
        return get_filepath_str(self._filepath, self._protocol)

    def _exists(self) -> bool:
        return self._fs.exists(self._path())

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol}


class _ParquetFileDataset(FileDataset):
    """A raw parquet file, read only."""

    def _open(self) -> pa.NativeFile:
        """The file opened for random access: by pyarrow itself for a local file (native
        reads, no Python file object in between), through fsspec for any other."""
        if self._protocol == "file":
            return arrow_fs.LocalFileSystem().open_input_file(self._path())
        file_system = arrow_fs.PyFileSystem(arrow_fs.FSSpecHandler(self._fs))
        return file_system.open_input_file(self._path())

    def save(self, data: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} only reads raw files")


class ParquetTableDataset(_ParquetFileDataset):
    """The whole file as a ``pyarrow.Table``."""

    def load(self) -> pa.Table:
        with self._open() as file:
            return pq.read_table(file)


class ParquetLayoutDataset(_ParquetFileDataset):
    """The file's footer and ``columns`` (those of them it has) as a ``ParquetLayout``."""

    def __init__(self, filepath: str, columns: list[str] | None = None, **kwargs: Any):
        super().__init__(filepath, **kwargs)
        self._columns = list(columns or [])

    def load(self) -> ParquetLayout:
        with self._open() as file:
            return read_layout(file, self._columns)

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "columns": self._columns}
