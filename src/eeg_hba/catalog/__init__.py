"""The project's own Kedro datasets: atomic writes, raw parquet files as pyarrow Tables or
their footers, shards without pickle. With the settings, hooks and registry, the only
Kedro imports outside ``pipelines/``."""
