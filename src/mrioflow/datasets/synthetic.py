"""Synthetic worlds of any shape: made-up numbers with the character of real tables.

The default is Eora26-shaped (the 189 Eora26 country codes plus RoW, the 26
sectors, 6 final-demand categories): the embedded demo of the command line and
the benchmarks' world. Other shapes, named after the databases they imitate
(:data:`PRESETS`), or any (countries, sectors, categories), serve the hardware
benchmark. Every world looks like the real thing where it matters for the
engine and the analysis: column sums of A well below 1, dense domestic blocks
and sparser imports, country sizes spread over orders of magnitude, negative
inventory changes, methane concentrated in agriculture, mining, gas and waste.

The demo world tells a plausible story: the countries' shares of world output
and of methane are drawn around rounded orders of magnitude of the real world
(about 2013: the United States, China and Europe the largest economies and
consumers; China, India, the United States, Russia, Brazil and West Asia the
largest methane emitters), with noise. Nothing in it is real data, and every
output made from it says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import data
from ..errors import LabelError, OptionError
from ..mrio import MRIO

SOURCE = "mrioflow synthetic world (made-up numbers, NOT real data)"

#: Named shapes (countries, sectors, final-demand categories) of real databases.
#: eora_full is a regular stand-in for full Eora (187 countries with 26 to about
#: 500 sectors each, about 15,900 in all): 187 x 85 = 15,895. gloria_sut has
#: GLORIA's supply-use size (164 regions x (120 industries + 120 products)) but
#: is generated as one industry-by-industry table of that size.
PRESETS: dict[str, tuple[int, int, int]] = {
    "eora26": (190, 26, 6),
    "exiobase3": (49, 200, 7),
    "eora_full": (187, 85, 6),
    "gloria": (164, 120, 6),
    "gloria_sut": (164, 240, 6),
}

# Rough shares of world gross output by Eora26 sector (sums to about 100).
_SECTOR_SHARE = np.array([4, 0.5, 3, 4, 2, 2, 6, 4, 5, 3, 1.5, 0.3, 3, 7, 1, 6, 5, 3, 5, 3, 12, 6, 10, 1, 1, 0.2])
# Methane intensity by sector relative to agriculture (Gg per kUSD of output, scaled later):
# agriculture, mining (fugitive), gas distribution and waste (other services) dominate.
_CH4_PROFILE = np.array(
    [
        1.0,
        0.05,
        0.8,
        0.03,
        0.005,
        0.01,
        0.05,
        0.01,
        0.002,
        0.002,
        0.005,
        0.05,
        0.25,
        0.005,
        0.002,
        0.002,
        0.002,
        0.005,
        0.02,
        0.001,
        0.001,
        0.01,
        0.08,
        0.01,
        0.01,
        0.0,
    ]
)
_FD_SHARE = np.array([0.58, 0.02, 0.15, 0.22, 0.02, 0.01])
_INVENTORY = 4  # the Eora26 category "Changes in inventories": either sign
WORLD_OUTPUT_KUSD = 1.6e11  # about 160 trillion USD of gross output in 2013, +3 % a year
WORLD_CH4_GG = 3.6e5  # about 360 Tg of anthropogenic methane in 2013, +0.5 % a year

# Orders of magnitude the demo world is drawn around (percent of the world, about
# 2013, rounded; NOT data): economic size (GDP) and anthropogenic methane. Countries
# not listed share the rest, drawn at random.
_GDP_PERCENT = {
    "USA": 21.7,
    "CHN": 12.4,
    "JPN": 6.5,
    "DEU": 4.9,
    "FRA": 3.7,
    "GBR": 3.5,
    "BRA": 3.2,
    "RUS": 2.9,
    "ITA": 2.8,
    "IND": 2.4,
    "CAN": 2.4,
    "AUS": 2.0,
    "ESP": 1.8,
    "KOR": 1.7,
    "MEX": 1.7,
    "IDN": 1.2,
    "TUR": 1.2,
    "NLD": 1.1,
    "SAU": 1.0,
    "CHE": 0.9,
    "ARG": 0.8,
    "SWE": 0.8,
    "NGA": 0.7,
    "POL": 0.7,
    "BEL": 0.7,
    "NOR": 0.7,
    "TWN": 0.7,
    "IRN": 0.6,
    "AUT": 0.6,
    "THA": 0.5,
    "ARE": 0.5,
    "COL": 0.5,
    "VEN": 0.5,
    "ZAF": 0.5,
    "DNK": 0.4,
    "MYS": 0.4,
    "SGP": 0.4,
    "CHL": 0.4,
    "HKG": 0.4,
    "EGY": 0.4,
    "ISR": 0.4,
    "PHL": 0.35,
    "FIN": 0.35,
    "GRC": 0.3,
    "PAK": 0.3,
    "IRQ": 0.3,
    "KAZ": 0.3,
    "PRT": 0.3,
    "IRL": 0.3,
    "DZA": 0.3,
    "CZE": 0.27,
    "QAT": 0.27,
    "PER": 0.27,
    "NZL": 0.25,
    "UKR": 0.25,
    "ROU": 0.25,
    "KWT": 0.23,
    "VNM": 0.22,
    "BGD": 0.2,
    "HUN": 0.17,
}
_CH4_PERCENT = {
    "CHN": 16.0,
    "IND": 8.5,
    "USA": 7.0,
    "RUS": 6.5,
    "BRA": 5.0,
    "IDN": 3.5,
    "IRN": 2.2,
    "PAK": 2.0,
    "NGA": 2.0,
    "MEX": 2.0,
    "BGD": 1.6,
    "AUS": 1.6,
    "SAU": 1.5,
    "ARG": 1.3,
    "THA": 1.3,
    "IRQ": 1.2,
    "VNM": 1.2,
    "CAN": 1.2,
    "TUR": 1.1,
    "DZA": 1.0,
    "ETH": 1.0,
    "UZB": 1.0,
    "UKR": 1.0,
    "TKM": 0.9,
    "KAZ": 0.9,
    "MMR": 0.9,
    "DEU": 0.9,
    "FRA": 0.9,
    "COD": 0.8,
    "VEN": 0.8,
    "SUD": 0.8,
    "COL": 0.8,
    "ZAF": 0.8,
    "GBR": 0.7,
    "EGY": 0.6,
    "ARE": 0.6,
    "PHL": 0.6,
    "POL": 0.6,
    "TZA": 0.6,
    "QAT": 0.5,
    "MYS": 0.5,
    "ITA": 0.5,
    "ESP": 0.5,
    "KEN": 0.5,
    "AGO": 0.5,
    "KWT": 0.4,
    "OMN": 0.4,
    "JPN": 0.4,
    "LBY": 0.4,
    "SYR": 0.2,
    "YEM": 0.2,
}


def _shape(shape) -> tuple[int, int, int]:
    if isinstance(shape, str):
        if shape not in PRESETS:
            raise OptionError(f"unknown synthetic shape {shape!r}; presets: {', '.join(PRESETS)}")
        return PRESETS[shape]
    try:
        R, S, c = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise OptionError(
            f"shape must be a preset name or (countries, sectors, final-demand categories), got {shape!r}"
        ) from None
    if R < 2 or S < 1 or c < 1:
        raise OptionError(f"shape needs at least 2 countries, 1 sector and 1 category, got {(R, S, c)}")
    return R, S, c


def _eora_codes() -> list[str]:
    return data.eora26_countries()["iso3"].tolist() + ["ROW"]


def _country_sizes(codes: Sequence[str], keys: Sequence[int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Economic size and methane weight of each country, before the year's growth.

    Listed countries are drawn around their share of the world (±10 %); the
    others share what is left, lognormally. Keyed per country, so that a small
    world is a subset of the full one.
    """
    listed_gdp, listed_ch4 = sum(_GDP_PERCENT.values()), sum(_CH4_PERCENT.values())
    others = max(len(_eora_codes()) - len(_GDP_PERCENT), 1)
    size, ch4 = np.empty(len(codes)), np.empty(len(codes))
    for i, (code, key) in enumerate(zip(codes, keys)):
        g = np.random.default_rng([seed, 1, key])
        rest_gdp = g.lognormal(0.0, 1.3) * (100 - listed_gdp) / others / np.exp(1.3**2 / 2)
        size[i] = _GDP_PERCENT.get(code, rest_gdp) * g.lognormal(0.0, 0.1)
        rest_ch4 = g.lognormal(0.0, 0.9) * (100 - listed_ch4) / others / np.exp(0.9**2 / 2)
        ch4[i] = _CH4_PERCENT.get(code, rest_ch4) * g.lognormal(0.0, 0.1)
    return size, ch4


def _choose_countries(shape_R, countries, n_countries, seed) -> tuple[list[str], list[int]]:
    """Country codes and the key of each one's random stream."""
    codes = _eora_codes()
    if countries is not None:
        unknown = [c for c in countries if c not in codes]
        if unknown:
            raise LabelError(f"unknown Eora26 country code(s): {', '.join(unknown)}")
        return list(countries), [codes.index(c) for c in countries]
    if n_countries is not None:
        if not 2 <= n_countries <= len(codes):
            raise OptionError(f"n_countries must be between 2 and {len(codes)}, got {n_countries}")
        pick = np.linspace(0, len(codes) - 1, n_countries).round().astype(int).tolist()
        return [codes[i] for i in pick], pick
    if shape_R == len(codes):
        return codes, list(range(len(codes)))
    if shape_R > len(codes):  # more countries than Eora has: numbered ones
        return [f"C{i + 1:04d}" for i in range(shape_R)], list(range(shape_R))
    # Fewer: the largest economies of the demo world, and RoW (as the databases do).
    size, _ = _country_sizes(codes[:-1], range(len(codes) - 1), seed)
    keep = sorted(np.argsort(-size, kind="stable")[: shape_R - 1].tolist())
    return [codes[i] for i in keep] + ["ROW"], keep + [len(codes) - 1]


def _sectors(S: int) -> tuple[list[str], np.ndarray]:
    """S sector names and the Eora26 sector each one imitates."""
    names = data.eora26_sectors()
    parent = (np.arange(S) * len(names)) // S
    if S == len(names):
        return names, parent
    counts = np.bincount(parent, minlength=len(names))
    labels, seen = [], np.zeros(len(names), dtype=int)
    for p in parent:
        seen[p] += 1
        labels.append(names[p] if counts[p] == 1 else f"{names[p]} {seen[p]}")
    return labels, parent


def _fd_categories(c: int) -> tuple[list[str], np.ndarray]:
    names = list(data.EORA26_FD_CATEGORIES[:c]) + [f"Other final demand {i + 1}" for i in range(c - 6)]
    share = np.concatenate([_FD_SHARE[:c], np.full(max(c - 6, 0), 0.02)])
    return names, share / share.sum()


def synthetic(
    year: int = 2013,
    seed: int = 0,
    *,
    shape: str | tuple[int, int, int] = "eora26",
    n_countries: int | None = None,
    countries: Sequence[str] | None = None,
) -> MRIO:
    """A synthetic world of any shape with CH4 and value added.

    Parameters
    ----------
    year : int
        Countries grow (each at its own rate) and methane intensities fall from
        2013 on, so two years differ the way real years do.
    seed : int
        The world's structure and the year's noise are deterministic in (seed, year).
    shape : str or (int, int, int)
        A preset of :data:`PRESETS` — "eora26" (190 x 26 = 4,940, the default),
        "exiobase3" (49 x 200 = 9,800), "eora_full" (187 x 85 = 15,895: full
        Eora's about 15,900 sectors as close as a regular shape allows), "gloria"
        (164 x 120 = 19,680), "gloria_sut" (164 x 240 = 39,360, GLORIA's
        supply-use size) — or (countries, sectors, final-demand categories).
        Up to 190 countries carry Eora26 codes (the largest economies of the
        demo world and RoW when fewer), more are numbered; sectors other than
        26 are named after the Eora26 sector they imitate.
    n_countries : int, optional
        A smaller world for tests: that many countries spread over the Eora list,
        RoW last (overrides the shape's country count).
    countries : sequence of str, optional
        Exactly these Eora26 codes instead ("ROW" allowed).

    Returns
    -------
    MRIO
        Stressors "CH4" (Gg) and "VA" (kUSD); ``meta["synthetic"] is True``.

    Notes
    -----
    Memory: Z (n x n float64) is filled in place, one country's rows at a time;
    no other n x n array is made, so the largest preset (gloria_sut, 12.4 GB per
    n x n array) is generated in about 1.1 n^2 (the MRIO's finiteness check).
    """
    R, S, c = _shape(shape)
    codes, keys = _choose_countries(R, countries, n_countries, seed)
    names_by_code = dict(zip(*data.eora26_countries()[["iso3", "name"]].T.values))
    names_by_code["ROW"] = "Rest of the world"
    sectors, parent = _sectors(S)
    fd_names, fd_share = _fd_categories(c)
    R = len(codes)
    n = R * S

    # Structure: the same for every year of a seed. Each country's own parameters
    # come from a generator keyed by its position in the full list, so a small
    # world is a subset of the full one.
    rs = np.random.default_rng([seed, 0])
    tech = rs.gamma(0.6, 1.0, (S, S))  # world technology pattern
    base_size, ch4_weight = _country_sizes(codes, keys, seed)
    per_country = [np.random.default_rng([seed, 3, key]) for key in keys]
    growth = np.array([g.normal(0.035, 0.025) for g in per_country])
    alpha = _SECTOR_SHARE[parent] / np.bincount(parent, minlength=26)[parent]
    alpha = alpha / alpha.sum() * 100
    shares = np.array([g.dirichlet(alpha * 4 + 0.05) for g in per_country])
    dom_share = np.array([g.uniform(0.6, 0.85) for g in per_country])
    profile = _CH4_PROFILE[parent]
    # Methane per unit of output so that each country's share is its weight.
    ch4_level = ch4_weight / (base_size * (shares * profile[None, :]).sum(axis=1))

    ry = np.random.default_rng([seed, 2, year])
    size = base_size * (1.0 + growth) ** (year - 2013) * ry.lognormal(0, 0.02, R)
    x = (size[:, None] * shares).ravel()
    x *= WORLD_OUTPUT_KUSD * 1.03 ** (year - 2013) / x.sum()

    # Technical coefficients, one country's rows at a time, in Z's own memory:
    # dense domestic blocks, sparse imports weighted by the seller's size;
    # column sums of A between about 0.35 and 0.7.
    Z = np.empty((n, n))
    p_link = np.clip(0.08 + 0.5 * (size / size.max()) ** 0.5, 0.0, 0.9)
    dom_sum, all_sum = np.zeros(n), np.zeros(n)
    for r in range(R):
        rows, g = slice(r * S, (r + 1) * S), np.random.default_rng([seed, 4, year, keys[r]])
        B = Z[rows]
        g.standard_normal(out=B)
        B *= 0.5
        np.exp(B, out=B)
        B.reshape(S, R, S)[...] *= tech[:, None, :]
        B *= g.random((S, n)) < p_link[r]
        B *= size[r] ** 0.8
        B[:, rows] = tech * np.exp(0.5 * g.standard_normal((S, S)))  # every domestic link exists
        dom_sum[rows] += B[:, rows].sum(axis=0)
        all_sum += B.sum(axis=0)
    imp_sum = all_sum - dom_sum
    scale_dom = np.divide(ry.uniform(0.25, 0.5, n), dom_sum, out=np.zeros(n), where=dom_sum > 0) * x
    scale_imp = np.divide(ry.uniform(0.05, 0.2, n), imp_sum, out=np.zeros(n), where=imp_sum > 0) * x
    col_scale = scale_imp.copy()
    for r in range(R):
        rows = slice(r * S, (r + 1) * S)
        col_scale[rows] = scale_dom[rows]
        B = Z[rows]
        B *= col_scale
        col_scale[rows] = scale_imp[rows]
        row = B.sum(axis=1)
        cap = 0.85 * x[rows]
        B *= np.minimum(1.0, np.divide(cap, row, out=np.ones(S), where=row > 0))[:, None]
    y_total = x - Z.sum(axis=1)

    # Final demand: a home share, the rest spread over foreign consumers by size.
    country = np.repeat(np.arange(R), S)
    w = size[None, :] * ry.lognormal(0.0, 0.6, (n, R))
    w[np.arange(n), country] = 0.0
    w /= w.sum(axis=1, keepdims=True)
    home = dom_share[country]
    by_consumer = (1.0 - home)[:, None] * w
    by_consumer[np.arange(n), country] = home
    by_consumer *= y_total[:, None]
    del w
    cat = ry.dirichlet(fd_share * 200, R)  # (R, c): each consumer's category mix
    Y = (by_consumer[:, :, None] * cat[None, :, :]).reshape(n, R * c)
    del by_consumer
    if c > _INVENTORY:
        # Inventory changes take either sign; households absorb the difference
        # so that x = Z 1 + Y 1 holds exactly.
        inv = Y[:, _INVENTORY::c]
        flipped = inv * np.where(ry.random(inv.shape) < 0.3, -1.0, 1.0)
        Y[:, 0::c] += inv - flipped
        Y[:, _INVENTORY::c] = flipped

    # Satellites: methane by sector, direct household methane, value added.
    ch4 = (profile[None, :] * ch4_level[:, None]).ravel() * ry.lognormal(0, 0.3, n)
    ch4 *= 0.98 ** (year - 2013)
    ch4_sector = ch4 * x
    ch4_direct = np.zeros(R * c)
    ch4_direct[0::c] = ch4_weight
    total = WORLD_CH4_GG * 1.005 ** (year - 2013)
    ch4_sector *= 0.95 * total / ch4_sector.sum()
    ch4_direct *= 0.05 * total / ch4_direct.sum()
    va = x - Z.sum(axis=0)
    F = np.vstack([ch4_sector, va])
    F_Y = np.vstack([ch4_direct, np.zeros(R * c)])

    return MRIO(
        Z=Z,
        Y=Y,
        F=F,
        F_Y=F_Y,
        countries=codes,
        country_names=[names_by_code.get(code, f"Synthetic country {code[1:]}") for code in codes],
        sectors=sectors,
        fd_categories=fd_names,
        stressors=["CH4", "VA"],
        units=["Gg", "kUSD"],
        year=year,
        source=SOURCE,
        meta={"synthetic": True, "seed": seed},
    )
