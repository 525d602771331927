"""The GitHub Actions example: it parses, and its steps call real perfgate commands.

The workflow never runs here. The tests find every `perfgate ...` command in each
step's shell script and parse it with the CLI. They also check that the steps pass
files to each other: bench results to the gate, the gate's Markdown to the job
summary, and the run's HTML report to the upload.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

ParsedCommand = tuple[str, dict[str, Any]]
ParsePerfgate = Callable[[Sequence[str]], ParsedCommand]

WORKFLOW = Path(__file__).resolve().parents[2] / "deploy" / "github-actions" / "perfgate.yml"
SHELL_OPERATORS = set(";&|()")
SHELL_KEYWORDS = {"do", "done", "then", "else", "elif", "fi", "if", "while", "until", "!"}
# A whole-array expansion such as "${baseline[@]}" stands for options built earlier.
ARRAY_EXPANSION = re.compile(r"^\$\{\w+\[@\]\}$")
# `perfgate bench --ab` names its files <run id>-<side>-r<repeat>.json.
AB_FILE_NAMES = (
    "20261204T120000Z-0a1b2c-base-r1.json",
    "20261204T120000Z-0a1b2c-candidate-r1.json",
)


def _steps() -> list[dict[str, Any]]:
    document = yaml.safe_load(WORKFLOW.read_text())
    (job,) = document["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def _simple_commands(script: str) -> list[list[str]]:
    """Split a shell script into simple commands: words between operators and keywords."""
    commands: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split = True
        current: list[str] = []
        for token in [*lexer, ";"]:
            if set(token) <= SHELL_OPERATORS:
                if current:
                    commands.append(current)
                current = []
            elif current or token not in SHELL_KEYWORDS:
                current.append(token)
    return commands


def _perfgate_commands(script: str) -> list[list[str]]:
    return [
        [word for word in command if not ARRAY_EXPANSION.match(word)]
        for command in _simple_commands(script)
        if command[0] == "perfgate"
    ]


def _parsed_commands(parse_perfgate: ParsePerfgate) -> list[tuple[int, ParsedCommand]]:
    """Return every perfgate command of the workflow with the index of its step."""
    return [
        (index, parse_perfgate(command))
        for index, step in enumerate(_steps())
        for command in _perfgate_commands(step.get("run", ""))
    ]


def _only(parsed: list[tuple[int, ParsedCommand]], name: str) -> tuple[int, dict[str, Any]]:
    (found,) = [(index, params) for index, (command, params) in parsed if command == name]
    return found


def test_shell_splitter_finds_commands() -> None:
    script = 'for f in a/*.json; do x+=(--y "$f"); done\nperfgate gate "${x[@]}" \\\n  --fdr 0.1'

    assert _perfgate_commands(script) == [["perfgate", "gate", "--fdr", "0.1"]]


def test_workflow_runs_on_pull_requests() -> None:
    document = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1, which PyYAML reads, turns the key `on` into True.
    triggers = document.get("on", document.get(True))

    assert "pull_request" in triggers
    for step in _steps():
        assert ("uses" in step) != ("run" in step), step


def test_workflow_commands_parse(parse_perfgate: ParsePerfgate) -> None:
    parsed = _parsed_commands(parse_perfgate)
    names = {command for _, (command, _) in parsed}

    assert names >= {"bench", "gate", "run", "report"}
    _, bench = _only(parsed, "bench")
    assert bench["ab"]


def test_checkout_fetches_base_revision() -> None:
    (checkout,) = [step for step in _steps() if step.get("uses", "").startswith("actions/checkout")]

    assert checkout["with"]["fetch-depth"] == 0


def test_gate_reads_bench_results(parse_perfgate: ParsePerfgate) -> None:
    parsed = _parsed_commands(parse_perfgate)
    bench_step, bench = _only(parsed, "bench")
    gate_step, _ = _only(parsed, "gate")
    script = _steps()[gate_step]["run"]
    globs = re.findall(r"for \w+ in (\S+); do (\w+)\+=\((--\w+)", script)

    assert gate_step > bench_step
    assert {option for _, _, option in globs} == {"--baseline", "--candidate"}
    for pattern, array, _ in globs:
        assert PurePosixPath(pattern).parent == PurePosixPath(bench["out"])
        assert f'"${{{array}[@]}}"' in script
        matches = [name for name in AB_FILE_NAMES if fnmatch.fnmatch(name, Path(pattern).name)]
        assert len(matches) == 1, f"{pattern} matches {matches}"


def test_gate_markdown_reaches_job_summary(parse_perfgate: ParsePerfgate) -> None:
    parsed = _parsed_commands(parse_perfgate)
    gate_step, gate = _only(parsed, "gate")
    markdown = str(gate["markdown"])
    summary_steps = [
        (index, step)
        for index, step in enumerate(_steps())
        if "$GITHUB_STEP_SUMMARY" in step.get("run", "")
    ]

    assert gate["junit"] is not None
    ((summary_step, step),) = summary_steps
    assert summary_step > gate_step
    assert f"cat {markdown} >>" in step["run"]
    # A failed gate is when the summary matters most.
    assert "!cancelled()" in step["if"]


def test_html_report_uploaded(parse_perfgate: ParsePerfgate) -> None:
    parsed = _parsed_commands(parse_perfgate)
    run_step, run = _only(parsed, "run")
    report_step, _ = _only(parsed, "report")
    uploads = [
        (index, step)
        for index, step in enumerate(_steps())
        if step.get("uses", "").startswith("actions/upload-artifact")
    ]
    ((upload_step, upload),) = uploads
    paths = upload["with"]["path"].split()

    assert run_step < report_step < upload_step
    assert f"{run['out']}/*/report.html" in paths
    assert f"for run_dir in {run['out']}/*/" in _steps()[report_step]["run"]


@pytest.mark.parametrize(
    "script",
    [
        pytest.param("perfgate gate --markdwn x.md", id="misspelt-option"),
        pytest.param("perfgate benchmark --ab main", id="unknown-command"),
    ],
)
def test_wrong_workflow_command_rejected(parse_perfgate: ParsePerfgate, script: str) -> None:
    (command,) = _perfgate_commands(script)

    with pytest.raises(ValueError, match=r"No such option|no command"):
        parse_perfgate(command)
