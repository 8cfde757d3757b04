"""Scores on the held-out patients with intervals, the baselines and the oracle, the
ensemble, the comparison report and its figures. No Kedro imports."""
