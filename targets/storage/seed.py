"""The rows every backend is seeded with: the TechEmpower fortunes and random worlds."""

from __future__ import annotations

from collections.abc import Iterator

from targets.storage.base import WORLD_ROWS, FortuneRow, WorldRow, random_number

FORTUNES: tuple[FortuneRow, ...] = (
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. \u2014 Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"),
)
"""The 12 fortunes of the TechEmpower benchmark, with their ids."""


def generate_worlds() -> Iterator[WorldRow]:
    """Yield every `world` row, ids 1 to `WORLD_ROWS`, each with a new random number."""
    for world_id in range(1, WORLD_ROWS + 1):
        yield world_id, random_number()
