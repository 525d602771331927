"""Locust user classes that drive the reference targets over HTTP."""
