"""What a user reads: a ``kedro run`` prints no warning the project can avoid.

The shared tiny project's run (the synthetic data generated first, every model trained,
evaluated, the submission written) is read line by line: a line that names a warning
(``WARNING``, ``...Warning:``, or a C++ ``W``/``E`` log line of TensorFlow) must be one of
the third-party notices README's "A quiet console" names.
"""

import logging
import re
from pathlib import Path

from .projects import CONSOLE

#: The notices that remain, each a third-party one that the project cannot silence.
ALLOWED_NOTICES = (
    # TensorFlow's C++ logging, before Python can configure it
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "failed call to cuInit",  # no GPU on this machine
    # TensorFlow 2.21's Python side gives tf.data's MapDataset an attribute its C++ op lacks
    "NodeDef mentions attribute use_unbounded_threadpool which is not in the op definition",
    # kedro-mlflow's pipeline model class, imported by Kedro before the project, whose
    # notice MLflow shows whatever the warning filters say
    "Add type hints to the `predict` method",
)
WARNING_LINE = re.compile(r"\bWARNING\b|\b[A-Z]\w*Warning:|^[WE]\d{4} ")


def unexpected_warnings(console: str) -> list[str]:
    return [
        line.strip()
        for line in console.splitlines()
        if WARNING_LINE.search(line) and not any(notice in line for notice in ALLOWED_NOTICES)
    ]


def test_a_tiny_kedro_run_prints_no_warning_outside_the_allow_list(trained_project: Path):
    console = (trained_project.parent / CONSOLE).read_text()
    assert "Completed" in console  # the run's log is there
    assert unexpected_warnings(console) == []


def test_the_check_finds_the_notices_this_project_used_to_print():
    """What the default run printed before: each would fail the test above."""
    before = """\
[12/07/26 20:57:08] WARNING  .../pyspark/pandas/__init__.py:33: FutureWarning: PySpark does not yet fully support pandas >= 3.0.0. Some
                    WARNING  .../eeg_hba/pipelines/training/pipeline.py:11: UserWarning: One or more dataset names contain '.' characters
[12/07/26 20:57:02] WARNING  Exception raised while enabling autologging for tensorflow: cannot import name 'cast'
W0000 00:00:1796677036.473052    2348 loop_optimizer.cc:934] Skipping loop optimization
"""
    assert len(unexpected_warnings(before)) == 4
    assert unexpected_warnings("WARNING: All log messages before absl::InitializeLog() is called "
                               "are written to STDERR") == []  # fmt: skip


def test_one_trace_per_model_is_not_called_retracing(caplog):
    """Predicting with several models in one run traces each model's predict function once,
    which TensorFlow counts as retracing; a real retracing notice still shows."""
    import eeg_hba  # noqa: F401, PLC0415 - installs the filter, as any project import does

    tensorflow = logging.getLogger("tensorflow")
    with caplog.at_level(logging.WARNING):
        tensorflow.warning("5 out of the last 38 calls to <function TensorFlowTrainer."
                           "make_predict_function.<locals>.one_step_on_data_distributed at 0x1> "
                           "triggered tf.function retracing.")  # fmt: skip
        tensorflow.warning("6 out of the last 6 calls to <function augment at 0x2> triggered "
                           "tf.function retracing.")  # fmt: skip
    assert [r.getMessage()[:25] for r in caplog.records] == ["6 out of the last 6 calls"]
