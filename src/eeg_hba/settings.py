"""Project settings: hooks and the configuration loader."""

from kedro.config import OmegaConfigLoader

from eeg_hba.hooks import EmbeddedDataHook, RunLockHook, RunNameHook
from eeg_hba.training.multi_worker import chief_only

HOOKS = (RunLockHook(), EmbeddedDataHook(), RunNameHook())

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment (conf/kaggle, conf/local) and a nested --params override change only
    # the keys they name; the rest of each block comes from conf/base.
    "merge_strategy": {"parameters": "soft"},
    # ${chief_only:path}: the path itself, except on a worker of a multi-worker training
    # (TF_CONFIG) that is not the chief, where it is a scratch copy removed at exit.
    "custom_resolvers": {"chief_only": chief_only},
}
