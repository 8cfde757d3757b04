"""What MLflow runs to build the logged ensemble (models from code): nothing is unpickled."""

from mlflow.models import set_model

from eeg_hba.serving.ensemble_model import EnsembleModel

set_model(EnsembleModel())
