"""Writing the analysis output: a staged folder published whole, atomic files, tables.

A run never writes into its target folder directly. :class:`OutputFolder`
creates a fresh staging folder beside the target (``.mrioflow-stage-{name}-*``,
marked by a ``mrioflow-output.json`` that names the owning process), writes
every file there (each to a temporary name, then renamed: ``os.replace``), and
:meth:`OutputFolder.publish` moves it into place when the run is complete, so
the target never holds files of two runs. An existing non-empty target is
refused unless ``overwrite`` is given, and even then only when its
``mrioflow-output.json`` says that mrioflow wrote it (of the same kind): nothing
mrioflow did not write is ever deleted. A run that fails publishes what it
finished (the manifest then says ``"complete": false``); a staging folder left
by a killed run is removed by the next run into the same target.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import secrets
import shutil
import socket
from pathlib import Path

import pandas as pd

from .._files import atomic_write, leftover_temporaries
from ..errors import OptionError, OutputError

__all__ = ["MANIFEST", "OutputError", "OutputFolder", "atomic_write", "check_file_name", "check_target", "store_folder"]

#: The marker every mrioflow output folder (and staging folder) holds.
MANIFEST = "mrioflow-output.json"
STAGE_PREFIX = ".mrioflow-stage-"
OLD_PREFIX = ".mrioflow-old-"


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")


def check_file_name(what: str, value) -> str:
    """``value`` if it can be part of a file name (letters, digits, ``_.+-``; at most 64
    characters, not starting with a dot); OptionError naming ``what`` otherwise."""
    if not isinstance(value, str) or not _SAFE_NAME.fullmatch(value):
        raise OptionError(
            f"{what} {value!r} cannot name an output file: use letters, digits and _ . + - only (at most 64 characters)"
        )
    return value


def _read_manifest(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("writer") == "mrioflow" else None


def _alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def check_target(root: str | os.PathLike, *, kind: str, overwrite: bool = False) -> Path:
    """Check that ``root`` may receive a new output of ``kind``; creates nothing.

    Returns
    -------
    Path
        ``root`` as a Path.

    Raises
    ------
    OutputError
        An empty path; a file in the way; a non-empty folder without ``overwrite``;
        with ``overwrite``, a folder that is not a previous mrioflow output of this kind.
    """
    if not str(root).strip():
        raise OutputError("the output folder is an empty string: give a folder name (-o DIR)")
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise OutputError(f"cannot write the output folder {root}: a file of that name is in the way")
    try:
        empty = not root.exists() or not any(root.iterdir())
    except OSError as exc:
        raise OutputError(f"cannot write the output folder {root}: {exc.strerror or exc}") from None
    if empty:
        return root
    manifest = _read_manifest(root)
    if not overwrite:
        what = f"the {manifest.get('kind')} output of an earlier run" if manifest else "files mrioflow did not write"
        raise OutputError(
            f"the output folder {root} is not empty (it holds {what}): choose another folder"
            + (", or give --overwrite (overwrite=True) to replace it" if manifest else "")
        )
    if manifest is None:
        raise OutputError(
            f"refusing to overwrite {root}: it has no {MANIFEST}, so it is not a mrioflow output "
            "(mrioflow never deletes files it did not write); choose another folder"
        )
    if manifest.get("kind") != kind:
        raise OutputError(
            f"refusing to overwrite {root}: it holds a mrioflow {manifest.get('kind')!r} output, not a {kind!r} one"
        )
    return root


def _remove_stale_stages(parent: Path, name: str) -> list[Path]:
    """Remove staging folders of ``name`` whose run is dead (same host, pid gone)."""
    gone = []
    host = socket.gethostname()
    for prefix in (STAGE_PREFIX, OLD_PREFIX):
        for d in parent.glob(f"{prefix}{name}-*"):
            m = _read_manifest(d) if d.is_dir() else None
            if m is None or m.get("host") != host or _alive(m.get("pid")):
                continue  # not recognisably ours, or its run may still be going
            shutil.rmtree(d, ignore_errors=True)
            gone.append(d)
    return gone


def store_folder(root: str | os.PathLike, what: str) -> Path:
    """Where a resumable store of the output ``root`` lives: beside it, never inside
    (``results`` -> ``results.batches``), so that publishing the output never touches it."""
    root = Path(root)
    return root.with_name(f"{root.name}.{what}")


class OutputFolder:
    """A run's output: ``tables/`` (CSV + Parquet), ``figures/`` (PNG), report files.

    Files are written to a fresh staging folder beside ``root``; :meth:`publish`
    moves it into place. Creating the folder checks the target
    (:func:`check_target`), removes staging folders left by killed runs, and
    checks that the staging folder can be written, so a run fails before
    computing anything when it cannot.

    Parameters
    ----------
    root : str or path-like
        The target folder.
    kind : str
        What the run writes ("run", "mc", "sweep"); an ``overwrite`` only
        replaces an output of the same kind.
    overwrite : bool
        Replace a previous mrioflow output of this kind.

    Raises
    ------
    OutputError
        The target is refused, or the folder cannot be created or written.
    """

    def __init__(self, root: str | os.PathLike, *, kind: str = "run", overwrite: bool = False):
        self.target = check_target(root, kind=kind, overwrite=overwrite)
        self.kind = kind
        self.written: list[Path] = []
        self.published = False
        parent = self.target.absolute().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.removed_stale = _remove_stale_stages(parent, self.target.name)
            self.root = parent / f"{STAGE_PREFIX}{self.target.name}-{os.getpid()}-{secrets.token_hex(4)}"
            self.root.mkdir()
        except OSError as exc:
            raise OutputError(f"cannot write the output folder {self.target}: {exc.strerror or exc}") from None
        self._manifest(complete=False)
        self.tables = self.root / "tables"
        self.figures = self.root / "figures"
        for folder in (self.tables, self.figures):
            try:
                folder.mkdir()
            except OSError as exc:
                raise OutputError(f"cannot write the output folder {self.target}: {exc.strerror or exc}") from None

    def _manifest(self, *, complete: bool) -> None:
        from .. import __version__

        data = {
            "writer": "mrioflow",
            "kind": self.kind,
            "complete": complete,
            "mrioflow": __version__,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "written": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "files": sorted(str(p.relative_to(self.root)) for p in self.written),
        }

        def write(p):
            with open(p, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1)

        atomic_write(self.root / MANIFEST, write)

    def final_path(self, path: Path) -> Path:
        """Where a file written in the staging folder will be once published."""
        return self.target / Path(path).relative_to(self.root)

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

    def publish(self, *, complete: bool = True) -> Path:
        """Write the manifest and move the staging folder into place (replacing the
        previous output when ``overwrite`` allowed it). Returns the target."""
        self._manifest(complete=complete)
        for folder in (self.tables, self.figures):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
        target = self.target
        old = None
        try:
            if target.exists():
                check_target(target, kind=self.kind, overwrite=True)  # still ours (or empty)
                if any(target.iterdir()):
                    old = self.root.with_name(f"{OLD_PREFIX}{target.name}-{os.getpid()}-{secrets.token_hex(4)}")
                    os.replace(target, old)
                else:
                    target.rmdir()
            os.replace(self.root, target)
        except OSError as exc:
            if old is not None and not target.exists():
                os.replace(old, target)
            raise OutputError(f"cannot move the finished output into {target}: {exc.strerror or exc}") from None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self.published = True
        self.written = [self.final_path(p) for p in self.written] + [target / MANIFEST]
        self.root = target
        self.tables, self.figures = target / "tables", target / "figures"
        return target

    def close(self, exc: BaseException | None = None) -> None:
        """End the run: publish a complete output; after an error, publish what was
        finished (manifest ``complete: false``), or discard an empty staging folder."""
        if self.published:
            return
        if exc is None:
            self.publish()
        elif self.written:
            self.publish(complete=False)
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None:
            self.close()
        else:
            try:
                self.close(exc)
            except OutputError:
                pass  # the run's own error is the one to report

    def leftovers(self) -> list[Path]:
        """Temporary files left in the folder (there should be none)."""
        return leftover_temporaries(self.root, self.tables, self.figures)
