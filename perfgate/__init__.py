"""perfgate: load tests and benchmarks judged by a statistical regression gate."""

__all__ = ["__version__"]

__version__ = "0.1.0"
