"""Capacity search: the highest open-model arrival rate that meets an SLO."""
