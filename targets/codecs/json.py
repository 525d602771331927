"""Codec on the standard library's `json` module, the baseline the others are compared to."""

from __future__ import annotations

import json


class JsonCodec:
    """Encode with `json.JSONEncoder`, configured for compact UTF-8 output."""

    name = "json"

    def __init__(self) -> None:
        encoder = json.JSONEncoder(
            ensure_ascii=False,
            check_circular=False,
            separators=(",", ":"),
        )
        self._encode_text = encoder.encode

    def encode(self, value: object) -> bytes:
        """Encode `value` as compact UTF-8 JSON."""
        return self._encode_text(value).encode("utf-8")
