"""Run results: the run.json record, the time series, and their atomic storage."""
