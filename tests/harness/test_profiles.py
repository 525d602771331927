"""Profile loading: the shipped profiles load, and every broken field names itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfgate.errors import ProfileError
from perfgate.profiles import load_profile
from perfgate.profiles.durations import parse_duration_s

PROFILES = Path(__file__).resolve().parents[2] / "profiles"

VALID = """
warmup = "1s"
thresholds = ["p99 < 50ms"]
[[stages]]
name = "ramp"
duration = "2s"
users = 4
spawn_rate = 4
measure = false
[[stages]]
duration = "5s"
users = 4
"""


@pytest.mark.parametrize("path", sorted(PROFILES.glob("*.toml")), ids=lambda path: path.stem)
def test_shipped_profile_loads(path: Path) -> None:
    profile = load_profile(str(path))
    assert profile.stages
    assert profile.locustfile is not None
    assert profile.locustfile.is_file()


def test_smoke_by_name_has_ramp_then_measured_steady() -> None:
    profile = load_profile("smoke")
    assert [stage.measure for stage in profile.stages] == [False, True]
    assert 20 <= profile.duration_s <= 30


def test_valid_profile_fields(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(VALID)
    profile = load_profile(str(path))
    assert profile.name == "p"
    assert profile.warmup_s == 1.0
    assert profile.stages[1].name == "stage-1"
    assert profile.stages[1].spawn_rate == 10.0
    assert profile.thresholds == ("p99 < 50ms",)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("speed = 3\n" + VALID, r"unknown key 'speed' at top level"),
        (
            VALID.replace("users = 4\nspawn_rate", "users = -1\nspawn_rate"),
            r"invalid stages\[0\]\.users = -1",
        ),
        (
            VALID.replace('duration = "2s"', 'duration = "two"'),
            r"stages\[0\]\.duration: invalid duration 'two'",
        ),
        (VALID.replace("spawn_rate = 4", "spawn_rate = 0"), r"stages\[0\]\.spawn_rate = 0"),
        (VALID.replace('warmup = "1s"', 'warmup = "-1s"'), r"warmup: invalid duration '-1s'"),
        (VALID.replace("measure = false", "measure = 'no'"), r"stages\[0\]\.measure = 'no'"),
        ('warmup = "1s"\n', r"'stages' is missing or empty"),
        (
            VALID.replace("[[stages]]\nduration", "[[stages]]\nmeasure = false\nduration"),
            r"no stage has measure = true",
        ),
        (VALID.replace('thresholds = ["p99 < 50ms"]', "thresholds = 5"), r"invalid thresholds = 5"),
        ("stages = [", r"is not valid TOML"),
    ],
    ids=[
        "unknown-key",
        "negative-users",
        "bad-duration",
        "zero-spawn-rate",
        "negative-warmup",
        "measure-not-bool",
        "no-stages",
        "nothing-measured",
        "thresholds-not-list",
        "broken-toml",
    ],
)
def test_broken_profile_names_file_and_field(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=match) as caught:
        load_profile(str(path))
    assert str(path) in str(caught.value)


def test_measured_stages_must_be_contiguous(tmp_path: Path) -> None:
    path = tmp_path / "gap.toml"
    path.write_text(
        "[[stages]]\nduration = 1\nusers = 1\n"
        "[[stages]]\nduration = 1\nusers = 1\nmeasure = false\n"
        "[[stages]]\nduration = 1\nusers = 1\n"
    )
    with pytest.raises(ProfileError, match=r"measured stages \[0, 2\] are not contiguous"):
        load_profile(str(path))


def test_missing_profile_name_lists_places() -> None:
    with pytest.raises(ProfileError, match=r"profile 'no-such-profile' not found in .*profiles"):
        load_profile("no-such-profile")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (5, 5.0),
        (0.5, 0.5),
        ("20s", 20.0),
        ("2m", 120.0),
        ("1m30s", 90.0),
        ("250ms", 0.25),
        ("1h", 3600.0),
    ],
    ids=["int", "float", "seconds", "minutes", "compound", "milliseconds", "hours"],
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration_s(value) == seconds


@pytest.mark.parametrize("value", ["", "5", "5x", "s5", "1m 30", -1, True, None], ids=repr)
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration_s(value)
