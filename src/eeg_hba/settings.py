"""Project settings: hooks and the configuration loader."""

from kedro.config import OmegaConfigLoader

from eeg_hba.hooks import EmbeddedDataHook

HOOKS = (EmbeddedDataHook(),)

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment (conf/kaggle, conf/local) and a nested --params override change only
    # the keys they name; the rest of each block comes from conf/base.
    "merge_strategy": {"parameters": "soft"},
}
