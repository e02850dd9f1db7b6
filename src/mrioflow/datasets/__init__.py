"""Built-in data sets for demos, tests and benchmarks."""

from .synthetic import PRESETS, synthetic

__all__ = ["PRESETS", "synthetic"]
