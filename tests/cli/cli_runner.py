"""Run the command line in this process: ``mrioflow.cli.main`` with its output captured.

Starting a Python process per command costs seconds of imports; the tests that
check what a command does call ``main`` directly and get what a subprocess would
give (exit code, stdout, stderr). Only the tests about the installed script
itself start a process.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess

from mrioflow.cli import main


def run_cli(*args, cwd=None, env_extra=None) -> subprocess.CompletedProcess:
    """``mrioflow ARGS`` in this process, optionally in folder ``cwd`` with extra environment variables."""
    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    saved_env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        os.environ.update(env_extra or {})
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage errors (2), --help and --version (0)
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
    return subprocess.CompletedProcess(["mrioflow", *argv], code, out.getvalue(), err.getvalue())


def assert_one_line_error(proc: subprocess.CompletedProcess, pattern: str) -> None:
    """The command failed with one line "mrioflow: error: ..." on stderr matching ``pattern``, no traceback."""
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("mrioflow: error: ")
    assert re.search(pattern, lines[0]), lines[0]
