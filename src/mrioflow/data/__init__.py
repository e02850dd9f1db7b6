"""Reference data shipped with mrioflow (copies of the project's shared/data)."""

from importlib import resources

import pandas as pd


def path(name: str):
    """Path-like handle of a bundled data file."""
    return resources.files(__name__).joinpath(name)


def eora26_countries() -> pd.DataFrame:
    """The 189 Eora26 country codes (ISO3 flavour, in the labels' order) and names."""
    return pd.read_csv(path("eora26_countries.csv"), keep_default_na=False)


def eora26_sectors() -> list[str]:
    """The 26 Eora26 sector names, in order."""
    return pd.read_csv(path("eora26_sectors.csv"))["name"].tolist()


EORA26_FD_CATEGORIES = (
    "Household final consumption P.3h",
    "Non-profit institutions serving households P.3n",
    "Government final consumption P.3g",
    "Gross fixed capital formation P.51",
    "Changes in inventories P.52",
    "Acquisitions less disposals of valuables P.53",
)
