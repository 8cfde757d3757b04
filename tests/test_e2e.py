"""What users see, in a real browser: kedro viz of the pipelines and the MLflow UI.

Playwright drives Debian's headless chromium (no browser download) against servers this
module starts on 127.0.0.1, each in its own process group that the test stops again.
"""

import json
import os
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from eeg_hba.training.model_kinds import MODELS

from .servers import HOST, free_port, serving

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
# The network is closed: without these chromium waits on services it cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAYERS = ["raw", "intermediate", "model_input", "models", "model_output", "reporting"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(60_000)
    yield context.new_page()
    context.close()


def screenshot(page: Page, path: Path) -> Path:
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 0
    return path


# --- kedro viz ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def viz_build(trained_project: Path) -> Path:
    """``kedro viz build`` in the trained project: a static site under its ``build/``."""
    built = subprocess.run(
        [str(Path(sys.executable).parent / "kedro"), "viz", "build"],
        cwd=trained_project,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        capture_output=True,
        text=True,
        check=False,  # the assertion below shows its output
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return trained_project / "build"


def test_viz_build_has_the_layers_and_a_namespace_per_backbone(viz_build: Path) -> None:
    default = json.loads((viz_build / "api/main").read_text())
    assert default["layers"] == LAYERS
    train_all = json.loads((viz_build / "api/pipelines/train_all").read_text())
    namespaces = set(train_all["modular_pipelines"]) - {"__root__"}
    assert namespaces == set(MODELS) | {"classical", "train_inputs", "test_inputs"}
    readable = {node["name"] for node in train_all["nodes"] if node["type"] == "task"}
    assert {"validate_train_labels", "make_label_table", "train_backbone"} <= readable
    # generating the embedded data set is a pipeline of its own, drawn as its steps
    synthetic = json.loads((viz_build / "api/pipelines/synthetic").read_text())
    steps = {node["name"] for node in synthetic["nodes"] if node["type"] == "task"}
    assert {"plan_synthetic_dataset", "write_synthetic_signal_files"} <= steps


def test_kedro_viz_shows_train_all_as_collapsible_models(
    viz_build: Path, page: Page, tmp_path: Path
) -> None:
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", HOST]
    with serving(
        [*command, "--directory", str(viz_build)], port, "/", tmp_path / "http.log"
    ) as url:
        # Keep the first-visit feature tour from covering the flowchart.
        page.add_init_script(
            "window.localStorage.setItem('KedroViz', JSON.stringify({showFeatureHints: false}))"
        )
        page.goto(f"{url}/?pid=train_all")
        namespaces = page.locator("g.pipeline-node--modularPipeline")
        expect(namespaces.filter(has_text="densenet121")).to_be_visible()
        assert set(MODELS) <= set(namespaces.all_text_contents())
        expect(page.locator(".pipeline-layer-name").first).to_have_text("raw")
        collapsed = screenshot(page, tmp_path / "kedro-viz-train_all.png")

        # A namespace opens on click to show the node inside it.
        namespaces.filter(has_text="resnet50_v2").click()
        expect(page.locator("g.pipeline-node--task", has_text="train_backbone")).to_have_count(1)
        expect(namespaces.filter(has_text="resnet50_v2")).to_have_count(0)
        expanded = screenshot(page, tmp_path / "kedro-viz-resnet50_v2-expanded.png")
    assert collapsed.exists() and expanded.exists()


# --- MLflow UI ------------------------------------------------------------------------------


def runs_with_holdout_kl(client: mlflow.MlflowClient, experiment_id: str) -> dict[str, str]:
    """``{run id: run name}`` of the runs the evaluation logged a held-out KL into."""
    runs = client.search_runs([experiment_id], filter_string="metrics.holdout_kl_all > 0")
    return {run.info.run_id: run.info.run_name for run in runs}


def tick_metric_column(page: Page, metric: str) -> None:
    """Columns > search ``metric`` > open Metrics (its intervals match too) > tick it.

    The selector's tree is rebuilt, folded again, while runs are still arriving, so the
    Metrics branch is opened whenever it shows closed, until the metric's box is visible.
    """
    page.get_by_role("button", name="Columns", exact=True).click()
    page.get_by_placeholder("Search columns").fill(metric)
    tree = page.get_by_test_id("column-selector-tree")
    switcher = tree.locator("[class*=tree-treenode]", has_text="Metrics (").locator(
        "[class*=tree-switcher]"
    )
    checkbox = (
        tree.locator("[class*=tree-treenode]")
        .filter(has_text=re.compile(rf"^{re.escape(metric)}$"))
        .locator("[class*=tree-checkbox]")
        .first
    )
    for _ in range(10):
        if "switcher_close" in (switcher.first.get_attribute("class") or ""):
            switcher.first.click()
        try:
            expect(checkbox).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            continue
    checkbox.click()
    expect(checkbox).to_have_class(re.compile("checkbox-checked"))
    page.keyboard.press("Escape")


def test_mlflow_ui_lists_every_model_and_baseline_with_its_holdout_kl(
    trained_project: Path, page: Page, tmp_path: Path
) -> None:
    store = f"sqlite:///{trained_project / 'mlflow.db'}"
    client = mlflow.MlflowClient(store)
    experiment = client.get_experiment_by_name("eeg_hba")
    runs = runs_with_holdout_kl(client, experiment.experiment_id)
    assert sorted(runs.values()) == sorted(
        [
            *MODELS,
            "classical",
            "ensemble",
            "class prior",
            "uniform (1/6)",
            "oracle (latent truth)",
        ]
    )
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "mlflow"), "ui", "--backend-store-uri", store,
        "--host", HOST, "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    page.set_viewport_size({"width": 2200, "height": 1000})  # the metric column in view too
    with serving(command, port, "/health", tmp_path / "mlflow.log") as url:
        # The runs table, filtered as a user would: every run that has a held-out KL.
        query = urllib.parse.urlencode({"searchFilter": "metrics.holdout_kl_all > 0"})
        page.goto(f"{url}/#/experiments/{experiment.experiment_id}/runs?{query}")
        # Every scored run is nested under the run of the `kedro run` that made it.
        run_name = '[col-id="attributes.`Run Name`"]'
        parents = {
            client.get_run(client.get_run(run_id).data.tags["mlflow.parentRunId"]).info.run_name
            for run_id in runs
        }
        parent_cells = [
            page.locator(run_name).filter(has=page.get_by_role("link", name=parent, exact=True))
            for parent in sorted(parents)
        ]
        # The column list is built from the loaded runs: open it once the table shows them.
        for cell in parent_cells:
            expect(cell).to_be_visible()
        tick_metric_column(page, "holdout_kl_all")
        for cell in parent_cells:
            cell.locator("button").click()
        for run_id, name in runs.items():
            row = page.locator(f'[role=row][row-id="{run_id}"]')
            expect(row.locator(run_name)).to_contain_text(name)
            kl_cell = row.locator('[col-id="metrics.`holdout_kl_all`"]')
            expect(kl_cell).to_be_in_viewport()
            expect(kl_cell).not_to_have_text("-")
            kl = client.get_run(run_id).data.metrics["holdout_kl_all"]
            assert float(kl_cell.inner_text()) == pytest.approx(kl), name
        table = screenshot(page, tmp_path / "mlflow-ui-holdout-kl.png")
    assert table.exists()


def test_mlflow_models_view_lists_the_backbones_and_the_ensemble_with_their_holdout_kl(
    trained_project: Path, page: Page, tmp_path: Path
) -> None:
    store = f"sqlite:///{trained_project / 'mlflow.db'}"
    client = mlflow.MlflowClient(store)
    experiment = client.get_experiment_by_name("eeg_hba").experiment_id
    logged = {model.name: model for model in client.search_logged_models([experiment])}
    assert set(logged) == {*MODELS, "ensemble"}
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "mlflow"), "ui", "--backend-store-uri", store,
        "--host", HOST, "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    page.set_viewport_size({"width": 1920, "height": 1000})  # a full-HD screen
    with serving(command, port, "/health", tmp_path / "mlflow.log") as url:
        # The experiment's Models tab (README's link), in the "Model training" view of the
        # sidebar, with MLflow's Assistant panel closed.
        page.goto(f"{url}/#/experiments/{experiment}/models?workflowType=machine_learning")
        expect(page.get_by_role("heading", name="Models")).to_be_visible()
        assistant = page.get_by_role("button", name="Close", exact=True)
        if assistant.is_visible():
            assistant.click()
        for name, model in logged.items():
            row = page.locator(f'[role=row][row-id="{model.model_id}"]')
            # (the source run, named like the model, is a link too)
            name_cell = row.locator("[col-id=name]")
            expect(name_cell.get_by_role("link", name=name, exact=True)).to_be_visible()
            expect(row.get_by_role("link", name=f"eeg_hba-{name}")).to_be_visible()
            # a metric column's id names its key: metrics.{"metricKey":"holdout_kl_all"}
            kl_cell = row.locator(
                "[role=gridcell][col-id*=metricKey][col-id*=holdout_kl_all]"
                ":not([col-id*=holdout_kl_all_])"  # not its interval's columns
            )
            expect(kl_cell).to_have_text(re.compile(r"^\d"))
            kl = {m.key: m.value for m in model.metrics}["holdout_kl_all"]
            assert float(kl_cell.inner_text()) == pytest.approx(kl), name
            # both held-out KLs on screen, no scrolling or column picking (the high-vote
            # KL's last digits may be cut: MLflow shows every digit and sets the width)
            high_vote = row.locator("[role=gridcell][col-id*=metricKey][col-id*=holdout_kl_high_vote]")
            expect(kl_cell).to_be_in_viewport(ratio=1)
            expect(high_vote).to_be_in_viewport(ratio=0.5)
        models = screenshot(page, tmp_path / "mlflow-ui-models.png")

        # The registered ensemble: its versions, tags and the champion alias.
        page.goto(f"{url}/#/models/eeg_hba-ensemble")
        expect(page.get_by_role("heading", name="eeg_hba-ensemble")).to_be_visible()
        champion = client.get_model_version_by_alias("eeg_hba-ensemble", "champion")
        version = page.get_by_role("row").filter(
            has=page.get_by_role("link", name=f"Version {champion.version}", exact=True)
        )
        expect(version).to_contain_text("champion")
        expect(version).to_contain_text(f"holdout_kl_all: {champion.tags['holdout_kl_all']}")
        expect(version).to_contain_text("data_set: data/01_raw/synthetic #")
        # described: the registered model (what it is) and each version (what it scored)
        expect(version).to_contain_text(champion.description[:24])
        about = client.get_registered_model("eeg_hba-ensemble").description
        expect(page.get_by_text(about[:40])).to_be_visible()
        registered = screenshot(page, tmp_path / "mlflow-ui-eeg_hba-ensemble.png")
    assert models.exists() and registered.exists()
