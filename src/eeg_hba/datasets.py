"""Project datasets: ``.npz`` archives (atomic, never unpickled) and optional CSV sidecars."""

import logging
from pathlib import PurePosixPath
from typing import Any
from uuid import uuid4

import fsspec
import numpy as np
import pandas as pd
from kedro.io import AbstractDataset
from kedro.io.core import get_filepath_str, get_protocol_and_path
from kedro_datasets.pandas import CSVDataset


class NpzDataset(AbstractDataset[dict[str, np.ndarray], dict[str, np.ndarray]]):
    """A dict of arrays in one ``.npz`` file.

    Saving writes a temporary file beside the target and renames it, so a reader (or a
    crash) never sees half a file. Loading refuses pickled objects.
    """

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

    def load(self) -> dict[str, np.ndarray]:
        with self._fs.open(get_filepath_str(self._filepath, self._protocol), "rb") as file:
            archive = np.load(file, allow_pickle=False)
            return {key: archive[key] for key in archive.files}

    def save(self, data: dict[str, np.ndarray]) -> None:
        target = get_filepath_str(self._filepath, self._protocol)
        partial = f"{target}.{uuid4().hex}.partial"
        self._fs.makedirs(str(self._filepath.parent), exist_ok=True)
        with self._fs.open(partial, "wb") as file:
            np.savez(file, **data)
        self._fs.mv(partial, target)

    def _exists(self) -> bool:
        return self._fs.exists(get_filepath_str(self._filepath, self._protocol))

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol}


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
