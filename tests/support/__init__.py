"""Helpers shared by the tests: servers with known behaviour."""
