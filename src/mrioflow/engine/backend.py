"""Array backends: what the array API standard lacks, one small class per library.

Kernels (``mrioflow.kernels``) are written once against the array API standard and
infer their namespace from their inputs. What the standard does not offer lives
here: an LU factorisation that is computed once and reused for many right-hand
sides, moving arrays between host and device, synchronising, freeing memory,
random numbers. The user picks a backend once, at the engine boundary.
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..errors import BackendError, OptionError, SingularSystemError
from ..kernels import calc_A

BACKEND_NAMES = ("numpy", "cupy", "array_api_strict", "auto")
DTYPES = ("float64", "float32")
#: How (I - A) is factored: "double" in the working dtype, "mixed" in float32 with every
#: solve refined in float64 (:class:`MixedLU`).
PRECISIONS = ("double", "mixed")


class Factorization:
    """An LU factorisation of a square matrix M, reusable for many solves.

    ``solve(B)`` returns M^-1 B and ``solve(B, transpose=True)`` returns M^-T B,
    without ever forming M^-1.
    """

    n: int

    def solve(self, B: Any, *, transpose: bool = False) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class _LapackLU(Factorization):
    """LU from scipy.linalg / cupyx.scipy.linalg (``getrf`` / ``getrs``).

    When M is C-ordered its transpose is Fortran-ordered, so we factor M^T in place
    (no copy of the n x n matrix) and flip the ``trans`` flag of every solve.
    """

    def __init__(self, linalg, lu_piv, n: int, of_transpose: bool):
        self._linalg = linalg
        self._lu_piv = lu_piv
        self._of_transpose = of_transpose
        self.n = n

    def solve(self, B, *, transpose: bool = False):
        # Safe to call from many threads at once on one factorisation. SciPy's f2py wrapper of
        # getrs (behind lu_solve, and scipy.linalg.lapack.dgetrs alike) shifts the caller's
        # 0-based piv to 1-based in place, calls LAPACK with the GIL released, and shifts it
        # back: threads sharing one piv read it half shifted and solve with wrong row swaps
        # (SciPy 1.17: 3,966 of 6,000 solves wrong from two threads, and "double free or
        # corruption" when an index runs past n). Fixed upstream by SciPy's C++ LAPACK wrappers
        # (scipy/scipy#25992, which checks "4 threads x 300 dgetrs on one shared piv"). So each
        # call gets a private copy of piv (n ints): the LU itself is only read. Measured against
        # a lock around the solve (tests/engine/test_lu_threads.py, docs/benchmarks.md).
        lu, piv = self._lu_piv
        trans = 1 if transpose != self._of_transpose else 0
        return self._linalg.lu_solve((lu, piv.copy()), B, trans=trans, check_finite=False)


class _DenseSolve(Factorization):
    """Fallback for namespaces without an LU: ``xp.linalg.solve`` for every call.

    Used for array-api-strict, where it keeps the whole engine path inside the
    standard so that the portability tests exercise nothing library-specific.
    """

    def __init__(self, xp, M):
        self._xp = xp
        self._M = M
        self.n = M.shape[0]

    def solve(self, B, *, transpose: bool = False):
        xp = self._xp
        M = xp.matrix_transpose(self._M) if transpose else self._M
        try:
            return xp.linalg.solve(M, B)
        except np.linalg.LinAlgError as exc:
            raise SingularSystemError(f"(I - A) is singular: {exc}") from None


class MixedLU(Factorization):
    """A float32 LU of a float64 matrix M, every solve refined in float64 (mixed precision).

    The LU is computed in float32 (half the memory traffic of float64, about half the
    time); each solve starts from the float32 solution and corrects it,

        r_k = B - M X_k   (float64, against the float64 M kept here),
        X_{k+1} = X_k + fl32(M)^-1 r_k   (the float32 LU),

    until every column's normwise backward error

        eta_j = ||r_j||_inf / (||M||_inf ||x_j||_inf + ||b_j||_inf)

    is at most ``tol`` (default 1e-15; ||M^T||_inf = ||M||_1 for transposed solves).
    Only the columns still above ``tol`` are carried into the next step; the norms of M
    are computed once. Each right-hand side is scaled by its largest entry before it is
    rounded to float32, so that no value overflows or underflows there.

    When the refinement stalls (a step that does not halve a column's backward error, or
    ``max_steps`` corrections) or the float32 LU is singular, M is factored in float64
    (in place, no second n x n array, unless solves of other threads are still refining
    against it: then a copy) and that LU answers this and every later solve:
    :attr:`fallback` says why. :attr:`records` holds, per solve, the right-hand sides,
    the corrections made, the backward error reached and how it was solved.

    Written with array-API calls only (plus the backend's LU), so the same loop runs
    on NumPy, array-api-strict and CuPy.
    """

    def __init__(self, backend: Backend, M, *, check: bool = True, tol: float = 1e-15, max_steps: int = 10):
        xp = backend.xp
        self._backend = backend
        self._xp = xp
        self._M = M
        self._check = check
        self.n = M.shape[0]
        self.tol = tol
        self.max_steps = max_steps
        self.records: list[dict] = []
        self.fallback: str | None = None
        self._lu64: Factorization | None = None
        self._lock = threading.Lock()
        self._refining = 0  # solves refining against M now (threads may share a factorisation)
        M32, self.norm_inf, self.norm_1 = _float32_copy_and_norms(xp, M)
        try:
            self._lu32: Factorization | None = backend.lu_factor(M32, overwrite=True, check=True)
        except SingularSystemError as exc:
            self._lu32 = None
            self._fall_back(f"the float32 LU failed ({exc})")

    def _fall_back(self, why: str, *, refining: int = 0) -> None:
        """Factor M in float64 (in place when no other solve refines against it; ``refining``:
        whether the caller does); it answers every solve from now on."""
        with self._lock:
            if self._lu64 is not None:
                return
            self._lu32 = None
            self.fallback = why
            M = self._M if self._refining <= refining else self._xp.asarray(self._M, copy=True)
            self._lu64 = self._backend.lu_factor(M, overwrite=True, check=self._check)
            self._M = None  # now the float64 LU's memory (or the others' to finish with)

    def _solve32(self, lu32: Factorization, B, transpose: bool):
        """fl32(M)^-1 B in float64, B scaled column by column into float32's range."""
        xp = self._xp
        scale = xp.max(xp.abs(B), axis=0)
        scale = xp.where(scale > 0, scale, xp.ones_like(scale))
        B32 = xp.astype(B / scale, xp.float32)
        return xp.astype(lu32.solve(B32, transpose=transpose), xp.float64) * scale

    def solve(self, B, *, transpose: bool = False):
        xp = self._xp
        vector = B.ndim == 1
        if vector:
            B = xp.reshape(B, (-1, 1))
        m = B.shape[1]
        record: dict[str, Any] = {"rhs": m, "transpose": transpose}
        X = None
        with self._lock:
            M, lu32 = self._M, self._lu32
            if self._lu64 is None and lu32 is not None:
                self._refining += 1
        if self._lu64 is None and lu32 is not None:
            try:
                X = self._refine(M, lu32, B, transpose, record)
            except SingularSystemError as exc:  # a float32 solve (array-api-strict: no LU) failed
                self._fall_back(f"the float32 solve failed ({exc})", refining=1)
            finally:
                with self._lock:
                    self._refining -= 1
        if X is None:
            X = self._solve64(B, transpose, record)
        self.records.append(record)
        return xp.reshape(X, (-1,)) if vector else X

    def _solve64(self, B, transpose: bool, record: dict):
        lu64 = self._lu64
        assert lu64 is not None
        record.update(method="float64 LU (fallback)", corrections=0, backward_error=None)
        return lu64.solve(B, transpose=transpose)

    def _refine(self, M, lu32: Factorization, B, transpose: bool, record: dict):
        xp = self._xp
        Mop = xp.matrix_transpose(M) if transpose else M
        anorm = self.norm_1 if transpose else self.norm_inf
        m = B.shape[1]
        bnorm = xp.max(xp.abs(B), axis=0)
        X = self._solve32(lu32, B, transpose)
        cols = None  # the columns of B still refined (None: all of them, in order)
        done_X: list = []
        done_cols: list = []
        worst = 0.0
        previous = None
        step = 0
        while True:
            R = B - xp.matmul(Mop, X)
            eta = _backward_error(xp, R, X, anorm, bnorm)
            ok = eta <= self.tol
            if bool(xp.all(ok)):
                worst = max(worst, float(xp.max(eta)) if eta.shape[0] else 0.0)
                done_X.append(X)
                done_cols.append(cols)
                break
            stalled = step == self.max_steps or (
                previous is not None and bool(xp.any((eta > 0.5 * previous) & xp.logical_not(ok)))
            )
            if bool(xp.any(ok)):  # keep refining only the columns that need it
                keep = xp.nonzero(xp.logical_not(ok))[0]
                fin = xp.nonzero(ok)[0]
                worst = max(worst, float(xp.max(xp.take(eta, fin))))
                every = xp.arange(m) if cols is None else cols
                done_X.append(xp.take(X, fin, axis=1))
                done_cols.append(xp.take(every, fin))
                X, R, B, eta, bnorm = (xp.take(a, keep, axis=-1) for a in (X, R, B, eta, bnorm))
                cols = xp.take(every, keep)
            if stalled:
                top = float(xp.max(eta))
                self._fall_back(
                    f"the float64 refinement of the float32 LU stalled at a backward error of {top:.3g} "
                    f"after {step} correction(s) (target {self.tol:.0e}): (I - A) is too badly conditioned "
                    "for a float32 LU",
                    refining=1,
                )
                done_X.append(self._solve64(B, transpose, {}))
                done_cols.append(cols)
                record.update(method="float64 LU (fallback)", corrections=step, backward_error=None)
                return _assemble(xp, done_X, done_cols)
            previous = eta
            X = X + self._solve32(lu32, R, transpose)
            step += 1
        record.update(method="float32 LU + float64 refinement", corrections=step, backward_error=worst)
        return _assemble(xp, done_X, done_cols)


def _backward_error(xp, R, X, anorm: float, bnorm):
    """Per column, ||r||_inf / (||M||_inf ||x||_inf + ||b||_inf): 0 for an exact zero column,
    inf where anything is not finite (such a column never converges)."""
    rnorm = xp.max(xp.abs(R), axis=0)
    denom = anorm * xp.max(xp.abs(X), axis=0) + bnorm
    safe = xp.where(denom > 0, denom, xp.ones_like(denom))
    eta = xp.where(denom > 0, rnorm / safe, xp.where(rnorm > 0, xp.full_like(rnorm, xp.inf), xp.zeros_like(rnorm)))
    return xp.where(xp.isnan(eta), xp.full_like(eta, xp.inf), eta)


def _assemble(xp, parts: list, cols: list):
    """The columns of ``parts`` put back in their places ``cols`` (None: all, in order)."""
    if len(parts) == 1 and cols[0] is None:
        return parts[0]
    m = sum(p.shape[1] for p in parts)
    where = xp.concat([xp.arange(m) if c is None else c for c in cols])
    return xp.take(xp.concat(parts, axis=1), xp.argsort(where), axis=1)


def _float32_copy_and_norms(xp, M, block: int = 1 << 16):
    """M in float32, ||M||_inf and ||M||_1 (largest row and column sums of |M|), in one pass
    over M a block of rows at a time (each block read once, while it is in cache)."""
    n, m = M.shape
    step = max(1, block // max(m, 1))
    M32 = xp.empty((n, m), dtype=xp.float32, device=M.device)
    rows = xp.zeros(n, dtype=M.dtype, device=M.device)
    columns = xp.zeros(m, dtype=M.dtype, device=M.device)
    for i in range(0, n, step):
        j = min(i + step, n)
        part = M[i:j, :]
        M32[i:j, :] = xp.astype(part, xp.float32)
        a = xp.abs(part)
        rows[i:j] = xp.sum(a, axis=1)
        columns = columns + xp.sum(a, axis=0)
    return M32, float(xp.max(rows)), float(xp.max(columns))


class Backend:
    """Base class: the array namespace ``xp`` plus what the standard lacks."""

    name: str = "abstract"
    xp: Any
    device: Any = None
    #: True when ``asarray`` always makes a private copy (a host-to-device
    #: transfer); the engine may then reuse that copy's memory in place.
    copies_on_transfer: bool = False
    #: True when the LU is computed in the memory of its input (LAPACK getrf).
    in_place_lu: bool = False

    def __init__(self, dtype: str = "float64"):
        if dtype not in DTYPES:
            raise OptionError(f"dtype must be one of {DTYPES}, got {dtype!r}")
        self.dtype_name = dtype
        self.dtype = getattr(self.xp, dtype)
        self.reason = ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.dtype_name} on {self.describe()}>"

    def __str__(self) -> str:
        return f"{self.name} ({self.describe()})"

    # -- travelling to workers -------------------------------------------------
    def spec(self) -> dict:
        """What rebuilds this backend elsewhere: name, dtype and device (JSON-safe)."""
        return {"name": self.name, "dtype": self.dtype_name, "device": self.device_name}

    @property
    def device_name(self) -> str | None:
        """The device as a string (None: the library's default device)."""
        return None

    @property
    def rng_family(self) -> str:
        """Which random-number generator draws the samples: backends of one family
        draw the same numbers from the same seed (here NumPy's PCG64 through
        :func:`normal_rows`)."""
        return "numpy-pcg64-boxmuller32"

    def __reduce__(self):
        # Modules do not pickle: a backend travels as its spec and is rebuilt
        # on arrival, same kind, dtype and device.
        return (_from_spec, (self.spec(), self.reason))

    # -- data movement ---------------------------------------------------------
    def asarray(self, a) -> Any:
        """Move a host (NumPy) array to this backend's device, in the working dtype."""
        return self.xp.asarray(np.asarray(a, dtype=self.dtype_name), device=self.device)

    def to_host(self, a) -> np.ndarray:
        """Copy a device array back to a NumPy array."""
        return np.asarray(a)

    # -- what the standard lacks -------------------------------------------------
    def eye_minus(self, A, scale=None):
        """Return I - A, or I - A diag(scale) for a (1, n) row ``scale``. May reuse A's
        memory: A must not be used afterwards."""
        xp = self.xp
        n = A.shape[-1]
        return xp.eye(n, dtype=A.dtype, device=self.device) - (A if scale is None else A * scale)

    def lu_factor(self, M, *, overwrite: bool = False, check: bool = True, precision: str = "double") -> Factorization:
        """LU of M, reusable for many solves. ``precision="double"``: in M's dtype (in M's
        memory where ``overwrite`` and the backend allow); ``"mixed"``: a float32 LU whose
        solves are refined in float64 against M, which it keeps (:class:`MixedLU`)."""
        raise NotImplementedError

    def _mixed_lu(self, M, check: bool) -> Factorization:
        if M.dtype != self.xp.float64:
            raise OptionError(f"precision 'mixed' refines in float64 and needs a float64 matrix, got {M.dtype}")
        return MixedLU(self, M, check=check)

    def synchronize(self) -> None:
        """Wait until all queued device work is done (a no-op on the CPU)."""

    def blas_threads(self, limit: int):
        """A context in which the host BLAS uses at most ``limit`` threads (process-wide;
        a no-op where the backend's products do not run on host BLAS threads)."""
        return contextlib.nullcontext()

    def free_memory(self) -> None:
        """Hand cached device memory back to the driver (a no-op on the CPU)."""

    def rng(self, seed):
        """A random generator producing arrays on this backend's device."""
        return np.random.default_rng(seed)

    @property
    def normal_dtype(self):
        """The dtype :meth:`standard_normal` draws in: float32 for host generators. The
        lognormal factors exp(sigma z) are computed in it too (sigma is held in it):
        0.5 ns a cell in float32 against 4.6 in float64 (measured, AVX-512), within
        1e-7 relative of the float64 factors of the same normals."""
        return self.xp.float32

    def standard_normal(self, rng, shape) -> Any:
        """Standard normal numbers of a 2-D ``shape`` (rows, m), drawn from ``rng``.

        Host generators (this base, NumPy, array-api-strict) use
        :func:`normal_rows`: each row of m numbers consumes the next ceil(m / 2)
        64-bit words of the stream, so drawing the rows in blocks of any size
        gives the same numbers (see :meth:`draw_block_rows`). The numbers are in the
        :attr:`normal_dtype`, float32 (they promote in arithmetic).
        """
        return self.xp.asarray(normal_rows(rng, shape), device=self.device)

    def split_rows(self, rng, rows: int, m: int, parts: int) -> list | None:
        """Split the drawing of ``rows`` rows of m normals (:meth:`standard_normal`) into
        ``parts`` runs of rows, (first, last, generator) each, that give together exactly
        what ``rng`` would give drawing them in order; ``rng`` moves past them all. None
        where the stream cannot jump ahead (then the rows are drawn in order)."""
        bits = rng.bit_generator
        if not hasattr(bits, "advance") or parts < 2 or rows < parts:
            return None
        words = (m + 1) // 2  # 64-bit words a row takes (normal_rows)
        bounds = [rows * k // parts for k in range(parts + 1)]
        runs = []
        for first, last in zip(bounds[:-1], bounds[1:], strict=True):
            ahead = type(bits)()
            ahead.state = bits.state
            ahead.advance(first * words)
            runs.append((first, last, np.random.Generator(ahead)))
        bits.advance(rows * words)
        return runs

    def cells(self, mask: np.ndarray):
        """Where a host boolean mask is True, in the form :meth:`scatter` takes (here the mask itself)."""
        return self.xp.asarray(mask, device=self.device)

    def scatter(self, shape, cells, values, out=None):
        """An array of ``shape``, zero but at ``cells`` (from :meth:`cells`), which take ``values``
        in C order; written into ``out`` (an array of that shape and dtype from an earlier call,
        no longer used) when given: a fresh n x n array costs its page faults again every time."""
        if out is None:
            out = self.xp.zeros(shape, dtype=values.dtype, device=self.device)
        else:
            out[...] = 0
        out[cells] = values
        return out

    def eye_minus_cells(self, shape, cells, values, y_sums, out=None):
        """(I - A, x) for a Z of ``shape`` that is zero but at ``cells`` (from :meth:`cells`),
        which hold ``values`` in C order: x = Z 1 + ``y_sums``, A = Z diag(x)^-1 (columns
        with x = 0 are 0). Built in ``out`` when given (see :meth:`scatter`)."""
        Z = self.scatter(shape, cells, values, out)
        x = self.xp.sum(Z, axis=1) + y_sums
        return self.eye_minus(Z, scale=calc_A(self.xp.ones((1, shape[1]), dtype=x.dtype, device=self.device), x)), x

    @property
    def draw_threads(self) -> int:
        """Threads that may draw samples at once (each sample has its own stream)."""
        import os

        return os.cpu_count() or 1

    def draw_block_rows(self, shape) -> int:
        """Rows per block when a (rows, m) array of normals is drawn and used block by
        block (so that the draws and their temporaries stay in cache, and no n x m
        array of draws is made): about 2^17 numbers per block (the fastest here)."""
        return max(1, _DRAW_BLOCK // max(1, shape[1]))

    def describe(self) -> str:
        return "CPU"

    def memory_available(self) -> int:
        """Bytes of memory a computation can still allocate on this backend's device.

        The host's: ``MemAvailable`` of /proc/meminfo (Linux), else the free
        physical pages (``os.sysconf``).
        """
        return host_memory_available()


_DRAW_BLOCK = 1 << 17
#: Elements of I - A built at once from Z's cells (NumpyBackend.eye_minus_cells): the
#: fastest here, 47 ms at n = 4,940 against 53 ms for 2^17 and 65 ms for 2^12.
_ASSEMBLY_BLOCK = 1 << 15


def normal_rows(rng, shape) -> np.ndarray:
    """Standard normal numbers (float32) of ``shape`` (rows, m) from a NumPy Generator, row by row.

    Box-Muller on float32 uniforms: a row takes h = ceil(m / 2) 64-bit words of the
    stream (``random_raw``), read as 2 h 32-bit words whose top 23 bits are the
    mantissas of f in [1, 2): radii r = sqrt(-2 log(2 - f)) from the first h and
    angles 2 pi f from the next h, and the row is [r cos, r sin][:m]. A row depends
    only on its own words, so rows drawn in blocks of any size are the same numbers.
    About five times faster than NumPy's float64 ziggurat (the mantissa trick saves
    13 % against ``Generator.random(dtype=float32)``); the 23-bit resolution leaves
    out the tail beyond |z| = sqrt(2 log 2^23) = 5.65 (probability 1.6e-8 per number)
    and nothing else.
    """
    rows, m = shape
    h = (m + 1) // 2
    bits = rng.bit_generator.random_raw(rows * h).view(np.uint32).reshape(rows, 2, h)
    bits >>= np.uint32(9)
    bits |= np.uint32(0x3F800000)  # exponent of 1.0: the float32 numbers 1 + k 2^-23
    f = bits.view(np.float32)
    r, theta = f[:, 0], f[:, 1]
    np.subtract(np.float32(2), r, out=r)  # 1 - k 2^-23 in (0, 1], exact
    np.log(r, out=r)
    r *= np.float32(-2)
    np.sqrt(r, out=r)
    theta *= np.float32(2 * np.pi)
    z = np.empty((rows, 2 * h), dtype=np.float32)
    np.cos(theta, out=z[:, :h])
    np.sin(theta, out=z[:, h:])
    z[:, :h] *= r
    z[:, h:] *= r
    return z[:, :m]


def host_memory_available() -> int:
    """Bytes of host RAM available to a new allocation without swapping."""
    import os

    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not POSIX: no limit known
        return 1 << 62


class _LapackBackend(Backend):
    """Shared code of the NumPy and CuPy backends: both have LAPACK-style LU."""

    _linalg: Any
    in_place_lu = True

    def eye_minus(self, A, scale=None):
        # In place: negate (and scale), then add one to the diagonal (a strided view
        # of the flat array). No second n x n array is allocated.
        n = A.shape[-1]
        if not A.flags.c_contiguous:
            return super().eye_minus(A, scale)
        A *= -1 if scale is None else -scale
        A.reshape(-1)[:: n + 1] += 1
        return A

    def cells(self, mask: np.ndarray):
        # flat indices: assigning through them is about 20 times faster than through the mask
        return self.xp.asarray(np.flatnonzero(mask))

    def scatter(self, shape, cells, values, out=None):
        if out is None:
            flat = self.xp.zeros(shape[0] * shape[1], dtype=values.dtype)
        else:
            flat = self.xp.reshape(out, (-1,))  # a view: out is C-contiguous (it came from here)
            flat.fill(0)
        flat[cells] = values
        return self.xp.reshape(flat, shape)

    def lu_factor(self, M, *, overwrite: bool = False, check: bool = True, precision: str = "double") -> Factorization:
        if precision != "double":
            return self._mixed_lu(M, check)
        n = M.shape[0]
        of_transpose = bool(M.flags.c_contiguous) and not bool(M.flags.f_contiguous)
        target = M.T if of_transpose else M
        with warnings.catch_warnings():
            warnings.simplefilter("error", category=_linalg_warning())
            try:
                lu, piv = self._linalg.lu_factor(target, overwrite_a=overwrite, check_finite=False)
            except _linalg_warning() as exc:
                raise SingularSystemError(f"(I - A) is singular: {exc}") from None
        if check:
            diag = lu.diagonal()
            bad = self.xp.logical_not(self.xp.isfinite(diag)) | (diag == 0)
            if bool(self.xp.any(bad)):
                first = int(self.xp.argmax(bad.astype(self.xp.int8)))
                raise SingularSystemError(f"(I - A) is singular: LU pivot {first} is {float(diag[first])!r}")
        return _LapackLU(self._linalg, (lu, piv), n, of_transpose)


def _linalg_warning():
    from scipy.linalg import LinAlgWarning

    return LinAlgWarning


#: SciPy's bundled OpenBLAS (0.3.30, 32-bit integers) crashes with a segmentation fault in its
#: multi-threaded LU (getrf) from n = 22,000 on (n = 21,000 works; measured on 2 cores). Larger
#: matrices are factored on one BLAS thread: about twice the time on 2 cores, but no crash.
GETRF_ONE_THREAD_ABOVE = 20_000


class NumpyBackend(_LapackBackend):
    """The CPU: NumPy arrays, SciPy's LAPACK LU."""

    name = "numpy"

    def eye_minus_cells(self, shape, cells, values, y_sums, out=None):
        # x from the cells (segment sums), then I - A a block of rows at a time, each block
        # zeroed, filled, scaled and given its diagonal while it is in cache: one pass over
        # the n x n memory instead of five (zero, scatter, row sums, scale, I -), 0.05 s less
        # a sample at n = 4,940
        n = shape[0]
        starts = np.searchsorted(cells, np.arange(n + 1) * shape[1])  # row i: cells[starts[i]:starts[i + 1]]
        x = np.array(y_sums, dtype=values.dtype)
        full = starts[:-1] < starts[1:]
        if values.size:
            x[full] += np.add.reduceat(values, starts[:-1][full])
        minus_r = -calc_A(np.ones((1, n), dtype=x.dtype), x)
        flat = np.empty(n * shape[1], dtype=values.dtype) if out is None else out.reshape(-1)
        step = max(1, _ASSEMBLY_BLOCK // shape[1])

        def rows(first: int, last: int) -> None:
            for i in range(first, last, step):
                j = min(i + step, last)
                block = flat[i * shape[1] : j * shape[1]]
                block.fill(0)
                lo, hi = starts[i], starts[j]
                block[cells[lo:hi] - i * shape[1]] = values[lo:hi]
                block.reshape(j - i, shape[1])[...] *= minus_r
                block[i :: shape[1] + 1][: j - i] += 1

        # the memory-bound passes in one thread per core, each on its own rows
        parts = min(self.draw_threads, -(-n // step))
        bounds = [n * k // parts for k in range(parts + 1)]
        if parts <= 1:
            rows(0, n)
        else:
            with ThreadPoolExecutor(parts) as pool:
                list(pool.map(rows, bounds[:-1], bounds[1:]))
        return flat.reshape(shape), x

    def lu_factor(self, M, *, overwrite: bool = False, check: bool = True, precision: str = "double") -> Factorization:
        if precision != "double":  # its float32 LU comes back here
            return self._mixed_lu(M, check)
        if M.shape[0] <= GETRF_ONE_THREAD_ABOVE:
            return super().lu_factor(M, overwrite=overwrite, check=check)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return super().lu_factor(M, overwrite=overwrite, check=check)

    def blas_threads(self, limit: int):
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=limit, user_api="blas")

    def __init__(self, dtype: str = "float64"):
        import array_api_compat.numpy as xp
        import scipy.linalg

        self.xp = xp
        self._linalg = scipy.linalg
        super().__init__(dtype)

    def asarray(self, a):
        return np.ascontiguousarray(a, dtype=self.dtype_name)

    def standard_normal(self, rng, shape):
        return normal_rows(rng, shape)

    def describe(self) -> str:
        import os

        return f"CPU ({os.cpu_count()} cores), numpy {np.__version__}"


class CupyBackend(_LapackBackend):
    """An NVIDIA GPU: CuPy arrays, cuSOLVER LU through cupyx.scipy.linalg.

    cupyx emits no warning for a singular matrix (it returns NaN/inf): the pivot
    check of ``lu_factor`` and the finiteness checks after each solve catch it.
    """

    name = "cupy"
    copies_on_transfer = True

    def __init__(self, dtype: str = "float64"):
        try:
            import array_api_compat.cupy as xp
            import cupy
            import cupyx.scipy.linalg
        except ImportError as exc:
            raise BackendError(
                f"backend 'cupy' needs CuPy, which is not importable ({exc}); "
                "install it with `pip install 'mrioflow[gpu]'` or use backend='numpy'"
            ) from None
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDA driver missing or broken
            raise BackendError(f"backend 'cupy': no usable CUDA device ({exc})") from None
        if count < 1:
            raise BackendError("backend 'cupy': CuPy is installed but no CUDA device is visible")
        self._cupy = cupy
        self.xp = xp
        self._linalg = cupyx.scipy.linalg
        super().__init__(dtype)

    def asarray(self, a):
        return self._cupy.asarray(np.ascontiguousarray(a, dtype=self.dtype_name))

    def to_host(self, a) -> np.ndarray:
        return self._cupy.asnumpy(a)

    def synchronize(self) -> None:
        self._cupy.cuda.Device().synchronize()

    def free_memory(self) -> None:
        self._cupy.get_default_memory_pool().free_all_blocks()
        self._cupy.get_default_pinned_memory_pool().free_all_blocks()

    def rng(self, seed):
        return self._cupy.random.default_rng(seed)

    def split_rows(self, rng, rows: int, m: int, parts: int) -> list | None:
        return None  # one block of rows (see draw_block_rows)

    def memory_available(self) -> int:
        """Free GPU memory plus what CuPy's pool holds unused."""
        free, _total = self._cupy.cuda.runtime.memGetInfo()
        return int(free) + int(self._cupy.get_default_memory_pool().free_bytes())

    @property
    def normal_dtype(self):
        return self.dtype

    def standard_normal(self, rng, shape):
        return rng.standard_normal(shape, dtype=self.dtype)

    @property
    def draw_threads(self) -> int:
        return 1  # one device: its kernels queue on one stream

    def draw_block_rows(self, shape) -> int:
        # CuPy's generator gives other numbers for other block sizes: one block,
        # which the device has the memory for.
        return shape[0]

    def describe(self) -> str:
        props = self._cupy.cuda.runtime.getDeviceProperties(self._cupy.cuda.Device().id)
        name = props["name"]
        name = name.decode() if isinstance(name, bytes) else name
        return f"GPU {name}, cupy {self._cupy.__version__}"

    @property
    def rng_family(self) -> str:
        return "cupy"


class ArrayApiStrictBackend(Backend):
    """array-api-strict: the portability gate standing in for CuPy in CI.

    Runs everything through the standard alone, on a chosen array-api-strict
    device ("CPU_DEVICE", "device1", ...), so that code leaning on NumPy
    behaviour or mixing devices fails here before it fails on a GPU.
    """

    name = "array_api_strict"
    copies_on_transfer = True  # like a GPU: asarray copies, so in-place paths are exercised

    def __init__(self, dtype: str = "float64", device: str = "CPU_DEVICE"):
        try:
            import array_api_strict as xp
        except ImportError as exc:
            raise BackendError(f"backend 'array_api_strict' is not importable ({exc})") from None
        self.xp = xp
        self._device_name = str(device)
        self.device = xp.Device(self._device_name)
        self._host = xp.Device("CPU_DEVICE")
        super().__init__(dtype)

    def asarray(self, a):
        host = np.array(a, dtype=self.dtype_name, copy=True)
        return self.xp.asarray(host, device=self.device)

    def to_host(self, a) -> np.ndarray:
        return np.asarray(a.to_device(self._host))

    def lu_factor(self, M, *, overwrite: bool = False, check: bool = True, precision: str = "double") -> Factorization:
        if precision != "double":
            return self._mixed_lu(M, check)
        return _DenseSolve(self.xp, M)

    def describe(self) -> str:
        return f"array-api-strict {self.device}"

    @property
    def device_name(self) -> str:
        return self._device_name


def cupy_usable() -> tuple[bool, str]:
    """Whether CuPy can run on a GPU here, and why not if it cannot."""
    if importlib.util.find_spec("cupy") is None:
        return False, "CuPy is not installed"
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return False, "no CUDA device is visible"
        float((cupy.arange(3.0) ** 2).sum())
    except Exception as exc:  # broken driver, no libcuda, ...
        return False, f"CuPy cannot use a GPU ({type(exc).__name__}: {exc})"
    return True, "CuPy found a usable GPU"


def get_backend(backend: str | Backend = "auto", dtype: str | None = None) -> Backend:
    """Resolve a backend name ("numpy", "cupy", "array_api_strict", "auto") to a Backend.

    "auto" picks CuPy only when a GPU is usable; ``backend.reason`` says why it
    picked what it picked. ``dtype`` defaults to "float64" for a name and to the
    backend's own for a Backend object.

    Raises
    ------
    OptionError
        An unknown name, or a ``dtype`` that disagrees with the Backend object's.
    """
    if isinstance(backend, Backend):
        if dtype is not None and dtype != backend.dtype_name:
            raise OptionError(
                f"dtype {dtype!r} disagrees with the backend's dtype {backend.dtype_name!r}; "
                "give the dtype to the backend (or leave dtype out)"
            )
        return backend
    dtype = "float64" if dtype is None else dtype
    if backend not in BACKEND_NAMES:
        raise OptionError(f"backend must be one of {BACKEND_NAMES} or a Backend, got {backend!r}")
    if backend == "auto":
        ok, why = cupy_usable()
        chosen = CupyBackend(dtype) if ok else NumpyBackend(dtype)
        chosen.reason = f"auto: {why}; using {chosen.name}"
        return chosen
    cls = {"numpy": NumpyBackend, "cupy": CupyBackend, "array_api_strict": ArrayApiStrictBackend}
    chosen = cls[backend](dtype)
    chosen.reason = f"requested {backend}"
    return chosen


def _from_spec(spec: dict, reason: str = "") -> Backend:
    """Rebuild a backend from :meth:`Backend.spec` (how backends cross to Dask workers)."""
    if spec["name"] == "array_api_strict":
        chosen: Backend = ArrayApiStrictBackend(spec["dtype"], device=spec["device"])
    else:
        chosen = get_backend(spec["name"], spec["dtype"])
    chosen.reason = reason
    return chosen
