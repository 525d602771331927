"""Storage backends behind one interface: the world and fortune tables the endpoints use."""

from targets.storage.base import FortuneRow, Storage, WorldRow

__all__ = ["FortuneRow", "Storage", "WorldRow"]
