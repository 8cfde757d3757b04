"""Models and their training: the Keras networks, the streaming input with augmentations,
two-stage training, distribution across replicas and workers, MLflow tracking, and the
classical baseline's classifier. No Kedro imports."""
