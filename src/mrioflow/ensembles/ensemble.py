"""Monte Carlo uncertainty ensembles (docs/method.md section 10).

Lognormal perturbations with median = nominal value (sign kept) of

- ``"intensities"``: the stressor intensities S (per stressor and sector),
- ``"direct"``: direct final-demand stressors F_Y,
- ``"final_demand"``: final demand Y (A and S held fixed: a demand-side shock),
- ``"Z"``: the transactions (x, A and S recomputed per sample so the table stays
  balanced: x = Z 1 + Y 1).

A relative standard deviation (rsd) is a number (uniform), one value per sector
(applied in every country: a vector in the table's sector order, or a pandas
Series indexed by sector name), or an array of the perturbed quantity's
own shape (EORA publishes standard-deviation tables of that shape). For a
lognormal with median m and relative standard deviation r, sigma = sqrt(log(1 + r^2)).

How it is computed: without ``"Z"`` the LU of (I - A) is factored once and each
batch of samples is a batched product: on X = L Yr (intensities), or on
W = split(S) L, the intensities spread by producing country and multiplied by L
once (final demand with fixed intensities: E = W Yr, no solve per sample). Final
demand and intensities together need X per sample: one multi-right-hand-side solve
per batch. With ``"Z"`` every sample needs a fresh LU. Every sample draws from a
random stream of its own, seeded by (seed, sample index): a sample does not depend
on the batch size, the scheduler, the number of workers or where a run resumed.
Its factors are drawn and applied a block of rows at a time (``Backend.standard_normal``:
float32 normals on the CPU, and exp(sigma z) in float32; the products with the nominal
values and everything after them in the working dtype), so that no n x m array of draws
is made; the samples of a batch are drawn in threads (a Z sample's rows in runs that jump
ahead in its stream: the same numbers).
Batches run here, in local threads or processes, or on a Dask cluster; with
``out_dir`` each finished batch is written to disk at once and a rerun resumes
where an interrupted one stopped.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import kernels as K
from ..engine import Backend, Engine, LeontiefSystem, Results, get_backend
from ..errors import LabelError, OptionError, ShapeError
from ..indices import IndexSpec
from ..mrio import MRIO
from .store import ResultStore, array_fingerprint, table_fingerprint
from .tasks import check_scheduler, run_tasks

#: Perturbation targets, in the order every sample draws its random numbers.
TARGETS = ("intensities", "direct", "final_demand", "Z")
ACCOUNTS = ("pba", "cba", "imports", "exports", "net")
_FORMAT = 4  # 3: Box-Muller float32 draws by row blocks; 4: normals from PCG64 words, exp(sigma z) in float32
DISK_LIMIT = 50e9  # bytes an ensemble may write without yes=True
_CELL_ROW = 4096  # Z's non-zero cells (C order) are drawn as rows of this many
_THREAD_DRAWS = 1 << 17  # a sample drawing this many normals is worth a thread
_W_SHARE = 0.5  # final-demand ensembles use E = W Yr when W (k R x n) has at most this share of n rows


def lognormal_sigma(rsd):
    """sigma of a lognormal whose relative standard deviation is ``rsd``."""
    rsd = np.asarray(rsd, dtype=np.float64)
    if np.any(rsd < 0) or not np.all(np.isfinite(rsd)):
        raise OptionError("relative standard deviations must be finite and >= 0")
    return np.sqrt(np.log1p(rsd**2))


def _expand_rsd(target: str, rsd, mrio: MRIO) -> np.ndarray:
    """Turn a scalar / per-sector / full-shape rsd into sigma of the target's shape."""
    shapes = {
        "intensities": mrio.F.shape,
        "direct": mrio.F_Y.shape,
        "final_demand": mrio.Y.shape,
        "Z": mrio.Z.shape,
    }
    shape = shapes[target]
    if isinstance(rsd, pd.Series):
        rsd = _by_sector(target, rsd, mrio)
    a = np.asarray(rsd, dtype=np.float64)
    # sigma is computed on the values given and broadcast (read-only) to the target's shape:
    # a number for Z would otherwise mean n x n logarithms (0.5 s at Eora26 size)
    if a.ndim == 0 or a.shape == shape:
        return np.broadcast_to(lognormal_sigma(a), shape)
    if a.shape == (mrio.n_sectors,) and target in ("intensities", "Z", "final_demand"):
        per_sector = np.tile(lognormal_sigma(a), mrio.n_countries)  # length n
        if target == "intensities":
            return np.broadcast_to(per_sector[None, :], shape)
        return np.broadcast_to(per_sector[:, None], shape)  # rows of Z and Y are selling sectors
    raise ShapeError(
        f"rsd for {target!r} must be a number, one value per sector ({mrio.n_sectors},) "
        f"or an array of shape {shape}; got shape {a.shape}"
    )


def _by_sector(target: str, rsd: pd.Series, mrio: MRIO) -> np.ndarray:
    """A Series indexed by sector name, in any order, as one value per sector in the table's order."""
    what = f"rsd for {target!r}" + (f" ({rsd.attrs['source']})" if rsd.attrs.get("source") else "")
    labels = [str(k) for k in rsd.index]
    known, given = set(mrio.sectors), set(labels)
    unknown = sorted(given - known)
    missing = [s for s in mrio.sectors if s not in given]
    repeated = sorted({k for k in labels if labels.count(k) > 1})
    if unknown or missing or repeated:
        parts = [
            f"{kind}: {', '.join(map(repr, names[:5]))}" + (" ..." if len(names) > 5 else "")
            for kind, names in (("unknown", unknown), ("missing", missing), ("repeated", repeated))
            if names
        ]
        raise LabelError(f"{what} must give each of the {len(known)} sectors once ({'; '.join(parts)})")
    values = pd.to_numeric(pd.Series(rsd.to_numpy(), index=labels), errors="coerce")
    if values.isna().any():
        bad = values.index[values.isna()][0]
        raise OptionError(f"{what}: sector {bad!r} has value {rsd.iloc[labels.index(bad)]!r}, not a number")
    return values.reindex(mrio.sectors).to_numpy(np.float64)


def _index_spec(indices: Mapping, mrio: MRIO) -> IndexSpec:
    """The ``indices=`` option resolved against the table, as ``mf.indices`` resolves it."""
    return IndexSpec.resolve(indices, mrio.countries, mrio.stressor_position)


def _by_W(mrio: MRIO, targets) -> bool:
    """Final demand perturbed, intensities fixed, W (k R x n) small enough: E = W Yr."""
    k, n = mrio.F.shape
    return "intensities" not in targets and k * mrio.n_countries <= _W_SHARE * n


def draw_threads(backend: Backend, mrio: MRIO, targets) -> int:
    """Threads drawing the samples of a batch here (when no workers run the batches): one per
    core when a sample draws at least _THREAD_DRAWS numbers, else one (threads would cost more)."""
    return backend.draw_threads if _draws_per_sample(mrio, targets) >= _THREAD_DRAWS else 1


def _draws_per_sample(mrio: MRIO, targets) -> int:
    """Normal numbers one sample draws (Z: every cell, an upper bound; only non-zero cells are drawn)."""
    sizes = {"intensities": mrio.F.size, "direct": mrio.F_Y.size, "final_demand": mrio.Y.size, "Z": mrio.Z.size}
    return sum(sizes[t] for t in targets)


def _compact(sigma: np.ndarray) -> np.ndarray:
    """The smallest array that broadcasts to ``sigma`` (rows, m) along an axis it does not
    vary on: (rows, 1) for one value per row, (1, m) per column, (1, 1) for a number. So
    that a number or a per-sector rsd is not made into a full n x m array on the device."""
    rows = slice(None) if sigma.strides[0] else slice(0, 1)
    cols = slice(None) if sigma.strides[1] else slice(0, 1)
    return sigma[rows, cols]


def _on_device(b: Backend, sigma: np.ndarray):
    """sigma on the device in the dtype the normals are drawn in (exp(sigma z) is computed in it)."""
    return b.xp.astype(b.asarray(sigma), b.normal_dtype)


def _seed_for(seed: int, sample: int) -> int:
    """A 63-bit seed for sample ``sample``: independent streams, valid for NumPy and CuPy generators."""
    return int(np.random.SeedSequence([seed, sample]).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


class _BatchRunner:
    """Computes one batch of samples; picklable, so it can be sent to workers (once).

    The table is prepared on the backend (``Engine.prepare``) lazily, once per process.
    """

    def __init__(self, mrio, sigmas, samples, batch_size, seed, backend: Backend, index_spec=None, threads: int = 1):
        self.mrio = mrio
        self.threads = threads  # samples of a batch drawn at once (their streams are their own)
        self.index_spec = index_spec
        self.sigmas = sigmas
        self.samples = samples
        self.batch_size = batch_size
        self.seed = seed
        self.backend = backend
        self._state = None
        self._lock = threading.Lock()  # threads of one process share one prepared table
        self._local = threading.local()  # per thread: the n x n array a Z sample is built in

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_state"] = None  # device arrays and LU stay where they were made
        del state["_lock"], state["_local"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state, _lock=threading.Lock(), _local=threading.local())

    def release(self) -> None:
        """Free the prepared table and this thread's n x n work array (when the ensemble is done)."""
        self._state = None
        self._local = threading.local()

    def _prepare(self):
        with self._lock:
            return self._prepare_once()

    def _prepare_once(self):
        if self._state is None:
            b = self.backend
            table = Engine(b).prepare(self.mrio)
            st = {"table": table, "sig": {k: _on_device(b, _compact(v)) for k, v in self.sigmas.items() if k != "Z"}}
            if "Z" in self.sigmas:  # only Z's non-zero cells, with their sigmas, as rows of _CELL_ROW
                mask = self.mrio.Z != 0
                cells = np.zeros((2, -(-int(mask.sum()) // _CELL_ROW) * _CELL_ROW))
                values, sigma = self.mrio.Z[mask], np.broadcast_to(self.sigmas["Z"], mask.shape)[mask]
                cells[0, : values.size], cells[1, : values.size] = values, sigma
                st["Z"] = b.asarray(np.reshape(cells[0], (-1, _CELL_ROW)))
                st["sig"]["Z"] = _on_device(b, np.reshape(cells[1], (-1, _CELL_ROW)))
                st["Z_cells"] = (b.cells(mask), values.size)
                st["Z_nonnegative"] = bool(np.all(values >= 0))  # positive factors keep every cell's sign
                st["Y_sums"] = b.xp.sum(table.Y, axis=1)
            else:  # factor (and form X or W) once, here, under the lock
                fixed = "X" if "final_demand" not in self.sigmas else "W" if _by_W(self.mrio, self.sigmas) else "system"
                getattr(table, fixed)
            if self.index_spec is not None:
                st["P"] = b.asarray(self.index_spec.P)
            self._state = st
        return self._state

    def batch_range(self, i: int) -> tuple[int, int]:
        start = i * self.batch_size
        return start, min(start + self.batch_size, self.samples)

    def _perturbed(self, rng, value, sigma, reduce=None, parts: int = 1):
        """value * exp(sigma eps), eps standard normal from ``rng``, a block of rows at a time;
        ``reduce`` maps each perturbed block (e.g. sums it by country) before it is kept.
        ``parts`` > 1: runs of rows in that many threads, each from its point of the stream."""
        b = self.backend
        rows, m = value.shape
        runs = b.split_rows(rng, rows, m, parts) if parts > 1 and rows * m >= _THREAD_DRAWS else None
        if runs:

            def run(part) -> Any:
                first, last, generator = part
                s = sigma[first:last, :] if sigma.shape[0] > 1 else sigma
                return self._perturbed(generator, value[first:last, :], s, reduce)

            with ThreadPoolExecutor(len(runs)) as pool:
                return b.xp.concat(list(pool.map(run, runs)), axis=0)
        step = b.draw_block_rows(value.shape)
        out = value if rows == 0 else None
        for i in range(0, rows, step):
            j = min(i + step, rows)
            s = sigma[i:j, :] if sigma.shape[0] > 1 else sigma
            block = value[i:j, :] * b.xp.exp(s * b.standard_normal(rng, (j - i, m)))
            if reduce is not None:
                block = reduce(block)
            if j == rows and out is None:
                return block
            if out is None:
                out = b.xp.empty((rows, block.shape[1]), dtype=block.dtype, device=b.device)
            out[i:j, :] = block
        return out

    def _draw(self, st, sample: int, values: dict, reduce: dict, parts: int = 1) -> dict:
        """Sample ``sample``'s perturbed quantities, values[t] * exp(sigma_t eps) for every
        perturbed target t, from the sample's own stream, in the order of TARGETS (in
        ``parts`` threads: the same numbers)."""
        rng = self.backend.rng(_seed_for(self.seed, sample))
        sig = st["sig"]
        return {t: self._perturbed(rng, values[t], sig[t], reduce.get(t), parts) for t in TARGETS if t in sig}

    def _sample(self, st, j: int) -> dict:
        """The perturbed quantities of sample ``j`` (only those that vary): S, FYr, Yr."""
        table = st["table"]
        by_country = lambda a: K.calc_by_country(a, table.R)  # noqa: E731
        drawn = self._draw(
            st,
            j,
            {"intensities": table.S, "direct": table.F_Y, "final_demand": table.Y},
            {"direct": by_country, "final_demand": by_country},
        )
        names = {"intensities": "S", "direct": "FYr", "final_demand": "Yr"}
        return {names[t]: a for t, a in drawn.items()}

    def _map_samples(self, func, start: int, stop: int) -> list:
        """``func(j)`` for every sample of the batch, in threads when there are several
        (BLAS then on one thread each: its idle workers would spin beside the drawing threads)."""
        threads = min(self.threads, stop - start)
        if threads <= 1:
            return [func(j) for j in range(start, stop)]
        with self.backend.blas_threads(1), ThreadPoolExecutor(threads) as pool:
            return list(pool.map(func, range(start, stop)))

    def __call__(self, i: int) -> dict:
        t0 = time.perf_counter()
        st = self._prepare()
        t1 = time.perf_counter()
        b: Backend = self.backend
        table = st["table"]
        xp, R = b.xp, table.R
        start, stop = self.batch_range(i)
        nb = stop - start
        sig = st["sig"]
        if "Z" in sig:
            E, FYr = self._fresh_lu_samples(st, start, stop)
        else:
            k = table.S.shape[-2]
            by_W = "final_demand" in sig and _by_W(self.mrio, sig)

            def sample(j: int) -> dict:
                p = self._sample(st, j)
                if by_W:  # E = W Yr in the sample's thread: only E is kept, not Yr
                    # as (Yr^T W^T)^T: 17 % faster in OpenBLAS for these shapes (kR x n x R)
                    Et = xp.matmul(xp.matrix_transpose(p.pop("Yr")), xp.matrix_transpose(table.W))
                    p["E"] = xp.reshape(xp.matrix_transpose(Et), (k, R, R))
                return p

            # one sample at a time (in threads): only what varies is stacked (E, S or Yr, not
            # the n x m draws of Y)
            per_sample = self._map_samples(sample, start, stop)
            varied = {name: xp.stack([p[name] for p in per_sample]) for name in per_sample[0]}
            del per_sample
            FYr = varied.get("FYr", table.FYr)
            S = varied.get("S", table.S)
            if by_W:
                E = varied["E"]
            elif "final_demand" in sig:
                Yr = varied["Yr"]  # (nb, n, R)
                n = Yr.shape[-2]
                stacked = xp.reshape(xp.permute_dims(Yr, (1, 0, 2)), (n, nb * R))
                X = table.system.output(stacked)
                E = table.flows(S, xp.permute_dims(xp.reshape(X, (n, nb, R)), (1, 0, 2)))
            else:
                E = table.flows(S, table.X)
            if E.ndim == 3:  # nothing perturbed that has a sample axis
                E = xp.broadcast_to(E[None, ...], (nb, k, R, R))
        acc = K.calc_accounts(E, FYr)
        mean = xp.mean(E, axis=0)
        m2 = xp.sum((E - mean) ** 2, axis=0)
        out = {name: b.to_host(a) for name, a in acc.items()}
        for name in ACCOUNTS:
            if out[name].ndim == 2:  # unbatched F_Y and E broadcast: give every account a sample axis
                out[name] = np.broadcast_to(out[name], (nb, *out[name].shape)).copy()
        if self.index_spec is not None:
            gmi, bmi = self.index_spec.compute(E, b, st["P"])
            out["gmi"] = b.to_host(gmi)
            out["bmi_region"] = b.to_host(bmi)
        out["E_mean"] = b.to_host(mean)
        out["E_m2"] = b.to_host(m2)
        out["start"] = np.array(start)
        out["seconds"] = np.array([t1 - t0, time.perf_counter() - t1])  # preparing, the batch
        return out

    def _fresh_lu_samples(self, st, start, stop):
        """Z perturbed: x, A, S and the LU are recomputed for every sample (intensities
        are perturbed through F: S = (F * N) / x). Z's factors are drawn for its non-zero
        cells only, in C order."""
        b: Backend = self.backend
        table = st["table"]
        xp, R = b.xp, table.R
        E, FYr = [], []
        for j in range(start, stop):
            drawn = self._draw(
                st,
                j,
                {"intensities": table.F, "direct": table.F_Y, "final_demand": table.Y, "Z": st["Z"]},
                {"direct": lambda a: K.calc_by_country(a, R)},
                parts=self.threads,  # one sample at a time: its draws in threads
            )
            cells, count = st["Z_cells"]
            values = xp.reshape(drawn.pop("Z"), (-1,))[:count]
            Y = drawn.get("final_demand", table.Y)
            Yr = K.calc_by_country(Y, R) if "final_demand" in drawn else table.Yr
            y_sums = xp.sum(Y, axis=1) if "final_demand" in drawn else st["Y_sums"]
            buffer = getattr(self._local, "Z", None)  # this thread's previous sample's LU, no longer used
            # the nominal table's checks hold for x and A; the pivots, the solve and
            # productivity (in the same solve as X) are checked for every sample
            if st["Z_nonnegative"]:
                IminusA, x = b.eye_minus_cells(self.mrio.Z.shape, cells, values, y_sums, buffer)
                self._local.Z = IminusA
                system = LeontiefSystem.from_eye_minus(b, IminusA, x, nonnegative=True, check_productive=False)
                del IminusA
            else:  # A's spectral radius is checked
                Z = b.scatter(self.mrio.Z.shape, cells, values, buffer)
                self._local.Z = Z
                x = xp.sum(Z, axis=1) + y_sums
                system = LeontiefSystem.from_arrays(b, Z, x, consume_Z=True, nonnegative=False, check_productive=False)
                del Z
            S = K.calc_S(drawn.get("intensities", table.F), x)
            E.append(K.calc_E(S, system.output(Yr, check_productive=True), R))
            FYr.append(drawn.get("direct", table.FYr))
            del system, drawn
        return xp.stack(E), xp.stack(FYr)


@dataclass(eq=False)
class MonteCarloResults:
    """Distributions from ``mf.montecarlo``.

    Attributes
    ----------
    accounts : dict of ndarray (samples, k, R)
        Every sample's pba, cba, imports, exports and net per stressor and country.
    flows_mean, flows_std : ndarray (k, R, R)
        Mean and standard deviation of the embodied flows E over the samples
        (reduced on the device, batch by batch; the samples themselves are not kept).
    nominal : Results
        The unperturbed run, for reference.
    gmi : ndarray (samples, R), optional
        Every sample's GMI of every country (with ``indices=``).
    bmi_region : ndarray (samples, G, G), optional
        Every sample's region x region BMI (with ``indices=``).

    Notes
    -----
    The samples are NumPy arrays summarised with pandas; ``to_xarray()`` labels them on
    request. Holding an ``xarray.Dataset`` instead was written and compared (issue 10):
    same frames from every summary, but the class and the code that builds it grew from
    92 to 124 lines (not counting blanks, comments, docstrings and ``to_xarray``): naming
    every variable's dimensions and coordinates, and keeping ``accounts``, ``flows_mean``,
    ``gmi``... as arrays, cost more than the labels saved in ``bmi_summary`` and ``flows``;
    xarray also takes 0.07 s to import after mrioflow (0.4 s). The shorter one was kept.
    """

    mrio: MRIO
    accounts: dict
    flows_mean: np.ndarray
    flows_std: np.ndarray
    nominal: Results
    perturb: dict
    seed: int
    index_spec: IndexSpec | None = None
    gmi: np.ndarray | None = None
    bmi_region: np.ndarray | None = None
    nominal_gmi: np.ndarray | None = None
    nominal_bmi_region: np.ndarray | None = None

    @property
    def samples(self) -> int:
        return self.accounts["pba"].shape[0]

    def stressor_index(self, stressor: str) -> int:
        """Position of ``stressor`` along the stressor axis of the arrays."""
        return self.mrio.stressor_position(stressor)

    def sample_table(self, stressor: str, account: str = "cba") -> pd.DataFrame:
        """Every sample of one account: sample (rows) x country (columns)."""
        if account not in ACCOUNTS:
            raise OptionError(f"account must be one of {ACCOUNTS}, got {account!r}")
        return pd.DataFrame(
            self.accounts[account][:, self.stressor_index(stressor), :],
            index=pd.RangeIndex(self.samples, name="sample"),
            columns=pd.Index(self.mrio.countries, name="country"),
        )

    def summary(self, stressor: str, account: str = "cba", quantiles=(0.05, 0.5, 0.95)) -> pd.DataFrame:
        """By country: nominal value, mean, standard deviation and quantiles of an account."""
        table = self.sample_table(stressor, account)
        out = pd.DataFrame(
            {
                "nominal": self.nominal.accounts(stressor)[account],
                "mean": table.mean(axis=0),
                "std": table.std(axis=0, ddof=1),
            }
        )
        for q in quantiles:
            out[f"q{round(q * 100):02d}"] = table.quantile(q, axis=0)
        out.attrs.update({"stressor": stressor, "account": account, "samples": self.samples})
        return out

    def probability(self, stressor: str, account: str = "net", *, below: float = 0.0) -> pd.Series:
        """Share of samples in which the account is below a threshold, by country
        (e.g. P(net < 0): the country is a net importer of embodied methane)."""
        table = self.sample_table(stressor, account)
        return (table < below).mean(axis=0).rename(f"P({account} < {below:g})")

    def _need_indices(self):
        if self.gmi is None:
            raise LabelError("indices were not computed: run mf.montecarlo(..., indices={...})")

    def gmi_summary(self, level: str = "country", quantiles=(0.05, 0.5, 0.95)) -> pd.DataFrame:
        """GMI by country (the grouping's) or by region: nominal, mean, std, quantiles and
        P(GMI < 0), the probability that the country (region) is harmed."""
        self._need_indices()
        spec = self.index_spec
        if level == "country":
            pos = [self.mrio.countries.index(c) for c in spec.members]
            samples, nominal = self.gmi[:, pos], self.nominal_gmi[pos]
            index = pd.Index(spec.members, name="country")
        elif level == "region":
            samples, nominal = self.gmi @ spec.P.T, spec.P @ self.nominal_gmi
            index = pd.Index(spec.groups, name="region")
        else:
            raise OptionError(f"level must be 'country' or 'region', got {level!r}")
        table = pd.DataFrame(samples, columns=index)
        out = pd.DataFrame({"nominal": nominal, "mean": table.mean(), "std": table.std(ddof=1)}, index=index)
        for q in quantiles:
            out[f"q{round(q * 100):02d}"] = table.quantile(q)
        out["P(GMI < 0)"] = (table < 0).mean()
        return out

    def bmi_summary(self, stat: str = "mean") -> pd.DataFrame:
        """Region x region BMI over the samples: "mean", "std", "nominal" or a quantile "q05".."q95"."""
        self._need_indices()
        groups = list(self.index_spec.groups)
        if stat == "mean":
            a = self.bmi_region.mean(axis=0)
        elif stat == "std":
            a = self.bmi_region.std(axis=0, ddof=1)
        elif stat == "nominal":
            a = self.nominal_bmi_region
        elif stat.startswith("q") and stat[1:].isdigit():
            a = np.quantile(self.bmi_region, int(stat[1:]) / 100, axis=0)
        else:
            raise OptionError(f"stat must be 'mean', 'std', 'nominal' or a quantile like 'q05', got {stat!r}")
        return pd.DataFrame(a, index=pd.Index(groups, name="region"), columns=pd.Index(groups, name="partner region"))

    def flows(self, stressor: str, stat: str = "mean") -> pd.DataFrame:
        """Mean or standard deviation of the embodied flows, producing x consuming country."""
        arrays = {"mean": self.flows_mean, "std": self.flows_std}
        if stat not in arrays:
            raise OptionError(f"stat must be 'mean' or 'std', got {stat!r}")
        idx = pd.Index(self.mrio.countries, name="producing country")
        cols = pd.Index(self.mrio.countries, name="consuming country")
        return pd.DataFrame(arrays[stat][self.stressor_index(stressor)], index=idx, columns=cols)

    def to_xarray(self):
        """The kept samples as a labelled ``xarray.Dataset`` (needs xarray: ``pip install xarray``):
        ``accounts`` (sample, account, stressor, country) and, with ``indices=``, ``gmi``
        (sample, country) and ``bmi_region`` (sample, region, partner region)."""
        try:
            import xarray as xr
        except ImportError:
            from ..errors import DependencyError

            raise DependencyError("to_xarray needs the optional package xarray: pip install xarray") from None
        cube = np.stack([self.accounts[a] for a in ACCOUNTS], axis=1)
        data = {"accounts": (("sample", "account", "stressor", "country"), cube)}
        coords = dict(account=list(ACCOUNTS), stressor=list(self.mrio.stressors), country=list(self.mrio.countries))
        if self.gmi is not None:
            data["gmi"] = (("sample", "country"), self.gmi)
            data["bmi_region"] = (("sample", "region", "partner region"), self.bmi_region)
            coords["region"] = coords["partner region"] = list(self.index_spec.groups)
        return xr.Dataset(data, coords)


def _per_sample_bytes(mrio: MRIO, targets, itemsize: int) -> int:
    """Working memory of one sample in a batch (bytes)."""
    k, R, n = mrio.F.shape[0], mrio.n_countries, mrio.n
    per_sample = mrio.F.size + 4 * k * R**2
    if "final_demand" in targets:  # Yr and X stacked (the n x m draws of Y are one sample's at a time)
        per_sample += 2 * n * R
    if "Z" in targets:
        per_sample += 3 * n * n
    return per_sample * itemsize


def _default_batch_size(mrio: MRIO, targets, itemsize: int) -> int:
    if "Z" in targets:
        return 1
    budget = 512 * 2**20  # bytes of working memory per batch
    return int(np.clip(budget // _per_sample_bytes(mrio, targets, itemsize), 1, 256))


def _kept_per_sample(mrio: MRIO, index_spec) -> int:
    """Host bytes kept for every sample: the accounts, and with indices GMI and region BMI."""
    k, R = mrio.F.shape[0], mrio.n_countries
    G = len(index_spec.groups) if index_spec is not None else 0
    return 8 * (len(ACCOUNTS) * k * R + (R + G * G if index_spec is not None else 0))


def estimate(
    mrio: MRIO, targets, samples: int, batch_size: int, itemsize: int, *, workers: int = 1, index_spec=None
) -> dict:
    """Memory and disk a Monte Carlo needs (bytes), and its work, before it starts.

    flops: the factorisations, solves and products (preparing the table in every
    worker, every sample, the nominal run); draws: the normal numbers drawn (with
    "Z" every cell of Z counted, an upper bound: only its non-zero cells are). The
    time is estimated from them only once the first batch has been measured
    (:class:`_Clock`). memory: per worker, the prepared table (LU of n x n, with "Z" a second copy
    and a fresh LU per sample, Y and one sample's draws of it) and one batch of working arrays; here, the kept
    samples of the accounts (and indices). disk (with ``out_dir``): every batch
    file (kept samples plus two k x R x R moment arrays per batch).
    """
    k, R, n = mrio.F.shape[0], mrio.n_countries, mrio.n
    table = itemsize * (n * n * (2 if "Z" in targets else 1) + k * R * n + n * R + 3 * mrio.Y.size + 2 * mrio.F.size)
    batch = batch_size * _per_sample_bytes(mrio, targets, itemsize)
    kept = samples * _kept_per_sample(mrio, index_spec)
    n_batches = -(-samples // batch_size)
    lu, solve_R = 2 * n**3 / 3, 2 * n * n * R
    if "Z" in targets:  # a fresh LU and solve per sample
        prepare, per_sample = 0.0, lu + solve_R + 2 * k * n * R
    elif "final_demand" not in targets:  # X once; E per sample
        prepare, per_sample = lu + solve_R, 2 * k * n * R
    elif _by_W(mrio, targets):  # W once; E = W Yr per sample
        prepare, per_sample = lu + 2 * n * n * k * R, 2 * k * R * n * R
    else:  # X per sample, by a solve
        prepare, per_sample = lu, solve_R + 2 * k * n * R
    nominal = lu + solve_R + 2 * n * n * k
    return {
        "memory": workers * (table + batch) + kept,
        "disk": kept + n_batches * 2 * 8 * k * R * R,
        "kept": kept,
        "flops": prepare * workers + per_sample * samples + nominal,
        "draws": samples * _draws_per_sample(mrio, targets),
    }


def _machine_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system
        return None


def _check_resources(need: dict, out_dir, yes: bool) -> None:
    """Refuse (unless ``yes``) an ensemble that needs more memory than this machine has
    or more than DISK_LIMIT on disk."""
    if yes:
        return
    have = _machine_memory()
    problems = []
    if have is not None and need["memory"] > have:
        problems.append(f"about {need['memory'] / 1e9:.1f} GB of memory (this machine has {have / 1e9:.1f} GB)")
    if out_dir is not None and need["disk"] > DISK_LIMIT:
        problems.append(f"about {need['disk'] / 1e9:.1f} GB of disk in {out_dir} (limit {DISK_LIMIT / 1e9:.0f} GB)")
    if problems:
        raise OptionError(
            f"this Monte Carlo needs {' and '.join(problems)}; use fewer samples or a smaller "
            "batch size, or pass yes=True (--yes) to run it anyway"
        )


def _positive_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise OptionError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def montecarlo(
    mrio: MRIO,
    samples: int = 1000,
    perturb: Mapping | None = None,
    seed: int = 0,
    backend: str | Backend = "auto",
    *,
    dtype: str | None = None,
    stressors=None,
    batch_size: int | None = None,
    scheduler=None,
    out_dir=None,
    progress: bool = True,
    indices: Mapping | None = None,
    workers: int | None = None,
    yes: bool = False,
) -> MonteCarloResults:
    """Propagate uncertainty through the EE-MRIO model by Monte Carlo sampling.

    Parameters
    ----------
    mrio : MRIO
    samples : int
    perturb : mapping {target: rsd}
        Targets among "intensities", "direct", "final_demand", "Z"; rsd a number,
        one value per sector (a vector of length S, or a Series indexed by
        sector name) or an array of the target's shape.
        Default: {"intensities": 0.3}.
    seed : int >= 0
        Sample i draws from its own stream seeded by (seed, i): the same seed gives
        the same samples whatever the batch size, the scheduler, the number of
        workers or the point a run resumed from (on one backend family: NumPy
        and CuPy generators draw different numbers).
    backend : {"auto", "numpy", "cupy", "array_api_strict"} or Backend
        A Backend object reaches the workers as the same kind, dtype and device.
    dtype : {"float64", "float32"}, optional
        Default float64, or the Backend object's own (another is an OptionError).
    stressors : sequence of str, optional
        Restrict to these stressors.
    batch_size : int, optional
        Samples per batch (one task); default from a 512 MiB working budget
        (1 when Z is perturbed: each sample is a fresh LU). It changes no sample.
    scheduler : optional
        None (or "sync"): here, one batch after another, with a progress bar;
        "threads" or "processes": local workers (``workers`` of them; scripts
        need the ``if __name__ == "__main__":`` guard); a Dask scheduler address
        ("tcp://host:port") or a ``distributed.Client``: the table is sent to
        every worker once and each task carries only its batch number.
    out_dir : path, optional
        Write each finished batch there at once (atomically); a rerun with the
        same inputs resumes, skipping finished batches. A folder holding another
        ensemble (other table, perturbation, samples, batch size, seed, dtype,
        indices or random-number family) is refused, naming what differs.
    progress : bool
    indices : mapping, optional
        Also compute every sample's GMI (by country) and region x region BMI,
        on the device, with keys among "stressor" ("CH4"), "value_added" ("VA"),
        "groups" (a grouping as ``mf.indices`` takes it; None: BRI),
        "convention", "norm_set", "norm_sign", "norm_quantiles" (``mf.indices.OPTIONS``; they
        mean what they mean for ``mf.indices.bmi``/``gmi``: docs/method.md sections 4-7). Summaries:
        ``gmi_summary()`` (with P(GMI < 0)) and ``bmi_summary()``.
    workers : int, optional
        Local threads or processes (default: the CPU cores).
    yes : bool
        Run even when the estimate (see :func:`estimate`) exceeds this machine's
        memory or 50 GB of disk.

    Returns
    -------
    MonteCarloResults
        The flows are summarised batch by batch (mean, standard deviation); every
        sample is kept only for the accounts (and GMI / region BMI), which are small.

    Raises
    ------
    OptionError, ShapeError
        Unknown targets, negative rsd, an rsd array of the wrong shape, a bad seed,
        batch size, scheduler or dtype, or an ensemble past the resource limits.
    StoreError
        ``out_dir`` holds something else (see ``out_dir``) or cannot be written.
    """
    perturb = dict(perturb) if perturb is not None else {"intensities": 0.3}
    unknown = [t for t in perturb if t not in TARGETS]
    if unknown:
        raise OptionError(f"unknown perturbation target(s) {unknown}; choose from {TARGETS}")
    samples = _positive_int("samples", samples, 1)
    seed = _positive_int("seed", seed, 0)
    if batch_size is not None:
        batch_size = _positive_int("batch_size", batch_size, 1)
    local_pool = check_scheduler(scheduler) in ("threads", "processes")
    concurrency = (workers or os.cpu_count() or 1) if local_pool else 1  # batches at a time
    if stressors is not None:
        mrio = mrio.select_stressors(stressors)
    sigmas = {t: _expand_rsd(t, rsd, mrio) for t, rsd in perturb.items()}
    index_spec = _index_spec(indices, mrio) if indices is not None else None
    be = get_backend(backend, dtype)
    itemsize = np.dtype(be.dtype_name).itemsize
    if batch_size is None:
        batch_size = _default_batch_size(mrio, sigmas, itemsize)
    n_batches = -(-samples // batch_size)
    need = estimate(
        mrio,
        sigmas,
        samples,
        batch_size,
        itemsize,
        index_spec=index_spec,
        workers=concurrency,
    )
    _check_resources(need, out_dir, yes)
    threads = 1 if check_scheduler(scheduler) is not None else draw_threads(be, mrio, sigmas)
    runner = _BatchRunner(mrio, sigmas, samples, batch_size, seed, be, index_spec, threads)

    acc = _Accumulator(mrio, samples, index_spec)
    clock = _Clock(need, samples, batch_size, concurrency, progress)
    store = None
    todo = list(range(n_batches))
    if out_dir is not None:
        spec = {
            "kind": "Monte Carlo ensemble",
            "format": _FORMAT,
            "table": table_fingerprint(mrio),
            "perturbation": {t: array_fingerprint(v) for t, v in sorted(sigmas.items())},
            "samples": samples,
            "batch size": batch_size,
            "seed": seed,
            "dtype": be.dtype_name,
            "random numbers": be.rng_family,
            "indices": None if index_spec is None else index_spec.describe(),
        }
        store = ResultStore(out_dir, spec, filename=lambda i: f"batch_{i:06d}.npz")
        todo = []
        for i in range(n_batches):  # one stored batch in memory at a time
            stored = store.get(i)
            if stored is None:
                todo.append(i)
            else:
                acc.add(i, stored)

    def finished(i, result):
        clock.finished(result.pop("seconds"), todo)
        if store is not None:
            store.save(i, result)
        acc.add(i, result)

    clock.announce(len(todo), n_batches)
    run_tasks(
        runner,
        todo,
        on_result=finished,
        scheduler=scheduler,
        progress=progress,
        desc="Monte Carlo batches",
        workers=workers,
    )
    runner.release()  # before the nominal run: with "Z", an n x n array

    nominal = Engine(be).run(mrio, sector_flows=False)
    mean, std = acc.moments()
    out = MonteCarloResults(mrio, acc.accounts, mean, std, nominal, dict(perturb), seed, index_spec)
    if index_spec is not None:
        out.gmi, out.bmi_region = acc.gmi, acc.bmi_region
        gmi, bmi = index_spec.compute(be.asarray(nominal.E), be)
        out.nominal_gmi, out.nominal_bmi_region = be.to_host(gmi), be.to_host(bmi)
    return out


class _Clock:
    """Says what a Monte Carlo will take: before it starts, its memory, disk and work
    (:func:`estimate`); when the first batch is done, an estimate of the time left,
    from that batch's own time (one line each on stderr, with the progress bar)."""

    def __init__(self, need: dict, samples: int, batch_size: int, concurrency: int, show: bool):
        self.need, self.samples, self.batch_size = need, samples, batch_size
        self.concurrency, self.show = concurrency, show
        self.done = 0
        self.estimate_s: float | None = None

    def _say(self, line: str) -> None:
        if self.show:
            from tqdm.auto import tqdm

            tqdm.write(line, file=sys.stderr)

    def announce(self, todo: int, n_batches: int) -> None:
        need = self.need
        resumed = f", {n_batches - todo} already done" if todo < n_batches else ""
        self._say(
            f"Monte Carlo: {self.samples} samples in {n_batches} batches of {self.batch_size}{resumed}; "
            f"estimated {need['memory'] / 1e9:.2g} GB of memory, {need['disk'] / 1e9:.2g} GB of disk, "
            f"{need['flops'] / 1e9:.3g} GFLOP and {need['draws'] / 1e6:.3g} M random draws in all; "
            "time estimated after the first batch"
        )

    def finished(self, seconds, todo: list) -> None:
        """One batch came back with its (preparing, batch) seconds; after the first, estimate the rest."""
        self.done += 1
        if self.done > 1:
            return
        prepare, batch = (float(t) for t in seconds)
        left = len(todo) - 1
        # the batches left, `concurrency` at a time, and the nominal run (about one preparation)
        self.estimate_s = batch * -(-left // self.concurrency) + prepare
        self._say(
            f"Monte Carlo: first batch {batch:.3g} s (after {prepare:.3g} s preparing the table); "
            f"estimated time left about {self.estimate_s:.3g} s for {left} batches "
            f"({self.concurrency} at a time; an estimate from the first batch)"
        )


class _Accumulator:
    """Folds finished batches, in any order, into the kept samples and running moments
    of E (Chan et al.'s pairwise update, applied in batch order so that the result does
    not depend on the order batches finish in; early batches wait, at most as many as
    are in flight)."""

    def __init__(self, mrio: MRIO, samples: int, index_spec):
        k, R = mrio.F.shape[0], mrio.n_countries
        self.accounts = {name: np.empty((samples, k, R)) for name in ACCOUNTS}
        self.gmi = self.bmi_region = None
        if index_spec is not None:
            G = len(index_spec.groups)
            self.gmi, self.bmi_region = np.empty((samples, R)), np.empty((samples, G, G))
        self._waiting: dict[int, tuple] = {}
        self._next = 0
        self.count, self.mean, self.m2 = 0, None, None

    def add(self, i: int, part: dict) -> None:
        start = int(part["start"])
        nb = part["pba"].shape[0]
        for name in ACCOUNTS:
            self.accounts[name][start : start + nb] = part[name]
        if self.gmi is not None:
            self.gmi[start : start + nb] = part["gmi"]
            self.bmi_region[start : start + nb] = part["bmi_region"]
        self._waiting[i] = (nb, part["E_mean"], part["E_m2"])
        while self._next in self._waiting:
            self._combine(*self._waiting.pop(self._next))
            self._next += 1

    def _combine(self, nb, mean, m2):
        if self.mean is None:
            self.count, self.mean, self.m2 = nb, mean.astype(np.float64), m2.astype(np.float64)
            return
        delta = mean - self.mean
        total = self.count + nb
        self.mean = self.mean + delta * (nb / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.count * nb / total)
        self.count = total

    def moments(self):
        std = np.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else np.zeros_like(self.mean)
        return self.mean, std
