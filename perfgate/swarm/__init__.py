"""Locust swarm orchestration: the master, local workers, and perfgate's Locust plugin."""
