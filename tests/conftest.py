"""Fixtures every test folder may use: the real PostgreSQL and Redis services."""

pytest_plugins = ("tests.support.services",)
