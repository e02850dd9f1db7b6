"""Ctrl-C while the ``mrioflow`` command starts: one line and exit status 130.

Importing mrioflow (NumPy, SciPy, pandas) takes a second or more; a Ctrl-C in
that time would otherwise print a traceback of whatever module was loading.
When this process was started as the command line (the ``mrioflow`` script or
``python -m mrioflow.cli``), SIGINT ends it at once with one line until
:func:`mrioflow.cli.main` takes over (it restores Python's own handler, and
turns the KeyboardInterrupt into one line). Nothing has been written by then.
Imported as a library, this module changes nothing.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading


def started_as_cli() -> bool:
    """Whether this process runs the mrioflow command line (not one of its worker processes,
    which a spawn or forkserver start gives the command's argv too)."""
    mp = sys.modules.get("multiprocessing")  # the command itself has not imported it yet
    if mp is not None:
        me = mp.current_process()
        if me.name != "MainProcess" or getattr(me, "_inheriting", False):
            return False
    argv0 = os.path.basename(sys.argv[0]) if sys.argv else ""
    if re.fullmatch(r"mrioflow(-script\.pyw?|\.exe)?", argv0):
        return True
    orig = list(getattr(sys, "orig_argv", []))
    return "-m" in orig[:-1] and orig[orig.index("-m") + 1] == "mrioflow.cli"


def _interrupted(signum, frame):  # pragma: no cover - runs in a subprocess being interrupted
    os.write(2, b"\nmrioflow: interrupted while starting; nothing was written\n")
    os._exit(130)


def install() -> None:
    """SIGINT ends the process with one line (only in the command line's main thread)."""
    if started_as_cli() and threading.current_thread() is threading.main_thread():
        try:
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                signal.signal(signal.SIGINT, _interrupted)
        except (ValueError, OSError):  # not the main interpreter, or no signals here
            pass


install()
