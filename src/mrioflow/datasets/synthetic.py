"""A synthetic Eora26-shaped world: real labels, made-up numbers.

It is the embedded default of the command line and the benchmark's case, so it
must look like the real thing where it matters for the engine and the analysis:
the 189 Eora26 country codes plus RoW, the 26 sectors, 6 final-demand
categories, column sums of A well below 1, dense domestic blocks and sparser
imports, country sizes spread over orders of magnitude, negative inventory
changes, and methane concentrated in agriculture, mining, gas and waste.
Nothing in it is real data, and every output made from it says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import data
from ..errors import LabelError, OptionError
from ..mrio import MRIO

SOURCE = "mrioflow synthetic world (made-up numbers, NOT real data)"

# Rough shares of world gross output by Eora26 sector (sums to about 100).
_SECTOR_SHARE = np.array(
    [4, 0.5, 3, 4, 2, 2, 6, 4, 5, 3, 1.5, 0.3, 3, 7, 1, 6, 5, 3, 5, 3, 12, 6, 10, 1, 1, 0.2]
)
# Methane intensity by sector relative to agriculture (Gg per kUSD of output, scaled later):
# agriculture, mining (fugitive), gas distribution and waste (other services) dominate.
_CH4_PROFILE = np.array(
    [1.0, 0.05, 0.8, 0.03, 0.005, 0.01, 0.05, 0.01, 0.002, 0.002, 0.005, 0.05, 0.25, 0.005,
     0.002, 0.002, 0.002, 0.005, 0.02, 0.001, 0.001, 0.01, 0.08, 0.01, 0.01, 0.0]
)
_FD_SHARE = np.array([0.58, 0.02, 0.15, 0.22, 0.02, 0.01])
WORLD_OUTPUT_KUSD = 1.6e11  # about 160 trillion USD of gross output in 2013, +3 % a year
WORLD_CH4_GG = 3.6e5  # about 360 Tg of anthropogenic methane in 2013, +0.5 % a year


def _choose_countries(countries, n_countries) -> list[str]:
    table = data.eora26_countries()
    codes = table["iso3"].tolist() + ["ROW"]
    if countries is not None:
        unknown = [c for c in countries if c not in codes]
        if unknown:
            raise LabelError(f"unknown Eora26 country code(s): {', '.join(unknown)}")
        return list(countries)
    if n_countries is None:
        return codes
    if not 2 <= n_countries <= len(codes):
        raise OptionError(f"n_countries must be between 2 and {len(codes)}, got {n_countries}")
    pick = np.linspace(0, len(codes) - 1, n_countries).round().astype(int)
    return [codes[i] for i in pick]


def synthetic(
    year: int = 2013,
    seed: int = 0,
    *,
    n_countries: int | None = None,
    countries: Sequence[str] | None = None,
) -> MRIO:
    """An Eora26-shaped synthetic world with CH4 and value added.

    Parameters
    ----------
    year : int
        Countries grow (each at its own rate) and methane intensities fall from
        2013 on, so two years differ the way real years do.
    seed : int
        The world's structure and the year's noise are deterministic in (seed, year).
    n_countries : int, optional
        A smaller world for tests (countries spread over the Eora list, RoW last).
        Default: all 189 Eora26 countries plus RoW (n = 4,940).
    countries : sequence of str, optional
        Exactly these Eora26 codes instead ("ROW" allowed).

    Returns
    -------
    MRIO
        Stressors "CH4" (Gg) and "VA" (kUSD); ``meta["synthetic"] is True``.
    """
    codes = _choose_countries(countries, n_countries)
    names_by_code = dict(zip(*data.eora26_countries()[["iso3", "name"]].T.values))
    names_by_code["ROW"] = "Rest of the world"
    all_codes = data.eora26_countries()["iso3"].tolist() + ["ROW"]
    sectors = data.eora26_sectors()
    R, S, c = len(codes), len(sectors), len(_FD_SHARE)
    n = R * S

    # Structure: the same for every year of a seed. Each country's own parameters
    # come from a generator keyed by its position in the full list, so a small
    # world is a subset of the full one.
    rs = np.random.default_rng([seed, 0])
    tech = rs.gamma(0.6, 1.0, (S, S))  # world technology pattern
    per_country = [np.random.default_rng([seed, 1, all_codes.index(code)]) for code in codes]
    size = np.array([g.lognormal(0.0, 1.7) for g in per_country])
    growth = np.array([g.normal(0.035, 0.025) for g in per_country])
    shares = np.array([g.dirichlet(_SECTOR_SHARE * 4 + 0.05) for g in per_country])
    ch4_level = np.array([g.lognormal(0.0, 0.7) for g in per_country]) / size**0.15
    dom_share = np.array([g.uniform(0.6, 0.85) for g in per_country])

    ry = np.random.default_rng([seed, 2, year])
    size = size * (1.0 + growth) ** (year - 2013) * ry.lognormal(0, 0.02, R)
    x = (size[:, None] * shares).ravel()
    x *= WORLD_OUTPUT_KUSD * 1.03 ** (year - 2013) / x.sum()

    # Technical coefficients: dense domestic blocks, sparse imports weighted by
    # partner size; column sums of A between about 0.35 and 0.7.
    A = np.tile(tech, (R, R))
    A *= ry.lognormal(0.0, 0.5, (n, n))
    country = np.repeat(np.arange(R), S)
    domestic = country[:, None] == country[None, :]
    p_link = np.clip(0.08 + 0.5 * (size / size.max()) ** 0.5, 0.0, 0.9)
    A *= domestic | (ry.random((n, n)) < p_link[country][:, None])
    A *= np.where(domestic, 1.0, (size[country] ** 0.8)[:, None])
    dom_sum = np.where(domestic, A, 0.0).sum(axis=0)
    imp_sum = A.sum(axis=0) - dom_sum
    target_dom = ry.uniform(0.25, 0.5, n)
    target_imp = ry.uniform(0.05, 0.2, n)
    scale_dom = np.divide(target_dom, dom_sum, out=np.zeros(n), where=dom_sum > 0)
    scale_imp = np.divide(target_imp, imp_sum, out=np.zeros(n), where=imp_sum > 0)
    A *= np.where(domestic, scale_dom[None, :], scale_imp[None, :])
    del domestic

    Z = A
    Z *= x[None, :]
    row = Z.sum(axis=1)
    cap = 0.85 * x
    Z *= np.minimum(1.0, np.divide(cap, row, out=np.ones(n), where=row > 0))[:, None]
    y_total = x - Z.sum(axis=1)

    # Final demand: a home share, the rest spread over foreign consumers by size.
    w = size[None, :] * ry.lognormal(0.0, 0.6, (n, R))
    w[np.arange(n), country] = 0.0
    w /= w.sum(axis=1, keepdims=True)
    home = dom_share[country]
    by_consumer = (1.0 - home)[:, None] * w
    by_consumer[np.arange(n), country] = home
    by_consumer *= y_total[:, None]
    cat = ry.dirichlet(_FD_SHARE * 200, R)  # (R, c): each consumer's category mix
    Y = (by_consumer[:, :, None] * cat[None, :, :]).reshape(n, R * c)
    # Inventory changes (category 4) take either sign; households absorb the difference
    # so that x = Z 1 + Y 1 holds exactly.
    inv = Y[:, 4::c]
    flipped = inv * np.where(ry.random(inv.shape) < 0.3, -1.0, 1.0)
    Y[:, 0::c] += inv - flipped
    Y[:, 4::c] = flipped

    # Satellites: methane by sector, direct household methane, value added.
    ch4 = (_CH4_PROFILE[None, :] * ch4_level[:, None]).ravel() * ry.lognormal(0, 0.3, n)
    ch4 *= 0.98 ** (year - 2013)
    ch4_sector = ch4 * x
    ch4_direct = np.zeros(R * c)
    ch4_direct[0::c] = size * ch4_level
    scale = WORLD_CH4_GG * 1.005 ** (year - 2013) / (ch4_sector.sum() + 0.05 / 0.95 * ch4_sector.sum())
    ch4_sector *= scale
    ch4_direct *= 0.05 * WORLD_CH4_GG * 1.005 ** (year - 2013) / ch4_direct.sum()
    va = x - Z.sum(axis=0)
    F = np.vstack([ch4_sector, va])
    F_Y = np.vstack([ch4_direct, np.zeros(R * c)])

    return MRIO(
        Z=Z,
        Y=Y,
        F=F,
        F_Y=F_Y,
        countries=codes,
        country_names=[names_by_code[code] for code in codes],
        sectors=sectors,
        fd_categories=data.EORA26_FD_CATEGORIES,
        stressors=["CH4", "VA"],
        units=["Gg", "kUSD"],
        year=year,
        source=SOURCE,
        meta={"synthetic": True, "seed": seed},
    )
