"""Labelled host-side results of one engine run."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import kernels as K
from ..errors import LabelError, OptionError
from ..mrio import MRIO
from .backend import Backend


class ZeroOutputWarning(UserWarning):
    """Sectors with zero gross output have direct stressors, which no account includes."""


def zero_output_stressors(F: np.ndarray, x: np.ndarray):
    """(totals per stressor (k,), sector positions) of the stressors in sectors with x = 0, or
    None when there are none: S = F diag(x)^-1 is 0 there, so PBA and CBA leave them out."""
    zero = np.flatnonzero(np.asarray(x) == 0)
    if not zero.size:
        return None
    block = np.asarray(F)[:, zero]
    if not np.any(block != 0):
        return None
    return block.sum(axis=1), zero[np.any(block != 0, axis=0)]


@dataclass(eq=False)
class Results:
    """What ``Engine.run`` returns: NumPy arrays on the host plus the table's labels.

    Arrays (k stressors, n = R * S sectors, R countries):

    - ``E`` (k, R, R): embodied flows, row = producing country, column = consuming country
    - ``M`` (k, n): multipliers S L
    - ``F`` (k, n): direct stressors by sector; ``F_Y`` (k, R): direct final-demand stressors
    - ``x`` (n,): gross output
    - ``E_sector``, ``E_fd_sector`` (k, n, R): by producing sector / by final-demand sector
    - ``L`` (n, n): only when ``keep_L=True``
    - ``D_iba`` (k, n): income-based stressors by primary-input sector, only when
      ``income_based=True`` (docs/method.md section 3)

    ``backend`` is the Backend the run used (``str(res.backend)`` describes it);
    :mod:`mrioflow.indices` computes on it by default. ``diagnostics`` holds
    ``condition_number_1norm``, the estimated 1-norm condition number of (I - A)
    (None when the run did not check; an IllConditionedWarning was given when it
    is large).

    The methods return labelled pandas DataFrames.
    """

    mrio: MRIO
    E: np.ndarray
    M: np.ndarray
    F: np.ndarray
    F_Y: np.ndarray
    x: np.ndarray
    E_sector: np.ndarray | None = None
    E_fd_sector: np.ndarray | None = None
    L: np.ndarray | None = None
    D_iba: np.ndarray | None = None
    backend: Backend | None = None
    timings: dict = field(default_factory=dict)
    diagnostics: dict = field(default_factory=dict)

    # -- labels -----------------------------------------------------------------
    @property
    def stressors(self) -> tuple[str, ...]:
        return tuple(self.mrio.stressors)

    @property
    def countries(self) -> tuple[str, ...]:
        return tuple(self.mrio.countries)

    @property
    def synthetic(self) -> bool:
        return self.mrio.synthetic

    def stressor_index(self, stressor: str) -> int:
        """Position of ``stressor`` along the first axis of E, M, F and F_Y.

        Raises
        ------
        LabelError
            An unknown stressor (the message lists the known ones).
        """
        return self.mrio.stressor_position(stressor)

    def _country_frame(self, a: np.ndarray, name: str) -> pd.DataFrame:
        idx = pd.Index(self.countries, name="producing country")
        cols = pd.Index(self.countries, name="consuming country")
        df = pd.DataFrame(a, index=idx, columns=cols)
        df.attrs.update(self._attrs(name))
        return df

    def _attrs(self, stressor: str) -> dict:
        k = self.stressor_index(stressor)
        return {
            "stressor": stressor,
            "unit": self.mrio.units[k],
            "year": self.mrio.year,
            "source": self.mrio.source,
            "synthetic": self.synthetic,
        }

    # -- tables -----------------------------------------------------------------
    def flows(self, stressor: str) -> pd.DataFrame:
        """Embodied flows E[r, s]: producing country (rows) x consuming country (columns).

        Without direct final-demand emissions; ``flows(s).sum(axis=0) + direct(s)`` is the CBA.
        """
        return self._country_frame(self.E[self.stressor_index(stressor)], stressor)

    def net_flows(self, stressor: str) -> pd.DataFrame:
        """Net embodied flows Ebar = E - E^T (docs/method.md section 3)."""
        return self._country_frame(K.calc_net_flows(self.E[self.stressor_index(stressor)]), stressor)

    def direct(self, stressor: str) -> pd.Series:
        """Direct final-demand stressors (F_Y) per country."""
        k = self.stressor_index(stressor)
        return pd.Series(self.F_Y[k], index=pd.Index(self.countries, name="country"), name=stressor)

    def accounts(self, stressor: str, *, direct: bool = True) -> pd.DataFrame:
        """Accounts by country: pba, cba, imports, exports, net (= pba - cba).

        Parameters
        ----------
        direct : bool
            Include direct final-demand emissions F_Y in pba and cba (as pymrio's
            D_pba_reg and D_cba_reg do).

        A column ``zero_output`` is added when sectors with zero gross output
        have some of the stressor (F > 0 where x = 0): no account includes it
        (S = F / x is 0 there), so it is shown by country beside them
        (``Engine.run`` warns too).
        """
        k = self.stressor_index(stressor)
        acc = K.calc_accounts(self.E[k], self.F_Y[k] if direct else None)
        df = pd.DataFrame(acc, index=pd.Index(self.countries, name="country"))
        zero = self.zero_output()
        if zero is not None and np.any(zero[k] != 0):
            df["zero_output"] = zero[k]
        df.attrs.update(self._attrs(stressor))
        return df

    def all_accounts(self, *, direct: bool = True) -> pd.DataFrame:
        """Accounts of every stressor: rows (stressor, account), columns countries."""
        acc = K.calc_accounts(self.E, self.F_Y if direct else None)
        frames = {name: pd.DataFrame(a, index=self.stressors, columns=self.countries) for name, a in acc.items()}
        out = pd.concat(frames, names=["account", "stressor"]).swaplevel().sort_index(level=0, sort_remaining=False)
        out.columns.name = "country"
        return out

    def zero_output(self) -> np.ndarray | None:
        """(k, R): each country's stressors in its sectors with zero gross output (in no
        account), or None when there are none."""
        if zero_output_stressors(self.F, self.x) is None:
            return None
        R = len(self.countries)
        masked = np.where(np.asarray(self.x) == 0, self.F, 0.0)
        return masked.reshape(len(self.stressors), R, -1).sum(axis=2)

    def income_accounts(self, stressor: str, *, direct: bool = True) -> pd.DataFrame:
        """Production-, consumption- and income-based accounts by country: pba, cba, iba.

        ``iba`` (pymrio-style name D_iba_reg) is the stressor enabled downstream by the
        country's primary inputs (value added, taxes, imports from outside the table): the
        supply-side (Ghosh) counterpart of the CBA, computed by ``Engine.run(income_based=True)``.
        The three sum to the same world total. With ``direct``, F_Y is added to each country's
        pba, cba and iba (the household emissions occur in, and are enabled by, that country).

        Raises
        ------
        LabelError
            The run did not compute them.
        """
        if self.D_iba is None:
            raise LabelError("income-based accounts were not computed: run the engine with income_based=True")
        k = self.stressor_index(stressor)
        df = self.accounts(stressor, direct=direct)[["pba", "cba"]].copy()
        S = self.mrio.n_sectors
        iba = self.D_iba[k].reshape(-1, S).sum(axis=1)
        df["iba"] = iba + self.F_Y[k] if direct else iba
        df.attrs.update(self._attrs(stressor))
        return df

    def multipliers(self) -> pd.DataFrame:
        """Multipliers M = S L: stressor (rows) x (country, sector) (columns)."""
        return pd.DataFrame(self.M, index=pd.Index(self.stressors, name="stressor"), columns=self.mrio.sector_index())

    def sector_flows(self, stressor: str, *, perspective: str = "production") -> pd.DataFrame:
        """Sector-level embodied flows: (country, sector) x consuming country.

        Parameters
        ----------
        perspective : {"production", "final_demand"}
            "production": the sector where the stressor occurs (row sums give F);
            "final_demand": the sector whose product is bought for final use
            (column sums give the CBA without direct emissions).
        """
        arrays = {"production": self.E_sector, "final_demand": self.E_fd_sector}
        if perspective not in arrays:
            raise OptionError(f"perspective must be 'production' or 'final_demand', got {perspective!r}")
        a = arrays[perspective]
        if a is None:
            raise LabelError("sector flows were not computed: run the engine with sector_flows=True")
        df = pd.DataFrame(
            a[self.stressor_index(stressor)],
            index=self.mrio.sector_index(),
            columns=pd.Index(self.countries, name="consuming country"),
        )
        df.attrs.update(self._attrs(stressor))
        return df

    def leontief(self) -> pd.DataFrame:
        """The Leontief inverse L, if the run kept it (``keep_L=True``)."""
        if self.L is None:
            raise LabelError("L was not formed: run the engine with keep_L=True")
        idx = self.mrio.sector_index()
        return pd.DataFrame(self.L, index=idx, columns=idx)

    def __repr__(self) -> str:
        return f"<Results {self.mrio!r} on {self.backend or 'an unknown backend'}>"
