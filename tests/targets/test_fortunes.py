"""The fortunes page: the added row, ordering by message and HTML escaping."""

from __future__ import annotations

from targets.app.fortunes import ADDED_FORTUNE, render_fortunes, sort_fortunes
from targets.storage.seed import FORTUNES

# Ordered by code point: "<" sorts before "A", upper case before lower case, and the
# Japanese message last.
EXPECTED_ORDER = [11, 4, 5, 2, 8, 0, 3, 7, 10, 6, 9, 1, 12]


def test_sort_adds_request_time_fortune() -> None:
    rows = sort_fortunes(FORTUNES)
    assert len(rows) == 13
    assert ADDED_FORTUNE in rows
    assert ADDED_FORTUNE == (0, "Additional fortune added at request time.")


def test_sort_orders_by_message() -> None:
    assert [fortune_id for fortune_id, _ in sort_fortunes(FORTUNES)] == EXPECTED_ORDER


def test_sort_ignores_input_order() -> None:
    assert sort_fortunes(reversed(FORTUNES)) == sort_fortunes(FORTUNES)


def test_sort_does_not_change_input() -> None:
    rows = list(FORTUNES)
    sort_fortunes(rows)
    assert rows == list(FORTUNES)


def test_render_escapes_markup() -> None:
    page = render_fortunes([(11, '<script>alert("x");</script>'), (2, "aren't & <b>")])
    text = page.decode("utf-8")
    assert "<script>" not in text
    assert "<td>&lt;script&gt;alert(&quot;x&quot;);&lt;/script&gt;</td>" in text
    assert "<td>aren&#x27;t &amp; &lt;b&gt;</td>" in text


def test_render_page_structure() -> None:
    page = render_fortunes([(1, "one")]).decode("utf-8")
    assert page == (
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
        "<tr><th>id</th><th>message</th></tr><tr><td>1</td><td>one</td></tr>"
        "</table></body></html>"
    )


def test_render_keeps_unicode_as_utf8() -> None:
    japanese = (
        "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"
    )
    page = render_fortunes([(12, japanese)])
    assert japanese.encode("utf-8") in page


def test_seed_has_the_twelve_fortunes() -> None:
    assert [fortune_id for fortune_id, _ in FORTUNES] == list(range(1, 13))
    messages = dict(FORTUNES)
    assert messages[11] == (
        '<script>alert("This should not be displayed in a browser alert box.");</script>'
    )
    assert messages[12] == "フレームワークのベンチマーク"
