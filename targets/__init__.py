"""Reference API targets: minimal HTTP services whose design choices are swappable.

The variant is chosen by name through `targets.config.TargetConfig`; `targets.serve.serve`
runs one in the foreground.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
