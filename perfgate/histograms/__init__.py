"""Latency histograms: HdrHistogram helpers, summaries and the interval log format."""
