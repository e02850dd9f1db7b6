"""Built-in data sets for demos, tests and benchmarks."""

from .synthetic import synthetic

__all__ = ["synthetic"]
