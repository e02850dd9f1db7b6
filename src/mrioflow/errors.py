"""The mrioflow exception hierarchy.

Every error subclasses :class:`MrioflowError` and one built-in exception, so that
generic handlers (``except ValueError``) keep working. Messages say what was
expected and what was found.
"""

from __future__ import annotations


class MrioflowError(Exception):
    """Base class of every error mrioflow raises on purpose."""


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
    """Labels are missing, duplicated, or do not match the data or each other."""


class OptionError(MrioflowError, ValueError):
    """An option has a value that does not exist."""


class BackendError(MrioflowError, RuntimeError):
    """The requested array backend is not available on this machine."""


class ReaderError(MrioflowError, ValueError):
    """A data file is malformed; the message names the file and what was expected."""


class MissingDataError(ReaderError, FileNotFoundError):
    """A data file that should exist does not."""


class StoreError(MrioflowError, OSError):
    """A folder of resumable results cannot be used: it holds another run, its manifest
    is missing or damaged, or a result cannot be written there."""
