"""The mrioflow exception hierarchy: every error mrioflow raises on purpose is defined here.

Every error subclasses :class:`MrioflowError` and one built-in exception, so that
generic handlers (``except ValueError``) keep working. Messages say what was
expected and what was found. One class per kind of problem:

=======================  ==============================================================
``OptionError``          an option or argument has a value that does not exist
``LabelError``           labels are missing, duplicated, unknown or disagree
``ShapeError``           arrays have the wrong shape, or disagree in shape
``InvalidValueError``    arrays hold values that are not allowed (NaN, negative output)
``SingularSystemError``  (I - A) is singular
``NonProductiveError``   A is not productive
``MemoryLimitError``     a computation would not fit the device's memory (or the limit given)
``BackendError``         the array backend is not available here
``DependencyError``      an optional package a feature needs is not installed
``ReaderError``          a data file is malformed
``MissingDataError``     a data file that should exist does not
``OutputError``          an output file or folder cannot be written
``StoreError``           a folder of resumable results belongs to another run or is damaged
=======================  ==============================================================

Every error survives pickling unchanged (type and message), so an error raised
in a worker process reaches the user as it was raised.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "DependencyError",
    "InvalidValueError",
    "LabelError",
    "MemoryLimitError",
    "MissingDataError",
    "MrioflowError",
    "NonProductiveError",
    "OptionError",
    "OutputError",
    "ReaderError",
    "ShapeError",
    "SingularSystemError",
    "StoreError",
]


class MrioflowError(Exception):
    """Base class of every error mrioflow raises on purpose (never raised itself)."""

    def __reduce__(self):
        # Rebuild by calling the class with the original arguments. Defined here, not inherited,
        # because pickle helpers (tblib, which Dask installs in its workers) rebuild errors whose
        # __reduce__ is the built-in one with ``ValueError.__new__(cls)``, which fails for a class
        # that is both a ValueError and an OSError (MissingDataError).
        return type(self), self.args, self.__dict__ or None


class ShapeError(MrioflowError, ValueError):
    """An array has the wrong shape, or two arrays disagree in shape."""


class InvalidValueError(MrioflowError, ValueError):
    """An array holds values that are not allowed (NaN, infinity, negative output)."""


class SingularSystemError(MrioflowError, ArithmeticError):
    """(I - A) is singular, or a solve returned non-finite values."""


class NonProductiveError(MrioflowError, ArithmeticError):
    """The technology matrix A is not productive: (I - A)^-1 is not non-negative."""


class MemoryLimitError(MrioflowError, MemoryError):
    """A computation would need more memory than the device has (or than the limit given)."""


class LabelError(MrioflowError, ValueError):
    """Labels are missing, duplicated, unknown, or do not match the data or each other."""


class OptionError(MrioflowError, ValueError):
    """An option has a value that does not exist (the message lists the valid ones)."""


class BackendError(MrioflowError, RuntimeError):
    """The requested array backend is not available on this machine."""


class ReaderError(MrioflowError, ValueError):
    """A data file is malformed; the message names the file and what was expected."""


class MissingDataError(ReaderError, FileNotFoundError):
    """A data file that should exist does not."""


class StoreError(MrioflowError, OSError):
    """A folder of resumable results cannot be used: it holds another run, its manifest
    is missing or damaged, or a result cannot be written there."""


class DependencyError(MrioflowError, ImportError):
    """An optional package that a feature needs is not installed; the message says how to install it."""


class OutputError(MrioflowError, OSError):
    """An output file or folder cannot be written; the message names it and the reason."""
