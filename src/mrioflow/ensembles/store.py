"""Folders of resumable results: one npz file per finished task, and a manifest that
records everything that determines those results.

A rerun into the same folder reuses a finished task only when every recorded item
is the same; otherwise it is refused with the items that differ. Files are written
atomically (temporary file, then rename); temporaries a killed run left behind are
removed when the folder is opened again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .._files import TMP_PREFIX, atomic_write, leftover_temporaries
from ..errors import StoreError
from ..mrio import MRIO

MANIFEST = "manifest.json"


_NOT_CONTENT = ("source",)
"""Labels that say where a table was read from, not what it holds."""
_RUN_META = ("cache", "cache_file")
"""Meta entries that say how this run got the table (a cache hit or a parse, which cache file)."""


def table_fingerprint(mrio: MRIO) -> str:
    """A content hash of a table: every array (shape, dtype and values, order-sensitive)
    and every label and meta entry, never where or how it was read (its source path,
    whether the cache was hit, the cache file): a table parsed now and the same table
    loaded from the cache, or from a moved copy of the data, have the same fingerprint.
    About 1 s per GB of arrays."""
    h = hashlib.blake2b(digest_size=16)
    for name in ("Z", "Y", "F", "F_Y"):
        a = np.ascontiguousarray(getattr(mrio, name))
        h.update(f"{name}{a.shape}{a.dtype.str}".encode())
        h.update(memoryview(a).cast("B"))
    labels = {k: v for k, v in mrio.labels().to_json().items() if k not in _NOT_CONTENT}
    labels["meta"] = {k: v for k, v in labels["meta"].items() if k not in _RUN_META}
    h.update(json.dumps(labels, sort_keys=True, default=str).encode())
    return h.hexdigest()


def array_fingerprint(a) -> str:
    a = np.ascontiguousarray(a, dtype=np.float64)
    return hashlib.blake2b(f"{a.shape}".encode() + memoryview(a).cast("B").tobytes(), digest_size=16).hexdigest()


class ResultStore:
    """A folder of finished task results (one npz file per task), for resuming.

    Parameters
    ----------
    folder : path
        Created when missing. An existing folder must be empty or hold
        ``manifest.json`` of the same kind and settings.
    spec : dict (JSON-serialisable)
        Everything that determines the results; ``spec["kind"]`` names the study.
    filename : callable
        key -> file name inside the folder.

    Raises
    ------
    StoreError
        A non-empty folder without a manifest, a damaged or foreign manifest, a
        manifest of another kind of study, or one whose settings differ (naming them).
    """

    def __init__(self, folder, spec: dict, *, filename: Callable[[object], str]):
        self.folder = Path(folder)
        self.filename = filename
        spec = json.loads(json.dumps(spec, sort_keys=True))
        manifest = self.folder / MANIFEST
        if self.folder.exists() and not self.folder.is_dir():
            raise StoreError(f"{self.folder} is not a folder")
        if manifest.exists():
            self._check(manifest, spec)
        else:
            others = (
                [p.name for p in self.folder.iterdir() if not p.name.startswith(TMP_PREFIX)]
                if self.folder.is_dir()
                else []
            )
            if others:
                raise StoreError(
                    f"{self.folder} is not empty and has no {MANIFEST} (it holds {', '.join(sorted(others)[:3])}"
                    f"{' ...' if len(others) > 3 else ''}): not results mrioflow can resume; use another "
                    "(or an empty) folder"
                )
            self.folder.mkdir(parents=True, exist_ok=True)
            self._write(
                manifest, lambda tmp: Path(tmp).write_text(json.dumps(spec, sort_keys=True, indent=1), encoding="utf-8")
            )
        for tmp in leftover_temporaries(self.folder):  # left by a killed write
            tmp.unlink(missing_ok=True)

    def _check(self, manifest: Path, spec: dict) -> None:
        try:
            stored = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(
                f"{manifest}: not a readable manifest ({type(exc).__name__}: {exc}); use another folder"
            ) from None
        if not isinstance(stored, dict) or "kind" not in stored:
            raise StoreError(f"{manifest}: not a manifest mrioflow wrote; use another folder")
        if stored["kind"] != spec["kind"]:
            raise StoreError(f"{self.folder} holds a {stored['kind']}, not a {spec['kind']}; use another folder")
        differ = [key for key in sorted(set(stored) | set(spec)) if stored.get(key) != spec.get(key)]
        if differ:
            raise StoreError(
                f"{self.folder} holds a {spec['kind']} whose {', '.join(differ)} "
                f"{'differs' if len(differ) == 1 else 'differ'} from this run's; resume with the same inputs "
                "and settings, or use another (or an empty) folder"
            )

    def path(self, key) -> Path:
        return self.folder / self.filename(key)

    def get(self, key) -> dict | None:
        """The stored arrays of ``key``, or None (a damaged file is removed: its task reruns)."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                return {name: z[name] for name in z.files}
        except Exception:
            path.unlink(missing_ok=True)
            return None

    def save(self, key, arrays: dict) -> None:
        self._write(self.path(key), lambda tmp: np.savez(tmp, **arrays))

    @staticmethod
    def _write(path: Path, write) -> None:
        try:
            atomic_write(path, write)
        except OSError as exc:  # atomic_write's OutputError already names the file and the reason
            raise StoreError(f"{exc}; nothing finished is lost, rerun to resume") from None
