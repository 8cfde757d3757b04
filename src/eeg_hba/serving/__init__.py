"""Predictions of trained models, and the ensemble as an MLflow pyfunc model served from
raw HMS test files. No Kedro imports."""
