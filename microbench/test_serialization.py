"""Serialization: json, orjson and msgspec on TechEmpower objects and a large document.

Every codec produces and consumes UTF-8 bytes, because that is what a server writes
to and reads from its socket: the standard library's `json` pays for the
`str.encode`/`bytes.decode` step too. The large document is built here from a fixed
seed, about 1 MB of nested objects, lists, strings and numbers.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import msgspec
import orjson
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

Encoder = Callable[[Any], bytes]
Decoder = Callable[[bytes], Any]

MESSAGE = {"message": "Hello, World!"}
WORLD = {"id": 4174, "randomNumber": 331}
WORLDS = [{"id": 1 + index * 487, "randomNumber": 1 + index * 331 % 10000} for index in range(20)]


class Address(msgspec.Struct):
    """A postal address in the large document."""

    street: str
    city: str
    postcode: str


class Order(msgspec.Struct):
    """One order: its id, line prices and tags."""

    id: int
    total_cents: int
    prices: list[float]
    tags: list[str]
    paid: bool


class Customer(msgspec.Struct):
    """A customer with an address and a history of orders."""

    id: int
    name: str
    email: str
    address: Address
    orders: list[Order]
    score: float | None


class Document(msgspec.Struct):
    """The large document: a version and a list of customers."""

    version: int
    customers: list[Customer]


def build_large_document(seed: int = 20240601, customers: int = 1000) -> dict[str, Any]:
    """Build a nested document of about 1 MB in JSON, the same for a given seed."""
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "shard", "queue", "worker", "target"]
    return {
        "version": 1,
        "customers": [
            {
                "id": customer,
                "name": f"Customer {customer} {rng.choice(words).title()}",
                "email": f"customer{customer}@example.com",
                "address": {
                    "street": f"{rng.randint(1, 999)} {rng.choice(words).title()} Street",
                    "city": rng.choice(words).title(),
                    "postcode": f"{rng.randint(10000, 99999)}",
                },
                "orders": [
                    {
                        "id": customer * 100 + order,
                        "total_cents": rng.randint(100, 100_000),
                        "prices": [round(rng.uniform(0.5, 500.0), 2) for _ in range(4)],
                        "tags": rng.sample(words, 2),
                        "paid": rng.random() < 0.8,
                    }
                    for order in range(rng.randint(3, 7))
                ],
                "score": None if rng.random() < 0.1 else round(rng.random() * 100, 3),
            }
            for customer in range(customers)
        ],
    }


LARGE = build_large_document()
LARGE_JSON = orjson.dumps(LARGE)

_MSGSPEC_ENCODER = msgspec.json.Encoder()
_MSGSPEC_DECODER = msgspec.json.Decoder()
_TYPED_DECODER = msgspec.json.Decoder(Document)


def _json_encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _json_decode(payload: bytes) -> Any:
    return json.loads(payload)


ENCODERS: dict[str, Encoder] = {
    "json": _json_encode,
    "orjson": orjson.dumps,
    "msgspec": _MSGSPEC_ENCODER.encode,
}
DECODERS: dict[str, Decoder] = {
    "json": _json_decode,
    "orjson": orjson.loads,
    "msgspec": _MSGSPEC_DECODER.decode,
}
CODECS = sorted(ENCODERS)


def test_large_document_is_about_one_megabyte() -> None:
    """The large document stays near the 1 MB its benchmarks are named for."""
    assert 700_000 < len(LARGE_JSON) < 1_500_000


@pytest.mark.parametrize("codec", CODECS)
def test_encode_message(benchmark: BenchmarkFixture, codec: str) -> None:
    """Encode the JSON test's `{"message": "Hello, World!"}` object."""
    result = benchmark(ENCODERS[codec], MESSAGE)
    assert json.loads(result) == MESSAGE


@pytest.mark.parametrize("codec", CODECS)
def test_encode_worlds(benchmark: BenchmarkFixture, codec: str) -> None:
    """Encode the queries test's list of 20 World rows."""
    result = benchmark(ENCODERS[codec], WORLDS)
    assert json.loads(result) == WORLDS


@pytest.mark.parametrize("codec", CODECS)
def test_decode_world(benchmark: BenchmarkFixture, codec: str) -> None:
    """Decode one World row, as a handler reads a small request body."""
    payload = orjson.dumps(WORLD)
    result = benchmark(DECODERS[codec], payload)
    assert result == WORLD


@pytest.mark.parametrize("codec", CODECS)
def test_encode_large(benchmark: BenchmarkFixture, codec: str) -> None:
    """Encode the ~1 MB nested document."""
    result = benchmark(ENCODERS[codec], LARGE)
    assert orjson.loads(result) == LARGE


@pytest.mark.parametrize("codec", CODECS)
def test_decode_large(benchmark: BenchmarkFixture, codec: str) -> None:
    """Decode the ~1 MB document into plain dicts and lists, without validation."""
    result = benchmark(DECODERS[codec], LARGE_JSON)
    assert result == LARGE


def test_decode_large_typed(benchmark: BenchmarkFixture) -> None:
    """Decode the ~1 MB document into msgspec Structs, validating every field's type."""
    result = benchmark(_TYPED_DECODER.decode, LARGE_JSON)
    assert msgspec.to_builtins(result) == LARGE
