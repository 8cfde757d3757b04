"""One package per pipeline, as in the Kedro starters."""
