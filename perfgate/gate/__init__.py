"""The regression gate: judge candidate results against a baseline, and design claims in one run.

Modules, in the order data flows through them:

    samples      the in-memory form of results: one Series of samples per benchmark or metric
    loaders      read pytest-benchmark JSON files and perfgate run folders into ResultSets
    statistics   estimators: bootstrap and Hodges-Lehmann intervals, Benjamini-Hochberg
    verdicts     compare two ResultSets row by row and decide the gate's outcome
    claims       read claims.toml and judge same-run ratio and bound claims
    outputs      render a verdict as Markdown (CI job summary) or JUnit XML
"""
