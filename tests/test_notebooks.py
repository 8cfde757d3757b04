"""The notebooks are stored clean and run top to bottom on the tiny trained project."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .projects import PROJECT_ROOT

NOTEBOOKS = PROJECT_ROOT / "notebooks"
NOTEBOOK_NAMES = ("exploration", "model_comparison")


def read_notebook(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=nbformat.NO_CONVERT)


def outputs_of(notebook: nbformat.NotebookNode, kind: str) -> list[str]:
    """Every output of MIME type ``kind`` (such as ``image/png``), in order."""
    return [
        output["data"][kind]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if kind in output.get("data", {})
    ]


def tables_of(notebook: nbformat.NotebookNode) -> list[str]:
    """The HTML of every pandas table shown (Kedro's log lines are HTML too)."""
    return [html for html in outputs_of(notebook, "text/html") if 'class="dataframe"' in html]


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_is_stored_without_outputs(name: str) -> None:
    notebook = read_notebook(name)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert [cell.outputs for cell in code] == [[]] * len(code)
    assert {cell.execution_count for cell in code} == {None}


def execute(name: str, project: Path, monkeypatch: pytest.MonkeyPatch) -> nbformat.NotebookNode:
    """Run a notebook as a user would, from notebooks/, pointed at ``project``."""
    monkeypatch.setenv("EEG_HBA_PROJECT", str(project))
    notebook = read_notebook(name)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": NOTEBOOKS}}
    ).execute()
    return notebook


@pytest.mark.slow
def test_exploration_notebook_draws_every_figure(
    trained_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = execute("exploration", trained_project, monkeypatch)
    # class/vote distributions, the bipolar montage, the spectrogram panels, the image
    assert len(outputs_of(notebook, "image/png")) == 4
    label_preview = tables_of(notebook)[0]
    assert "expert_consensus" in label_preview


@pytest.mark.slow
def test_model_comparison_notebook_reads_every_run(
    trained_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = execute("model_comparison", trained_project, monkeypatch)
    runs_table = tables_of(notebook)[0]
    for model in ("efficientnet_b2", "mobilenet_v3_large", "resnet50_v2", "densenet121"):
        assert model in runs_table
    assert "ensemble" in runs_table and "classical" in runs_table and "class prior" in runs_table
    report = outputs_of(notebook, "text/markdown")[-1]
    assert report.startswith("# Model comparison on the held-out split")
    assert len(outputs_of(notebook, "image/png")) == 2
