"""The codecs: one interface, chosen by name, producing identical compact bytes."""

from __future__ import annotations

import pytest

from targets.codecs import CODECS, get_codec
from targets.errors import TargetConfigError

VALUES: list[object] = [
    {"message": "Hello, World!"},
    {"id": 4174, "randomNumber": 331},
    [{"id": 1, "randomNumber": 10_000}, {"id": 10_000, "randomNumber": 1}],
    [],
    {},
    {"text": "フレームワークのベンチマーク \u2014 caf\u00e9"},
    {"escapes": 'quote " backslash \\ newline \n tab \t control \u0001 slash /'},
    {"nested": {"list": [1, -2, 0, True, False, None]}, "big": 2**53},
    "plain string",
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_codecs_produce_identical_bytes(value: object) -> None:
    outputs = {name: get_codec(name).encode(value) for name in CODECS}
    assert len(set(outputs.values())) == 1, outputs


@pytest.mark.parametrize("name", sorted(CODECS))
def test_codec_output_compact(name: str) -> None:
    encoded = get_codec(name).encode({"id": 1, "randomNumber": [2, 3]})
    assert encoded == b'{"id":1,"randomNumber":[2,3]}'


@pytest.mark.parametrize("name", sorted(CODECS))
def test_codec_keeps_non_ascii_as_utf8(name: str) -> None:
    assert get_codec(name).encode("\u00e9") == '"\u00e9"'.encode()


@pytest.mark.parametrize("name", sorted(CODECS))
def test_codec_named(name: str) -> None:
    assert get_codec(name).name == name


def test_unknown_codec_rejected() -> None:
    with pytest.raises(
        TargetConfigError, match=r"unknown codec 'yaml': expected one of json, msgspec, orjson"
    ):
        get_codec("yaml")
