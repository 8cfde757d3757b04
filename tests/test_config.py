"""Configuration environments: each inherits what it does not change, in every key."""

from dataclasses import asdict
from pathlib import Path

import pytest
from kedro.framework.session import KedroSession

from eeg_hba.training.models import BACKBONES
from eeg_hba.training.two_stage import TrainingConfig

from .projects import make_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("config") / "project")


def _params(project: Path, env: str | None, **runtime_params) -> dict:
    with KedroSession.create(
        project_path=project, env=env, runtime_params=runtime_params or None
    ) as session:
        return session.load_context().params


@pytest.mark.parametrize("env", [None, "kaggle"])
def test_a_nested_override_changes_only_that_key(project, env):
    before = _params(project, env)
    after = _params(project, env, ingestion={"n_folds": 2})
    assert after["ingestion"] == {**before["ingestion"], "n_folds": 2}
    assert before["ingestion"]["n_folds"] == 5 and "max_all_nan_channels" in after["ingestion"]
    assert {k: v for k, v in after.items() if k != "ingestion"} == {
        k: v for k, v in before.items() if k != "ingestion"
    }


def test_a_deeply_nested_override_keeps_its_siblings(project):
    before = _params(project, "kaggle")
    after = _params(project, "kaggle", preprocessing={"features": {"image_height": 64}})
    assert after["preprocessing"]["features"] == {
        **before["preprocessing"]["features"],
        "image_height": 64,
    }
    assert after["preprocessing"]["engine"] == before["preprocessing"]["engine"]


def test_kaggle_lists_only_what_differs_and_inherits_the_rest(project):
    base, kaggle = _params(project, None), _params(project, "kaggle")
    assert kaggle["preprocessing"]["features"]["image_height"] == 512
    assert kaggle["preprocessing"]["features"]["image_width"] == 512
    # every knob conf/kaggle does not name is conf/base's, at any depth
    assert kaggle["preprocessing"]["engine"] == base["preprocessing"]["engine"] == "local"
    assert kaggle["preprocessing"]["spark"] == base["preprocessing"]["spark"]
    for knob in ("bandpass_low_hz", "bandpass_high_hz", "filter_order", "clip_uv"):
        assert kaggle["preprocessing"]["features"][knob] == base["preprocessing"]["features"][knob]
    # the layout: ImageNet-style on kaggle, log rows and one fixed scale from scratch
    layout = ("frequency_scale", "scaling", "given_seconds")
    assert [kaggle["preprocessing"]["features"][k] for k in layout] == ["linear", "per_panel", 600]
    assert [base["preprocessing"]["features"][k] for k in layout] == ["log", "fixed", 240]
    assert kaggle["ingestion"] == base["ingestion"]
    assert kaggle["raw_data_dir"] == "data/01_raw/hms-harmful-brain-activity-classification"
    assert base["raw_data_dir"] == "data/01_raw/synthetic"


def test_kaggle_trains_every_backbone_with_its_stages(project):
    kaggle = _params(project, "kaggle")
    defaults = kaggle["training_defaults"]
    for name in BACKBONES:
        config = TrainingConfig.from_params(defaults, kaggle[name]["training"])
        stages = {"stage1": asdict(config.stage1), "stage2": asdict(config.stage2)}
        assert stages == {"stage1": defaults["stage1"], "stage2": defaults["stage2"]}, name
        assert config.weights == "imagenet" and config.folds == 5
