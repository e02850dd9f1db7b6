"""Writing the analysis output: atomic files, tables as CSV and Parquet.

Every file is written to a temporary name in its destination folder and then
renamed over the final name (``os.replace``, atomic on POSIX and Windows), so
a run that fails or is interrupted leaves the files it finished intact and no
half-written file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from .._files import TMP_PREFIX, atomic_write, leftover_temporaries
from ..errors import OutputError

__all__ = ["OutputError", "OutputFolder", "atomic_write"]


class OutputFolder:
    """The run's output folder: ``tables/`` (CSV + Parquet), ``figures/`` (PNG), report files.

    Creating it checks that the folder can be written (a probe file is created
    and removed), so that a run fails before computing anything when it cannot.

    Raises
    ------
    OutputError
        The folder cannot be created or written.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.tables = self.root / "tables"
        self.figures = self.root / "figures"
        self.written: list[Path] = []
        for folder in (self.root, self.tables, self.figures):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                fd, probe = tempfile.mkstemp(prefix=TMP_PREFIX, dir=folder)
                os.close(fd)
                os.remove(probe)
            except OSError as exc:
                raise OutputError(
                    f"cannot write the output folder {folder}: {exc.strerror or exc}"
                ) from None

    def table(self, name: str, df: pd.DataFrame, *, index: bool | None = None) -> list[Path]:
        """Write ``df`` as ``tables/{name}.csv`` and ``tables/{name}.parquet``.

        The index is written unless it is a plain RangeIndex (tidy tables), or as ``index`` says.
        """
        if index is None:
            index = not isinstance(df.index, pd.RangeIndex)
        df = df.copy()
        df.columns = [str(c) for c in df.columns]
        df.attrs = {}
        out = [
            atomic_write(self.tables / f"{name}.csv", lambda p: df.to_csv(p, index=index)),
            atomic_write(self.tables / f"{name}.parquet", lambda p: df.to_parquet(p, index=index)),
        ]
        self.written.extend(out)
        return out

    def figure(self, name: str, fig) -> Path:
        """Save a matplotlib figure as ``figures/{name}.png``."""
        path = atomic_write(self.figures / f"{name}.png", lambda p: fig.savefig(p, format="png", dpi=110))
        self.written.append(path)
        return path

    def text(self, name: str, text: str) -> Path:
        """Write a UTF-8 text file (report.html, provenance.json) at the folder's root."""

        def write(p):
            with open(p, "w", encoding="utf-8") as fh:
                fh.write(text)

        path = atomic_write(self.root / name, write)
        self.written.append(path)
        return path

    def leftovers(self) -> list[Path]:
        """Temporary files left in the folder (there should be none)."""
        return leftover_temporaries(self.root, self.tables, self.figures)
