"""The package reads like the data flow: README's layout is the tree, few top-level
modules, and what loads TensorFlow or scikit-learn loads only where it is used."""

import os
import re
import subprocess
import sys
from pathlib import Path

from .projects import PROJECT_ROOT, make_project

PACKAGE = PROJECT_ROOT / "src/eeg_hba"


def _readme_tree() -> set[str]:
    """Paths (relative to ``src/eeg_hba``) README's layout block names: ``name/`` for a
    folder, the last line of a folder listing only sub-folders."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    lines = [line for line in block.splitlines()[2:] if line.strip()]  # below src/eeg_hba/
    paths, parents = set(), []
    for line in lines:
        depth = (len(line) - len(line.lstrip())) // 2 - 1
        names = line.split()
        if all(name.endswith("/") for name in names):  # a row of sub-folders
            paths |= {"/".join([*parents[:depth], name.rstrip("/")]) + "/" for name in names}
            continue
        parents = [*parents[:depth], names[0].rstrip("/")]
        paths.add("/".join(parents) + ("/" if names[0].endswith("/") else ""))
    return paths


def _package_tree() -> set[str]:
    """Every module and folder of the package, the insides of each pipeline and the
    sub-packages' ``__init__.py`` aside."""
    paths = set()
    for path in PACKAGE.rglob("*"):
        relative = path.relative_to(PACKAGE)
        if "__pycache__" in relative.parts or len(relative.parts) > 2:
            continue
        sub_package_init = len(relative.parts) == 2 and path.name == "__init__.py"
        if path.is_dir():
            paths.add(f"{relative}/")
        elif path.suffix == ".py" and relative.parts[0] != "pipelines" and not sub_package_init:
            paths.add(str(relative))
    return paths


def test_readme_layout_is_the_package_tree():
    assert _readme_tree() == _package_tree()


def test_at_most_ten_top_level_modules_beside_the_stage_packages():
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= 10, modules


def _loaded_modules(code: str, cwd: Path) -> set[str]:
    """The modules ``code`` executed (a module ``eeg_hba.lazy_module`` named but nothing
    used yet is not)."""
    listing = "import sys, types\nprint(' '.join(sorted(n for n, m in sys.modules.items() if type(m) is types.ModuleType)))"
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{listing}"],
        cwd=cwd, capture_output=True, text=True, check=True,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
    )  # fmt: skip
    return set(done.stdout.splitlines()[-1].split())


def test_listing_the_pipelines_loads_no_tensorflow(tmp_path):
    """What ``kedro registry list`` and ``kedro viz`` do: build every registered pipeline."""
    project = make_project(tmp_path / "project")
    loaded = _loaded_modules(
        "import runpy, sys\nsys.argv = ['kedro', 'registry', 'list']\n"
        "try:\n    runpy.run_module('kedro', run_name='__main__')\nexcept SystemExit:\n    pass",
        project,
    )
    assert "eeg_hba.pipelines.training.nodes" in loaded  # the pipelines were built ...
    assert not {"tensorflow", "keras"} & loaded  # ... without TensorFlow


def test_the_served_model_loads_only_the_code_it_runs(tmp_path):
    loaded = _loaded_modules("import eeg_hba.serving.ensemble_model", tmp_path)
    project_modules = {m for m in loaded if re.match(r"eeg_hba\.(training|evaluation)\.", m)}
    # the tf.data input and the blend; no training, tracking or scoring code, and not the
    # classical classifier (scikit-learn), loaded only for an ensemble that holds it
    assert project_modules == {
        "eeg_hba.training.inputs", "eeg_hba.evaluation.ensemble", "eeg_hba.evaluation.metrics",
    }  # fmt: skip
