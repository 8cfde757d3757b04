"""From raw files to model inputs: the images and signals, the classical feature vector,
the patient-grouped splits, and the one pass (local worker processes or Spark) that reads
every raw file once. No Kedro imports."""
