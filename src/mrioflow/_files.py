"""Writing files atomically: a temporary name in the destination folder, then a rename.

``os.replace`` is atomic on POSIX and Windows, so a reader sees either the old
file or the complete new one, and a write that fails or is interrupted leaves
no half-written file (its temporary file is removed).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import MrioflowError, OutputError

TMP_PREFIX = ".mrioflow-tmp-"


def _file_mode() -> int:
    """rw for everyone the umask allows (mkstemp creates files 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | os.PathLike, write: Callable[[str], object], *, fsync: bool = False) -> Path:
    """Call ``write(tmp)`` with a temporary path next to ``path`` (same suffix), then
    rename it to ``path``. With ``fsync`` the data reach the disk before the rename.

    Raises
    ------
    OutputError
        Creating, writing or renaming failed (disk full, no permission): the message
        names ``path`` and the reason. The temporary file is removed.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    os.close(fd)
    try:
        write(tmp)
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, MrioflowError):
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise
    return path


def leftover_temporaries(*folders: str | os.PathLike) -> list[Path]:
    """Temporary files an interrupted write left in these folders (there should be none)."""
    return sorted(p for d in map(Path, folders) if d.is_dir() for p in d.glob(TMP_PREFIX + "*"))
