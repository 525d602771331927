"""The `/fortunes` page: an HTML table of fortunes, escaped and sorted by message."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from targets.storage.base import FortuneRow

ADDED_FORTUNE: FortuneRow = (0, "Additional fortune added at request time.")
"""The row the TechEmpower rules add to every response, after reading the table."""

_PAGE_START = (
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body>"
    "<table><tr><th>id</th><th>message</th></tr>"
)
_PAGE_END = "</table></body></html>"


def sort_fortunes(rows: Iterable[FortuneRow]) -> list[FortuneRow]:
    """Add `ADDED_FORTUNE` to the rows and sort them by message, by code point."""
    fortunes = [*rows, ADDED_FORTUNE]
    fortunes.sort(key=_message)
    return fortunes


def render_fortunes(rows: Iterable[FortuneRow]) -> bytes:
    """Render rows, in the order given, as the TechEmpower fortunes page in UTF-8.

    Messages are HTML-escaped, including quotes, so a stored `<script>` shows as text.
    """
    cells = "".join(
        f"<tr><td>{fortune_id}</td><td>{escape(message)}</td></tr>" for fortune_id, message in rows
    )
    return (_PAGE_START + cells + _PAGE_END).encode("utf-8")


def _message(row: FortuneRow) -> str:
    return row[1]
