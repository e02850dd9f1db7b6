"""Monte Carlo uncertainty ensembles (METHOD.md section 10).

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
per batch. With ``"Z"`` every sample needs a fresh LU. Samples are
drawn per batch from a generator seeded by (seed, batch index), so results do not
depend on the order or the place the batches run in. Batches can run on any Dask
scheduler; with ``out_dir`` each finished batch is written to disk at once and a
rerun resumes where an interrupted one stopped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import kernels as K
from ..errors import LabelError, OptionError, ShapeError
from ..mrio import MRIO
from .backend import Backend, get_backend
from .system import LeontiefSystem
from .tasks import ResultStore, run_tasks

TARGETS = ("intensities", "direct", "final_demand", "Z")
ACCOUNTS = ("pba", "cba", "imports", "exports", "net")
_FORMAT = 1
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
    if a.ndim == 0:
        full = np.full(shape, float(a))
    elif a.shape == shape:
        full = a
    elif a.shape == (mrio.n_sectors,) and target in ("intensities", "Z", "final_demand"):
        per_sector = np.tile(a, mrio.n_countries)  # length n
        if target == "intensities":
            full = np.broadcast_to(per_sector[None, :], shape)
        else:  # rows of Z and Y are selling sectors
            full = np.broadcast_to(per_sector[:, None], shape)
    else:
        raise ShapeError(
            f"rsd for {target!r} must be a number, one value per sector ({mrio.n_sectors},) "
            f"or an array of shape {shape}; got shape {a.shape}"
        )
    return lognormal_sigma(full)


def _by_sector(target: str, rsd: pd.Series, mrio: MRIO) -> np.ndarray:
    """A Series indexed by sector name, in any order, as one value per sector in the table's order."""
    what = f"rsd for {target!r}" + (f" ({rsd.attrs['source']})" if rsd.attrs.get("source") else "")
    labels = [str(k) for k in rsd.index]
    known, given = set(mrio.sectors), set(labels)
    unknown = sorted(given - known)
    missing = [s for s in mrio.sectors if s not in given]
    repeated = sorted({k for k in labels if labels.count(k) > 1})
    if unknown or missing or repeated:
        parts = [f"{kind}: {', '.join(map(repr, names[:5]))}" + (" ..." if len(names) > 5 else "")
                 for kind, names in (("unknown", unknown), ("missing", missing), ("repeated", repeated)) if names]
        raise LabelError(f"{what} must give each of the {len(known)} sectors once ({'; '.join(parts)})")
    values = pd.to_numeric(pd.Series(rsd.to_numpy(), index=labels), errors="coerce")
    if values.isna().any():
        bad = values.index[values.isna()][0]
        raise OptionError(f"{what}: sector {bad!r} has value {rsd.iloc[labels.index(bad)]!r}, not a number")
    return values.reindex(mrio.sectors).to_numpy(np.float64)


INDEX_OPTIONS = ("stressor", "value_added", "groups", "convention", "norm_set", "norm_sign")


@dataclass(frozen=True)
class _IndexSpec:
    """Resolved ``indices=`` option: which E rows, the grouping as arrays, the index options."""

    k: int
    kv: int
    groups: tuple
    members: tuple  # the grouping's countries, in the table's order
    P: np.ndarray  # (G, R) membership
    scope: np.ndarray  # (R,) bool: members of the grouping
    convention: str
    norm_set: str
    norm_sign: str

    def compute(self, E, b: Backend, P=None):
        """Country GMI (..., R) and region BMI (..., G, G) from embodied flows E (..., k, R, R)."""
        from ..indices import norm_mask_on
        from ..kernels import indices as KI

        P = b.asarray(self.P) if P is None else P
        Es, V = E[..., self.k, :, :], E[..., self.kv, :, :]
        mask = norm_mask_on(b, self.scope, self.norm_set)
        gmi = KI.calc_gmi(Es, V, norm_mask=mask, norm_sign=self.norm_sign)
        bmi = KI.calc_bmi(Es, V, convention=self.convention, norm_mask=mask, norm_sign=self.norm_sign)
        return gmi, KI.calc_group_matrix(bmi, P)


def _index_spec(indices: Mapping, mrio: MRIO) -> _IndexSpec:
    from ..indices import resolve_grouping

    unknown = [key for key in indices if key not in INDEX_OPTIONS]
    if unknown:
        raise OptionError(f"unknown indices option(s) {unknown}; choose from {INDEX_OPTIONS}")
    opts = {"stressor": "CH4", "value_added": "VA", "groups": None, "convention": "printed",
            "norm_set": "all", "norm_sign": "signed", **indices}
    regions, P, scope = resolve_grouping(mrio.countries, opts["groups"], norm_set=opts["norm_set"],
                                         norm_sign=opts["norm_sign"], convention=opts["convention"])
    members = set(regions.countries)
    return _IndexSpec(
        k=mrio.stressor_position(opts["stressor"]), kv=mrio.stressor_position(opts["value_added"]),
        groups=tuple(regions.groups), members=tuple(c for c in mrio.countries if c in members),
        P=P, scope=scope, convention=opts["convention"], norm_set=opts["norm_set"], norm_sign=opts["norm_sign"],
    )


def _seed_for(seed: int, batch: int) -> int:
    """A 63-bit seed for batch ``batch``: independent streams, valid for NumPy and CuPy generators."""
    return int(np.random.SeedSequence([seed, batch]).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


class _BatchRunner:
    """Computes one batch of samples; picklable, so Dask can ship it to workers.

    The factorisation (when Z is not perturbed) is built lazily once per process.
    """

    def __init__(self, mrio, sigmas, samples, batch_size, seed, backend, dtype, index_spec=None):
        self.mrio = mrio
        self.index_spec = index_spec
        self.sigmas = sigmas
        self.samples = samples
        self.batch_size = batch_size
        self.seed = seed
        self.backend_spec = backend if isinstance(backend, str) else backend.name
        self.dtype = dtype
        self._state = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_state"] = None  # device arrays and LU stay where they were made
        return state

    def _prepare(self):
        if self._state is None:
            b = get_backend(self.backend_spec, self.dtype)
            m = self.mrio
            R = m.n_countries
            st = {"b": b, "R": R}
            st["sig"] = {k: b.asarray(v) for k, v in self.sigmas.items()}
            st["F"] = b.asarray(m.F)
            st["F_Y"] = b.asarray(m.F_Y)
            st["Y"] = b.asarray(m.Y)
            if "Z" in self.sigmas:
                st["Z"] = b.asarray(m.Z)
            else:
                Z = b.asarray(m.Z)
                x = b.asarray(m.x)
                st["system"] = LeontiefSystem.from_arrays(b, Z, x, consume_Z=b.copies_on_transfer)
                st["S"] = K.calc_S(st["F"], x)
                k, n = m.F.shape
                if "final_demand" not in self.sigmas:  # X = L Yr is the same for every sample
                    st["X"] = st["system"].output(K.calc_by_country(st["Y"], R))
                elif "intensities" not in self.sigmas and k * R <= _W_SHARE * n:
                    # E = W Yr with W = split(S) L: one product per sample instead of a solve
                    B = b.xp.reshape(K.split_by_country(st["S"], R), (k * R, n))
                    st["W"] = st["system"].multipliers(B)
            self._state = st
        return self._state

    def batch_range(self, i: int) -> tuple[int, int]:
        start = i * self.batch_size
        return start, min(start + self.batch_size, self.samples)

    def __call__(self, i: int) -> dict:
        st = self._prepare()
        b: Backend = st["b"]
        xp, R = b.xp, st["R"]
        start, stop = self.batch_range(i)
        nb = stop - start
        rng = b.rng(_seed_for(self.seed, i))
        sig = st["sig"]

        def noise(name, shape):
            return xp.exp(sig[name] * b.standard_normal(rng, shape))

        F, F_Y, Y = st["F"], st["F_Y"], st["Y"]
        k = F.shape[0]
        if "direct" in sig:
            F_Y = F_Y * noise("direct", (nb, *F_Y.shape))
        FYr = K.calc_by_country(F_Y, R)
        if "Z" in sig:
            E = self._fresh_lu_samples(st, rng, nb, noise)
        else:
            S = st["S"]
            if "intensities" in sig:
                S = S * noise("intensities", (nb, *S.shape))
            if "final_demand" in sig:
                Yr = K.calc_by_country(Y * noise("final_demand", (nb, *Y.shape)), R)  # (nb, n, R)
                n = Yr.shape[-2]
                if "W" in st:
                    E = xp.reshape(xp.matmul(st["W"], Yr), (nb, k, R, R))
                else:
                    stacked = xp.reshape(xp.permute_dims(Yr, (1, 0, 2)), (n, nb * R))
                    X = st["system"].output(stacked)
                    E = K.calc_E(S, xp.permute_dims(xp.reshape(X, (n, nb, R)), (1, 0, 2)), R)
            else:
                E = K.calc_E(S, st["X"], R)
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
            if "P" not in st:
                st["P"] = b.asarray(self.index_spec.P)
            gmi, bmi = self.index_spec.compute(E, b, st["P"])
            out["gmi"] = b.to_host(gmi)
            out["bmi_region"] = b.to_host(bmi)
        out["E_mean"] = b.to_host(mean)
        out["E_m2"] = b.to_host(m2)
        out["start"] = np.array(start)
        return out

    def _fresh_lu_samples(self, st, rng, nb, noise):
        b: Backend = st["b"]
        xp, R = b.xp, st["R"]
        Z0 = st["Z"]
        out = []
        for _ in range(nb):
            Z = Z0 * noise("Z", Z0.shape)
            Y = st["Y"] * noise("final_demand", st["Y"].shape) if "final_demand" in st["sig"] else st["Y"]
            x = K.calc_x(Z, Y)
            system = LeontiefSystem.from_arrays(b, Z, x, consume_Z=True)
            S = K.calc_S(st["F"], x)
            if "intensities" in st["sig"]:
                S = S * noise("intensities", S.shape)
            X = system.output(K.calc_by_country(Y, R))
            out.append(K.calc_E(S, X, R))
            del system, Z
        return xp.stack(out)


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
    """

    mrio: MRIO
    accounts: dict
    flows_mean: np.ndarray
    flows_std: np.ndarray
    nominal: object
    perturb: dict
    seed: int
    index_spec: _IndexSpec | None = None
    gmi: np.ndarray | None = None
    bmi_region: np.ndarray | None = None
    nominal_gmi: np.ndarray | None = None
    nominal_bmi_region: np.ndarray | None = None

    @property
    def samples(self) -> int:
        return self.accounts["pba"].shape[0]

    def _k(self, stressor):
        return self.mrio.stressor_position(stressor)

    def sample_table(self, stressor: str, account: str = "cba") -> pd.DataFrame:
        """Every sample of one account: sample (rows) x country (columns)."""
        if account not in ACCOUNTS:
            raise OptionError(f"account must be one of {ACCOUNTS}, got {account!r}")
        return pd.DataFrame(
            self.accounts[account][:, self._k(stressor), :],
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
        return pd.DataFrame(arrays[stat][self._k(stressor)], index=idx, columns=cols)


def _fingerprint(mrio: MRIO, sigmas, samples, batch_size, seed, dtype) -> str:
    h = hashlib.blake2b(digest_size=16)
    for a in (mrio.Z, mrio.Y, mrio.F, mrio.F_Y):
        h.update(np.ascontiguousarray(a).view(np.uint8))
    for name in sorted(sigmas):
        h.update(name.encode())
        h.update(np.ascontiguousarray(sigmas[name]).view(np.uint8))
    h.update(json.dumps([list(mrio.stressors), samples, batch_size, seed, dtype, _FORMAT]).encode())
    return h.hexdigest()


def _default_batch_size(mrio: MRIO, targets, itemsize: int) -> int:
    if "Z" in targets:
        return 1
    per_sample = mrio.F.size + 4 * mrio.F.shape[0] * mrio.n_countries**2
    if "final_demand" in targets:
        per_sample += 2 * mrio.Y.size + 2 * mrio.n * mrio.n_countries
    budget = 512 * 2**20  # bytes of working memory per batch
    return int(np.clip(budget // (per_sample * itemsize), 1, 256))


def montecarlo(
    mrio: MRIO,
    samples: int = 1000,
    perturb: Mapping | None = None,
    seed: int = 0,
    backend: str | Backend = "auto",
    *,
    dtype: str = "float64",
    stressors=None,
    batch_size: int | None = None,
    scheduler=None,
    out_dir=None,
    progress: bool = True,
    indices: Mapping | None = None,
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
    seed : int
        Samples depend only on (seed, batch index): reruns reproduce them.
    backend : {"auto", "numpy", "cupy", "array_api_strict"} or Backend
    dtype : {"float64", "float32"}
    stressors : sequence of str, optional
        Restrict to these stressors.
    batch_size : int, optional
        Samples per batch (one Dask task); default from a 512 MiB working budget
        (1 when Z is perturbed: each sample is a fresh LU).
    scheduler : optional
        None runs the batches here, one after another, with a progress bar. Any
        Dask scheduler name ("threads", "processes", "synchronous") or a
        ``distributed.Client`` / its address runs one task per batch there.
    out_dir : path, optional
        Write each finished batch there at once (atomically); a rerun with the
        same inputs resumes, skipping finished batches. A folder holding another
        ensemble is refused rather than mixed.
    progress : bool
    indices : mapping, optional
        Also compute every sample's GMI (by country) and region x region BMI,
        on the device, with keys among "stressor" ("CH4"), "value_added" ("VA"),
        "groups" (a grouping as ``mf.indices`` takes it; None: BRI),
        "convention", "norm_set", "norm_sign" (METHOD.md sections 4-7). Summaries:
        ``gmi_summary()`` (with P(GMI < 0)) and ``bmi_summary()``.

    Returns
    -------
    MonteCarloResults

    Raises
    ------
    OptionError, ShapeError
        Unknown targets, negative rsd, or an rsd array of the wrong shape.
    """
    perturb = dict(perturb) if perturb is not None else {"intensities": 0.3}
    unknown = [t for t in perturb if t not in TARGETS]
    if unknown:
        raise OptionError(f"unknown perturbation target(s) {unknown}; choose from {TARGETS}")
    if not isinstance(samples, int | np.integer) or samples < 1:
        raise OptionError(f"samples must be a positive integer, got {samples!r}")
    if stressors is not None:
        mrio = mrio.select_stressors(stressors)
    sigmas = {t: _expand_rsd(t, rsd, mrio) for t, rsd in perturb.items()}
    index_spec = _index_spec(indices, mrio) if indices is not None else None
    be = get_backend(backend, dtype)
    if batch_size is None:
        batch_size = _default_batch_size(mrio, sigmas, np.dtype(dtype).itemsize)
    if batch_size < 1:
        raise OptionError(f"batch_size must be >= 1, got {batch_size}")
    n_batches = -(-samples // batch_size)
    runner = _BatchRunner(mrio, sigmas, samples, batch_size, seed, be, dtype, index_spec)

    store = None
    done: dict[int, dict] = {}
    if out_dir is not None:
        spec = {"fingerprint": _fingerprint(mrio, sigmas, samples, batch_size, seed, dtype), "samples": samples,
                "batch_size": batch_size, "seed": seed, "perturb": sorted(perturb),
                "indices": None if index_spec is None else repr(index_spec)}
        store = ResultStore(out_dir, spec, what="batches of a different ensemble (other table, perturbation, "
                            "samples, batch size, seed or dtype)", filename=lambda i: f"batch_{i:06d}.npz")
        done = store.load(range(n_batches))

    def batch(i):
        result = runner(i)
        if store is not None:
            store.save(i, result)
        return result

    todo = [i for i in range(n_batches) if i not in done]
    done.update(run_tasks(batch, todo, scheduler=scheduler, progress=progress, desc="Monte Carlo batches"))

    parts = [done[i] for i in range(n_batches)]
    accounts = {name: np.concatenate([p[name] for p in parts]) for name in ACCOUNTS}
    mean, std = _combine_moments(parts)
    from .engine import Engine

    nominal = Engine(be).run(mrio, sector_flows=False)
    out = MonteCarloResults(mrio, accounts, mean, std, nominal, dict(perturb), seed, index_spec)
    if index_spec is not None:
        out.gmi = np.concatenate([p["gmi"] for p in parts])
        out.bmi_region = np.concatenate([p["bmi_region"] for p in parts])
        gmi, bmi = index_spec.compute(be.asarray(nominal.E), be)
        out.nominal_gmi, out.nominal_bmi_region = be.to_host(gmi), be.to_host(bmi)
    return out


def _combine_moments(parts):
    """Chan et al.'s pairwise update of batch means and squared deviations."""
    count, mean, m2 = 0, None, None
    for p in parts:
        nb = p["pba"].shape[0]
        if mean is None:
            count, mean, m2 = nb, p["E_mean"].astype(np.float64), p["E_m2"].astype(np.float64)
            continue
        delta = p["E_mean"] - mean
        total = count + nb
        mean = mean + delta * (nb / total)
        m2 = m2 + p["E_m2"] + delta**2 * (count * nb / total)
        count = total
    std = np.sqrt(m2 / (count - 1)) if count > 1 else np.zeros_like(mean)
    return mean, std
