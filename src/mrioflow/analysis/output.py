"""Writing the analysis output: a staged folder published whole, atomic files, tables.

A run never writes into its target folder directly. :class:`OutputFolder`
takes a lock beside the target (``.mrioflow-lock-{name}``, created with
``O_EXCL``, naming the host and pid of its run: a second run into the same
target is refused while the first is alive; the lock of a dead process on the
same host is taken over), creates a fresh staging folder beside the target
(``.mrioflow-stage-{name}-*``, marked by a ``mrioflow-output.json`` that names
the owning process), writes every file there (each to a temporary name, then
renamed: ``os.replace``), and :meth:`OutputFolder.publish` moves it into place
when the run is complete, so the target never holds files of two runs or half
of one. An existing non-empty target is refused unless ``overwrite`` is given,
and even then only when its ``mrioflow-output.json`` says that mrioflow wrote it
(of the same kind): nothing mrioflow did not write is ever deleted. The
previous output is replaced by one atomic exchange of the two folders where the
system offers it (Linux ``renameat2``), by two renames otherwise (a run killed
between them is repaired by the next run: the previous output is put back).

A run that fails or is interrupted publishes nothing: its staging folder is
removed and the target stays as it was (with ``overwrite``, the previous output
is kept). A staging folder left by a killed run is removed by the next run into
the same target.

Names that become file names (table and figure names, which hold stressor
names: data) are never refused: a name that is not a safe file name (letters,
digits, ``_ . + -``, at most 64 characters, not starting with a dot) or that
would collide with another (also when letter case is ignored) gets a slug (the
unsafe characters replaced, shortened, and a hash of the name appended), and
``mrioflow-output.json`` lists every such file under ``"names"`` with the name
it stands for.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import datetime as _dt
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import sys
from pathlib import Path

import pandas as pd

from .._files import atomic_write, leftover_temporaries
from ..errors import OptionError, OutputError

__all__ = [
    "MANIFEST",
    "OutputError",
    "OutputFolder",
    "atomic_write",
    "check_file_name",
    "check_not_inside",
    "check_target",
    "dropped_when_empty",
    "file_stem",
    "store_folder",
]

#: The marker every mrioflow output folder (and staging folder) holds.
MANIFEST = "mrioflow-output.json"
STAGE_PREFIX = ".mrioflow-stage-"
OLD_PREFIX = ".mrioflow-old-"
LOCK_PREFIX = ".mrioflow-lock-"


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]+")


def check_file_name(what: str, value) -> str:
    """``value`` if it can be part of a file name (letters, digits, ``_.+-``; at most 64
    characters, not starting with a dot); OptionError naming ``what`` otherwise."""
    if not isinstance(value, str) or not _SAFE_NAME.fullmatch(value):
        raise OptionError(
            f"{what} {value!r} cannot name an output file: use letters, digits and _ . + - only (at most 64 characters)"
        )
    return value


def file_stem(name: str, *, force_slug: bool = False) -> str:
    """A safe file name stem for ``name``: ``name`` itself when it is safe (letters,
    digits, ``_ . + -``, at most 64 characters, starting with a letter or digit), else
    a slug of it (runs of other characters as ``_``, at most 55 characters) with the
    first 8 hex digits of the name's SHA-256 appended: distinct names give distinct
    stems. ``force_slug``: the slug even for a safe name (to avoid a collision)."""
    name = str(name)
    if not force_slug and _SAFE_NAME.fullmatch(name):
        return name
    slug = _UNSAFE.sub("_", name).strip("._+-")[:55].rstrip("._+-") or "name"
    if not slug[0].isalnum():
        slug = "x" + slug[:54]
    return f"{slug}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def _read_manifest(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("writer") == "mrioflow" else None


def _alive(pid) -> bool:
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _is_inside(inner: Path, outer: Path) -> bool:
    inner, outer = Path(os.path.realpath(inner)), Path(os.path.realpath(outer))
    return inner == outer or outer in inner.parents


def check_not_inside(root: str | os.PathLike, inputs) -> None:
    """OutputError when the output folder ``root`` is an input folder or lies inside one
    (``inputs``: paths of files or folders): the next run would read the earlier
    output as input, and its provenance would list it."""
    for given in inputs or ():
        if given is None or not str(given).strip():
            continue
        folder = Path(given)
        if not folder.is_dir():
            continue
        if _is_inside(Path(root), folder):
            raise OutputError(
                f"the output folder {root} is inside the input folder {given}: mrioflow would read earlier "
                "outputs as input (and list them in the provenance); choose an output folder outside it"
            )


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


class _Lock:
    """``.mrioflow-lock-{name}`` beside the target: created whole (a hard link of a
    written file, else ``O_EXCL``), holding the writer's host, pid and a random token.
    A lock whose process is gone (same host) is taken over; any other is refused."""

    def __init__(self, target: Path, kind: str):
        self.target = target
        self.path = target.absolute().parent / f"{LOCK_PREFIX}{target.name}"
        self.record = {
            "writer": "mrioflow",
            "kind": kind,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "token": secrets.token_hex(8),
            "since": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        self.held = False

    def _read(self, path: Path) -> dict | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _create(self) -> bool:
        text = json.dumps(self.record).encode()
        fd, tmp = _mkstemp(self.path.parent)
        try:
            os.write(fd, text)
            os.close(fd)
            try:
                os.link(tmp, self.path)
                return True
            except FileExistsError:
                return False
            except OSError:  # no hard links here: O_EXCL
                pass
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as fh:
                fh.write(text)
            return True
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def _take_over(self, stale: dict) -> None:
        """Remove the stale lock ``stale``, and only it (never a fresh one created meanwhile)."""
        moved = self.path.with_name(f"{self.path.name}.stale-{self.record['token']}")
        try:
            os.rename(self.path, moved)
        except FileNotFoundError:
            return
        if (self._read(moved) or {}).get("token") != stale.get("token"):
            with contextlib.suppress(FileExistsError):  # a fresh lock: put it back
                os.link(moved, self.path)
        moved.unlink(missing_ok=True)

    def acquire(self) -> None:
        import time

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            for attempt in range(50):
                if self._create():
                    self.held = True
                    return
                holder = self._read(self.path)
                if holder is None:  # vanished, or being written: look again
                    time.sleep(0.02 * (attempt < 10) + 0.1 * (attempt >= 10))
                    continue
                host, pid = holder.get("host"), holder.get("pid")
                if host == self.record["host"] and not _alive(pid):
                    self._take_over(holder)
                    continue
                elsewhere = host != self.record["host"]
                raise OutputError(
                    f"the output folder {self.target} is being written by another mrioflow run (host {host}, "
                    f"pid {pid}, since {holder.get('since')}): wait for it to end, or choose another folder"
                    + (
                        f" (if that process is gone, delete its lock {self.path})"
                        if elsewhere
                        else f" (its lock: {self.path})"
                    )
                )
        except OSError as exc:
            raise OutputError(f"cannot write the output folder {self.target}: {exc.strerror or exc}") from None
        raise OutputError(
            f"cannot lock the output folder {self.target}: {self.path} exists but is not a lock mrioflow can "
            "read; if no mrioflow run is writing there, delete it"
        )

    def release(self) -> None:
        if self.held and (self._read(self.path) or {}).get("token") == self.record["token"]:
            with contextlib.suppress(OSError):
                self.path.unlink()
        self.held = False


def _mkstemp(folder: Path):
    import tempfile

    from .._files import TMP_PREFIX

    return tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".lock", dir=folder)


def _leftovers(parent: Path, name: str, prefix: str) -> list[tuple[Path, int]]:
    """Folders ``{prefix}{name}-{pid}-{8 hex}`` beside the target, with their pid."""
    pattern = re.compile(re.escape(prefix + name) + r"-(\d+)-[0-9a-f]{8}")
    found = []
    with contextlib.suppress(OSError):
        for d in parent.iterdir():
            m = pattern.fullmatch(d.name)
            if m and d.is_dir() and not d.is_symlink():
                found.append((d, int(m.group(1))))
    return sorted(found)


def _remove_stale_stages(parent: Path, name: str) -> list[Path]:
    """Clean up after killed runs into ``parent / name`` (called holding its lock):
    remove their staging folders (same host, pid gone); a previous output set aside by
    a run killed while publishing is put back when the target is missing, removed
    otherwise. Folders without mrioflow's marker are left alone."""
    gone = []
    host = socket.gethostname()
    for d, _pid in _leftovers(parent, name, STAGE_PREFIX):
        m = _read_manifest(d)
        if m is None or m.get("host") != host or _alive(m.get("pid")):
            continue  # not recognisably ours, or its run may still be going
        shutil.rmtree(d, ignore_errors=True)
        gone.append(d)
    target = parent / name
    for d, pid in _leftovers(parent, name, OLD_PREFIX):
        if _read_manifest(d) is None or _alive(pid):
            continue
        if not target.exists():
            os.replace(d, target)  # the previous output, set aside by a run killed before its own replaced it
        else:
            shutil.rmtree(d, ignore_errors=True)
            gone.append(d)
    return gone


def _exchange(a: Path, b: Path) -> bool:
    """Swap the folders ``a`` and ``b`` atomically (Linux renameat2 RENAME_EXCHANGE);
    False where the system does not offer it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    import errno

    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _savefig(fig, path) -> None:
    """``fig`` as PNG. A label from the data that matplotlib cannot read as math (a stressor
    named ``a $\\x$``) is drawn as plain text instead of failing the run."""
    try:
        fig.savefig(path, format="png", dpi=110)
    except ValueError:
        from .figures import plain_where_math_fails

        if not plain_where_math_fails(fig):
            raise
        fig.savefig(path, format="png", dpi=110)


def store_folder(root: str | os.PathLike, what: str) -> Path:
    """Where a resumable store of the output ``root`` lives: beside it, never inside
    (``results`` -> ``results.batches``), so that publishing the output never touches it."""
    root = Path(root)
    return root.with_name(f"{root.name}.{what}")


class OutputFolder:
    """A run's output: ``tables/`` (CSV + Parquet), ``figures/`` (PNG), report files.

    Files are written to a fresh staging folder beside ``root``; :meth:`publish`
    moves it into place. Creating the folder locks the target (a second run into
    it is refused while this one lives), checks it (:func:`check_target`), removes
    staging folders left by killed runs, and checks that the staging folder can be
    written, so a run fails before computing anything when it cannot. A run that
    fails (the ``with`` block raises, Ctrl-C included) publishes nothing: the
    staging folder is removed and the target is left as it was.

    Parameters
    ----------
    root : str or path-like
        The target folder.
    kind : str
        What the run writes ("run", "mc", "sweep"); an ``overwrite`` only
        replaces an output of the same kind.
    overwrite : bool
        Replace a previous mrioflow output of this kind (once this run is complete).

    Raises
    ------
    OutputError
        The target is refused or being written by another run, or the folder cannot
        be created or written.
    """

    def __init__(self, root: str | os.PathLike, *, kind: str = "run", overwrite: bool = False):
        self.target = check_target(root, kind=kind, overwrite=overwrite)
        self.kind = kind
        self.overwrite = overwrite
        self.written: list[Path] = []
        self.names: dict[str, str] = {}  # file (relative) -> the name it stands for, where they differ
        self._stems: dict[str, str] = {}  # casefolded stem -> name
        self.published = False
        parent = self.target.absolute().parent
        self._lock = _Lock(self.target, kind)
        self._lock.acquire()
        try:
            self.removed_stale = _remove_stale_stages(parent, self.target.name)
            self.target = check_target(root, kind=kind, overwrite=overwrite)  # again, holding the lock
            self.root = parent / f"{STAGE_PREFIX}{self.target.name}-{os.getpid()}-{secrets.token_hex(4)}"
            self.root.mkdir()
        except OSError as exc:
            self._lock.release()
            if isinstance(exc, OutputError):
                raise
            raise OutputError(f"cannot write the output folder {self.target}: {exc.strerror or exc}") from None
        except BaseException:
            self._lock.release()
            raise
        try:
            self._manifest(complete=False)
            self.tables = self.root / "tables"
            self.figures = self.root / "figures"
            for folder in (self.tables, self.figures):
                folder.mkdir()
        except BaseException as exc:
            self.discard()
            if isinstance(exc, OSError) and not isinstance(exc, OutputError):
                raise OutputError(f"cannot write the output folder {self.target}: {exc.strerror or exc}") from None
            raise

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
            "names": dict(sorted(self.names.items())),
        }

        def write(p):
            with open(p, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1, ensure_ascii=False)

        atomic_write(self.root / MANIFEST, write)

    def _stem(self, name: str) -> str:
        """The file stem of ``name``: itself when safe and unused (also ignoring case), else a slug."""
        stem = file_stem(name)
        if self._stems.get(stem.casefold(), name) != name:
            stem = file_stem(name, force_slug=True)
            if self._stems.get(stem.casefold(), name) != name:  # two names with one SHA-256 prefix
                raise OutputError(f"cannot give {name!r} a file name of its own in {self.target}")
        self._stems[stem.casefold()] = name
        return stem

    def _record(self, path: Path, name: str) -> Path:
        self.written.append(path)
        if path.stem != name:
            self.names[str(path.relative_to(self.root))] = name
        return path

    def final_path(self, path: Path) -> Path:
        """Where a file written in the staging folder will be once published."""
        return self.target / Path(path).relative_to(self.root)

    def table(self, name: str, df: pd.DataFrame, *, index: bool | None = None) -> list[Path]:
        """Write ``df`` as ``tables/{name}.csv`` and ``tables/{name}.parquet`` (``name``
        made a safe file name when it is not one, see :func:`file_stem`).

        The index is written unless it is a plain RangeIndex (tidy tables), or as ``index`` says.
        """
        if index is None:
            index = not isinstance(df.index, pd.RangeIndex)
        df = df.copy()
        df.columns = [str(c) for c in df.columns]
        df.attrs = {}
        stem = self._stem(name)
        out = [
            atomic_write(self.tables / f"{stem}.csv", lambda p: df.to_csv(p, index=index)),
            atomic_write(self.tables / f"{stem}.parquet", lambda p: df.to_parquet(p, index=index)),
        ]
        for path in out:
            self._record(path, name)
        return out

    def figure(self, name: str, fig) -> Path:
        """Save a matplotlib figure as ``figures/{name}.png`` (a safe file name, see :func:`file_stem`)."""
        stem = self._stem(name)
        path = atomic_write(self.figures / f"{stem}.png", lambda p: _savefig(fig, p))
        return self._record(path, name)

    def text(self, name: str, text: str) -> Path:
        """Write a UTF-8 text file (report.html, provenance.json) at the folder's root."""

        def write(p):
            with open(p, "w", encoding="utf-8") as fh:
                fh.write(text)

        path = atomic_write(self.root / check_file_name("file name", name), write)
        self.written.append(path)
        return path

    def publish(self) -> Path:
        """Write the manifest (``complete: true``) and move the staging folder into place,
        replacing the previous output when ``overwrite`` allowed it. Returns the target.
        When it fails, the staging folder is removed and the target is as it was."""
        if self.published:
            return self.target
        try:
            self._manifest(complete=True)
            for folder in (self.tables, self.figures):
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only when empty
            self._move_into_place()
        except BaseException:
            self.discard()
            raise
        self._lock.release()
        target = self.target
        self.published = True
        self.written = [self.final_path(p) for p in self.written] + [target / MANIFEST]
        self.root = target
        self.tables, self.figures = target / "tables", target / "figures"
        return target

    def _move_into_place(self) -> None:
        target = self.target
        try:
            if target.exists():
                check_target(target, kind=self.kind, overwrite=self.overwrite)  # still ours (or empty)
                if not any(target.iterdir()):
                    target.rmdir()
                elif _exchange(self.root, target):
                    shutil.rmtree(self.root, ignore_errors=True)  # now the previous output
                    return
                else:
                    old = self.root.with_name(f"{OLD_PREFIX}{target.name}-{os.getpid()}-{secrets.token_hex(4)}")
                    os.replace(target, old)
                    try:
                        os.replace(self.root, target)
                    except BaseException:
                        os.replace(old, target)
                        raise
                    shutil.rmtree(old, ignore_errors=True)
                    return
            os.replace(self.root, target)
        except OSError as exc:
            if isinstance(exc, OutputError):
                raise
            raise OutputError(f"cannot move the finished output into {target}: {exc.strerror or exc}") from None

    def discard(self) -> None:
        """Remove the staging folder and release the lock: the target stays as it was."""
        if not self.published:
            shutil.rmtree(self.root, ignore_errors=True)
        self._lock.release()

    def close(self, exc: BaseException | None = None) -> None:
        """End the run: publish a complete output; after an error (``exc``), publish
        nothing (:meth:`discard`)."""
        if self.published:
            return
        if exc is None:
            self.publish()
        else:
            self.discard()

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


@contextlib.contextmanager
def dropped_when_empty(folder: str | os.PathLike):
    """Remove the result store ``folder`` (``OUTPUT.batches``, ``OUTPUT.years``) when the
    ``with`` block fails before anything was finished in it, if the block created it:
    a failed first attempt (a bad label, pattern or scheduler) then leaves nothing that
    would refuse the corrected command. A store holding finished results is kept (to
    resume), and so is one that existed before."""
    from .._files import TMP_PREFIX

    folder = Path(folder)
    existed = folder.exists()
    try:
        yield folder
    except BaseException:
        if not existed and folder.is_dir() and not folder.is_symlink():
            with contextlib.suppress(OSError):
                names = [p.name for p in folder.iterdir() if not p.name.startswith(TMP_PREFIX)]
                if names in ([], ["manifest.json"]):
                    shutil.rmtree(folder, ignore_errors=True)
        raise
