"""Label patterns from users (``satellites``, ``--satellite``), matched in linear time.

Python's ``re`` backtracks: a pattern such as ``(\\D|\\D)*@`` takes time exponential in
the length of the label it is searched in, so one option could hang a run. Patterns
from users are therefore matched with RE2 (the ``google-re2`` package), whose matching
time is linear in the label's length whatever the pattern. RE2 takes the usual syntax
(classes, alternation, groups, counted and lazy repeats, ``(?i)``) but not
look-around, backreferences or possessive repeats: such a pattern is refused with an
OptionError that says so. Classes such as ``\\d`` and ``\\w`` are ASCII in RE2.
"""

from __future__ import annotations

import re

from ..errors import DependencyError, OptionError

__all__ = ["LabelPattern", "compile_label_pattern"]

MAX_PATTERN_LENGTH = 1000
"""Longer patterns are refused (a label pattern is a few words)."""

_FLAGS = {re.IGNORECASE: "i", re.MULTILINE: "m", re.DOTALL: "s"}


class LabelPattern:
    """A compiled label pattern: ``search(label)`` and the ``pattern`` text (as given)."""

    __slots__ = ("_regexp", "pattern")

    def __init__(self, pattern: str, regexp) -> None:
        self.pattern = pattern
        self._regexp = regexp

    def search(self, text: str) -> bool:
        """Whether the pattern occurs anywhere in ``text`` (like ``re.search``)."""
        return self._regexp.search(text) is not None

    def __repr__(self) -> str:
        return f"LabelPattern({self.pattern!r})"


def compile_label_pattern(pattern, owner: str, what: str = "label") -> LabelPattern:
    """Compile a user's label pattern for linear-time matching.

    Parameters
    ----------
    pattern : str or re.Pattern
        The pattern (a compiled ``re.Pattern`` passes its text and its
        IGNORECASE, MULTILINE and DOTALL flags).
    owner, what : str
        Whose pattern and which, for messages (e.g. "satellites['CO2']" and "indicator").

    Raises
    ------
    OptionError
        Not a string, longer than MAX_PATTERN_LENGTH, invalid, or using what RE2
        does not have (look-around, backreferences, possessive repeats).
    """
    where = f"{owner}: the {what} pattern"
    text = pattern
    prefix = ""
    if isinstance(pattern, re.Pattern):
        text = pattern.pattern
        extra = pattern.flags & ~(re.UNICODE | re.IGNORECASE | re.MULTILINE | re.DOTALL)
        if extra:
            raise OptionError(f"{where} {text!r}: only the flags IGNORECASE, MULTILINE and DOTALL are supported")
        prefix = "".join(f for flag, f in _FLAGS.items() if pattern.flags & flag)
    if not isinstance(text, str):
        raise OptionError(f"{where} must be a string, got {type(text).__name__}")
    if len(text) > MAX_PATTERN_LENGTH:
        raise OptionError(f"{where} is {len(text)} characters long; at most {MAX_PATTERN_LENGTH} are accepted")
    try:
        re.compile(text)  # Python's messages for plain syntax errors ("missing ), unterminated subpattern")
    except re.error as exc:
        raise OptionError(f"{owner}: invalid {what} pattern {text!r}: {exc}") from None
    try:
        import re2
    except ImportError:
        raise DependencyError(
            "label patterns are matched with RE2: pip install google-re2 (a dependency of mrioflow)"
        ) from None
    options = re2.Options()
    options.log_errors = False
    try:
        regexp = re2.compile(f"(?{prefix}){text}" if prefix else text, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise OptionError(
            f"{where} {text!r} cannot be used: {reason}; label patterns are matched with RE2 (linear time, so "
            "no pattern can hang a run), which has no look-around, backreferences or possessive repeats"
        ) from None
    return LabelPattern(text, regexp)
