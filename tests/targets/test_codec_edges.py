"""Every codec agrees on the edges: bodies decoded into Structs, numbers JSON cannot carry."""

from __future__ import annotations

import math
import os
from http import HTTPStatus
from typing import Annotated

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from targets.codecs import CODECS, Codec, get_codec
from targets.codecs.checks import MAX_INTEGER, MIN_INTEGER
from targets.codecs.errors import (
    CodecError,
    InvalidBodyError,
    SchemaViolationError,
    UnencodableValueError,
)

CODEC_NAMES = sorted(CODECS)


class Profile(msgspec.Struct, forbid_unknown_fields=True):
    """A request body shaped like the user bodies the targets accept."""

    name: Annotated[str, msgspec.Meta(min_length=1)]
    region: str
    id: int | None = None


@pytest.fixture(params=CODEC_NAMES)
def codec(request: pytest.FixtureRequest) -> Codec:
    return get_codec(request.param)


ACCEPTED_BODIES = [
    pytest.param(
        '{"name":"café フレーム","region":"eu"}'.encode(),
        Profile(name="café フレーム", region="eu"),
        id="non-ascii",
    ),
    pytest.param(
        b'{"name":"x","region":"eu","id":18446744073709551615}',
        Profile(name="x", region="eu", id=MAX_INTEGER),
        id="uint64-max",
    ),
    pytest.param(
        b'{"name":"x","region":"eu","id":-9223372036854775808}',
        Profile(name="x", region="eu", id=MIN_INTEGER),
        id="int64-min",
    ),
    pytest.param(
        b'{"name":"12345678901234567890123","region":"eu"}',
        Profile(name="12345678901234567890123", region="eu"),
        id="long-digits-in-string",
    ),
    pytest.param(
        b'{"name":"\\u00e9","region":"eu"}', Profile(name="\u00e9", region="eu"), id="escape"
    ),
]


@pytest.mark.parametrize(("body", "expected"), ACCEPTED_BODIES)
def test_valid_body_decoded(codec: Codec, body: bytes, expected: Profile) -> None:
    assert codec.decode(body, Profile) == expected


INVALID_BODIES = [
    pytest.param(
        b'{"name":"x","region":"eu","id":18446744073709551616}',
        "outside the 64-bit range",
        id="uint64-max-plus-1",
    ),
    pytest.param(
        b'{"name":"x","region":"eu","id":-9223372036854775809}',
        "outside the 64-bit range",
        id="int64-min-minus-1",
    ),
    pytest.param(
        b'{"name":"x","region":"eu","id":' + b"9" * 5000 + b"}",
        "outside the 64-bit range",
        id="5000-digits",
    ),
    pytest.param(b'{"name":"x","region":"eu","id":NaN}', None, id="nan"),
    pytest.param(b'{"name":"x","region":"eu","id":Infinity}', None, id="infinity"),
    pytest.param(b'{"name":"x","region":"eu","id":-Infinity}', None, id="minus-infinity"),
    pytest.param(b'{"name":"x","region":"eu","id":1e400}', None, id="float-overflow"),
    pytest.param(b'{"name":"\\ud800","region":"eu"}', None, id="lone-surrogate"),
    pytest.param(b'{"name":"\xff","region":"eu"}', None, id="invalid-utf8"),
    pytest.param(b"", None, id="empty"),
    pytest.param(b'{"name":"x"', None, id="truncated"),
    pytest.param(b'{"name":"x","region":"eu"} x', None, id="trailing-data"),
]


@pytest.mark.parametrize(("body", "message"), INVALID_BODIES)
def test_invalid_body_rejected_400(codec: Codec, body: bytes, message: str | None) -> None:
    with pytest.raises(InvalidBodyError, match=message) as caught:
        codec.decode(body, Profile)
    assert caught.value.status is HTTPStatus.BAD_REQUEST


SCHEMA_VIOLATIONS = [
    pytest.param(
        b'{"name":1,"region":"eu"}', r"Expected `str`, got `int` - at `\$\.name`", id="wrong-type"
    ),
    pytest.param(b'{"region":"eu"}', r"missing required field `name`", id="missing-field"),
    pytest.param(
        b'{"name":"x","region":"eu","id":"7"}', r"got `str` - at `\$\.id`", id="string-for-int"
    ),
    pytest.param(
        b'{"name":"x","region":"eu","id":true}', r"got `bool` - at `\$\.id`", id="bool-for-int"
    ),
    pytest.param(
        b'{"name":"x","region":"eu","id":1.0}', r"got `float` - at `\$\.id`", id="float-for-int"
    ),
    pytest.param(b'{"name":"","region":"eu"}', r"length >= 1 - at `\$\.name`", id="too-short"),
    pytest.param(
        b'{"name":"x","region":"eu","admin":true}', r"unknown field `admin`", id="unknown-field"
    ),
    pytest.param(b"[]", r"Expected `object`, got `array`", id="array"),
]


@pytest.mark.parametrize(("body", "message"), SCHEMA_VIOLATIONS)
def test_schema_violation_rejected_422(codec: Codec, body: bytes, message: str) -> None:
    with pytest.raises(SchemaViolationError, match=message) as caught:
        codec.decode(body, Profile)
    assert caught.value.status is HTTPStatus.UNPROCESSABLE_ENTITY


@pytest.mark.parametrize(("body", "message"), [*INVALID_BODIES, *SCHEMA_VIOLATIONS])
def test_codecs_reject_alike(body: bytes, message: str | None) -> None:
    outcomes: dict[str, object] = {}
    for name in CODEC_NAMES:
        try:
            outcomes[name] = get_codec(name).decode(body, Profile)
        except CodecError as exc:
            outcomes[name] = exc.status
    assert len(set(outcomes.values())) == 1, outcomes


UNENCODABLE_VALUES = [
    pytest.param(2**64, id="uint64-max-plus-1"),
    pytest.param(-(2**63) - 1, id="int64-min-minus-1"),
    pytest.param({"rows": [1, 2**100]}, id="nested-big-int"),
    pytest.param(math.nan, id="nan"),
    pytest.param(math.inf, id="infinity"),
    pytest.param({"score": -math.inf}, id="nested-minus-infinity"),
    pytest.param(["ok", {"value": math.nan}], id="nan-in-list"),
    pytest.param("\ud800", id="lone-surrogate"),
]


@pytest.mark.parametrize("value", UNENCODABLE_VALUES)
def test_unencodable_value_never_written(codec: Codec, value: object) -> None:
    with pytest.raises(UnencodableValueError):
        codec.encode(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(MAX_INTEGER, id="uint64-max"),
        pytest.param(MIN_INTEGER, id="int64-min"),
        pytest.param({"id": None, "tags": [None]}, id="real-nulls"),
        pytest.param({"text": "null 12345678901234567890"}, id="null-and-digits-in-string"),
        pytest.param({"rows": [{"id": 1234, "n": 5678}] * 5}, id="many-digits"),
    ],
)
def test_edge_values_written_identically(value: object) -> None:
    outputs = {name: get_codec(name).encode(value) for name in CODEC_NAMES}
    assert len(set(outputs.values())) == 1, outputs


def test_msgspec_decodes_into_struct() -> None:
    decoded = get_codec("msgspec").decode(b'{"name":"x","region":"eu","id":3}', Profile)
    assert isinstance(decoded, Profile)
    assert decoded.id == 3


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=MIN_INTEGER, max_value=MAX_INTEGER)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=["Cs"]), max_size=8), children, max_size=5
        )
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_codecs_write_identical_bytes(value: object) -> None:
    outputs = {name: get_codec(name).encode(value) for name in CODEC_NAMES}
    assert len(set(outputs.values())) == 1, outputs


def _decode_outcome(name: str, data: bytes) -> object:
    """Return the decoded Struct, or the HTTP status of the codec's error."""
    try:
        return get_codec(name).decode(data, Profile)
    except CodecError as exc:
        return exc.status


# `PERFGATE_FUZZ_EXAMPLES=N` runs N examples instead, for a longer fuzzing run.
FUZZ_EXAMPLES = int(os.environ.get("PERFGATE_FUZZ_EXAMPLES", "0")) or 300


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.binary(max_size=200) | JSON_VALUES.map(lambda value: get_codec("orjson").encode(value)))
def test_codecs_agree_on_arbitrary_bodies(data: bytes) -> None:
    outcomes = {name: _decode_outcome(name, data) for name in CODEC_NAMES}
    assert len({repr(outcome) for outcome in outcomes.values()}) == 1, outcomes


def test_codec_errors_are_target_errors() -> None:
    from targets.errors import TargetError

    assert issubclass(CodecError, TargetError)
