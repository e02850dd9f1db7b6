"""Provenance a paper can cite: every input file with its size and SHA-256, the
command line, the mrioflow version and source commit, the data choices.

One module for ``mrioflow run``, ``mc`` and ``sweep``. Inputs are listed as
the user gave them (``given``) and resolved (``path``). For Eora26 only the
files a year actually reads are hashed (the year's zip or loose files and the
label files), never the rest of a folder of many years; a zip is hashed as a
whole (the file that was downloaded) and the members read from it are listed
with their sizes and CRC-32. Files are hashed in 1 MiB blocks, each once per command:
the cache's content check reads the same pass (:func:`sha256`).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shlex
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["collect", "command_line", "file_record", "git_commit", "sha256", "source_files", "study", "table_inputs"]


def sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, read in blocks (large files never held in memory).

    Inside :func:`mrioflow.io.cache.digest_scope` (every ``mrioflow`` command) the
    file is read once for both this digest and the cache's xxh3-128
    (:func:`mrioflow.io.cache.file_digests`): the cache's check of a table and its
    provenance rest on the same read of the same bytes.
    """
    from ..io.cache import file_digests

    return file_digests(path, sha256=True)["sha256"]


def file_record(path: str | os.PathLike, *, role: str, given=None, members: Sequence[str] = ()) -> dict:
    """One input file: role, path as given, resolved path, size in bytes, SHA-256
    (and, for a zip, the members read from it with their sizes and CRC-32)."""
    p = Path(path)
    rec = {
        "role": role,
        "given": str(path if given is None else given),
        "path": str(p.resolve()),
        "size": p.stat().st_size,
        "sha256": sha256(p),
    }
    if members:
        with zipfile.ZipFile(p) as zf:
            infos = {i.filename: i for i in zf.infolist()}
        rec["members"] = [
            {"name": m, "size": infos[m].file_size, "crc32": f"{infos[m].CRC:08x}"} for m in sorted(members)
        ]
    return rec


def source_files(reader, path, year=None, **options) -> list[tuple[Path, list[str]]]:
    """The files on disk that ``reader`` (a registered reader) reads for ``path``, each
    with the zip members read from it.

    Eora26: the files of ``year`` (data and labels) and their members; any other
    reader: its ``sources`` (by default the file itself, or every file under the folder).

    Raises
    ------
    MissingDataError
        From the reader: the path, the year or a file is missing.
    """
    if reader.name == "eora26":
        from ..io.eora26 import _locate

        files, _ = _locate(path, year, options.get("price") or "bp")
        by_disk: dict[Path, list[str]] = {}
        for f in files.values():
            by_disk.setdefault(f.path, [])
            if f.member:
                by_disk[f.path].append(f.member)
        return sorted(by_disk.items())
    return [(Path(f), []) for f in reader.sources(Path(path).expanduser(), year=year, **options)]


def git_commit() -> dict | None:
    """The commit of the installed mrioflow source tree, when it is a git checkout
    (``{"commit": ..., "dirty": bool}``); None otherwise or when git is absent."""
    package = Path(__file__).resolve().parents[1]
    for root in (package.parent.parent, package.parent):  # src layout, flat layout
        if (root / ".git").exists() and (root / "pyproject.toml").is_file():
            break
    else:
        return None
    try:

        def git(*args):
            return subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()

        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


def command_line(argv: Sequence[str] | None) -> str | None:
    """The command as one shell-quoted line, or None for an API call."""
    return None if argv is None else " ".join(shlex.quote(str(a)) for a in argv)


def collect(
    *,
    command: str,
    argv: Sequence[str] | None,
    settings: dict,
    inputs: Iterable[dict],
    edgar: bool,
    edgar_mapping: bool,
    grouping: bool,
) -> dict:
    """The provenance record shared by run, mc and sweep.

    Parameters
    ----------
    command : str
        "run", "mc" or "sweep".
    argv : sequence of str or None
        The command line (``sys.argv`` of the CLI); None for an API call, whose
        ``settings`` then say how it was called.
    settings : dict
        Every setting of the call.
    inputs : iterable of dict
        :func:`file_record` of every input read (each with its ``years``).
    edgar, edgar_mapping, grouping : bool
        Whether EDGAR methane, a custom EDGAR mapping, a custom grouping were used.
    """
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    versions = {"python": platform.python_version(), "mrioflow": __version__}
    for pkg in ("numpy", "scipy", "pandas", "pyarrow", "matplotlib", "array-api-compat", "dask", "tqdm"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = "not installed"
    if "cupy" in sys.modules:
        versions["cupy"] = getattr(sys.modules["cupy"], "__version__", "?")
    return {
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "mrioflow command": command,
        "command line": command_line(argv),
        "api call": None if argv is not None else f"{command}({settings!r})",
        "mrioflow version": __version__,
        "source commit": git_commit(),
        "inputs": list(inputs),
        "edgar used": bool(edgar),
        "custom edgar mapping": bool(edgar_mapping),
        "custom grouping": bool(grouping),
        "platform": platform.platform(),
        "versions": versions,
        "settings": settings,
    }


def study(
    command: str, argv, settings: dict, *, data=(), years=(), options=None, edgar=None, edgar_mapping=None, groups=None
) -> dict:
    """The provenance of ``mrioflow mc`` or ``sweep``: :func:`collect` over the inputs of
    :func:`table_inputs` (hashed now, so that a missing year fails before any work)."""
    inputs = table_inputs(
        data=data, years=years, options=options, edgar=edgar, edgar_mapping=edgar_mapping, groups=groups
    )
    return collect(
        command=command,
        argv=argv,
        settings=settings,
        inputs=inputs,
        edgar=bool(edgar),
        edgar_mapping=bool(edgar_mapping),
        grouping=bool(groups),
    )


def table_inputs(
    *, data=(), years=(), options=None, edgar=None, edgar_mapping=None, groups=None, config=None
) -> list[dict]:
    """:func:`file_record` of every input of a run: each year's table files (with the
    years they serve), the EDGAR file and mapping, the grouping and the configuration file.

    ``data`` is a sequence of (path as given, reader) pairs (``Settings.data_sources()``;
    path None: the synthetic world, which has no files); ``options`` the reader options.

    Raises
    ------
    MissingDataError
        A year's table is missing (found before anything is computed).
    """
    found: dict[tuple[str, Path], dict] = {}  # (role, file) -> given, members, years

    def add(path, role, given, members=(), year=None):
        entry = found.setdefault((role, Path(path)), {"given": given, "members": set(), "years": []})
        entry["members"].update(members)
        if year is not None:
            entry["years"].append(year)

    for given, reader in data:
        if given is None:
            continue
        for y in years if reader.yearly else (None,):
            for path, members in source_files(reader, given, y, **(options or {})):
                add(path, f"{reader.name} table", given, members, year=y)
    for path, role in (
        (edgar, "edgar"),
        (edgar_mapping, "edgar mapping"),
        (groups, "grouping"),
        (config, "configuration"),
    ):
        if path:
            add(Path(path).expanduser(), role, path)
    records = []
    for (role, path), e in found.items():
        rec = file_record(path, role=role, given=e["given"], members=sorted(e["members"]))
        if e["years"]:
            rec["years"] = e["years"]
        records.append(rec)
    return records
