"""Run the micro-benchmark suite with pytest-benchmark and store its JSON under results/bench/.

runner   one or more runs of the suite in a child pytest process
ab       base and candidate revisions measured in turn, in one job
"""
