"""eeg-hba: harmful brain activity classification on EEG in the public HMS layout."""

import importlib.util
import logging
import sys
import warnings
from types import ModuleType

__version__ = "0.1.0"

#: Third-party notices about nothing this project does, silenced wherever the package is
#: imported (kedro run, notebooks, tests, the served model); README's "What the console
#: prints" names them and the one that shows before the package is imported. Each is
#: matched by category and message, so every other warning still shows.
THIRD_PARTY_NOTICES = (
    # pandera imports pyspark.pandas whenever PySpark is installed; no pandas-on-Spark API
    # is used (the spark engine writes the local engine's shards bit for bit)
    (FutureWarning, r"PySpark does not yet fully support pandas >= 3"),
    # Kedro's and kedro-mlflow's own resolver registration (omegaconf's renamed function)
    (UserWarning, r"register_new_resolver\(\) is deprecated"),
    # Kedro's generic notice when a node reads a dataset of another namespace, as evaluation
    # reads each model's namespaced outputs (kedro-org/kedro#5021, open)
    (UserWarning, r"One or more dataset names contain '\.' characters"),
)
for category, message in THIRD_PARTY_NOTICES:
    warnings.filterwarnings("ignore", message=message, category=category)


class _OneTracePerModelFilter(logging.Filter):
    """Drops TensorFlow's "N out of the last M calls to <...make_predict_function...>
    triggered tf.function retracing": TensorFlow counts traces by the Python function, and
    every model of a run has its own predict function, traced on its first call. Any other
    retracing notice still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("triggered tf.function retracing" in message
                    and "make_predict_function" in message)  # fmt: skip


logging.getLogger("tensorflow").addFilter(_OneTracePerModelFilter())


def lazy_module(name: str) -> ModuleType:
    """Module ``name``, executed on its first attribute access (Python's documented
    ``importlib.util.LazyLoader`` recipe): node modules name their TensorFlow and
    scikit-learn code this way, so listing or drawing the pipelines loads neither."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"no module named {name!r}", name=name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
