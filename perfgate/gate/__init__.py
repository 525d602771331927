"""The regression gate: judge candidate results against a baseline, and design claims in one run.

Modules, in the order data flows through them:

    samples      the in-memory form of results: one Series of samples per benchmark or metric
    loaders      read pytest-benchmark JSON files (and, through runs, perfgate run folders)
    runs         turn a perfgate run folder into per-second series
    statistics   estimators of change (Welch, paired, bootstrap, Hodges-Lehmann) and
                 the Benjamini-Hochberg step
    verdicts     compare two ResultSets row by row and decide the gate's outcome
    claims       read claims.toml and judge same-run ratio and bound claims
    outputs      render verdicts as a terminal table, Markdown or JUnit XML
    job          one `perfgate gate` job: read, judge, write the requested files
    validation   replay recorded noise to measure false alarms and detection
"""
