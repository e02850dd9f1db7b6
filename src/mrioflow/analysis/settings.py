"""Settings of one analysis run, and the TOML configuration file that holds them.

A configuration file holds the same settings as the command line, under a
``[run]`` table or at the top level, with the option names spelled with
underscores or hyphens::

    [run]
    eora26 = "data/eora26"          # folder of yearly Eora26 zips or folders
    years = [2013, 2021]
    edgar = "data/EDGAR_CH4_1970_2022.xlsx"
    stressor = "CH4"
    groups = "my_regions.csv"       # iso3 + a group column; default: the 62 BRI countries
    convention = "printed"
    norm_set = "all"
    norm_sign = "signed"
    backend = "auto"
    output = "results"

Relative paths in the file are relative to the file's own folder. Command-line
flags override the file.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..engine.backend import BACKEND_NAMES
from ..errors import MissingDataError, OptionError, ReaderError
from ..indices import NORM_SETS
from ..io.eora26 import satellite_option
from ..kernels.indices import CONVENTIONS, NORM_SIGNS, check_option, check_quantiles
from .output import check_file_name

__all__ = ["DEFAULT_YEARS", "Settings", "load_config"]

DEFAULT_YEARS = (2013, 2021)
PRICES = ("bp", "pp")
PATH_KEYS = ("eora26", "edgar", "edgar_mapping", "pymrio", "groups", "output")


@dataclass
class Settings:
    """Everything one ``mrioflow run`` needs.

    Attributes
    ----------
    years : tuple of int
        Years to analyse (default 2013 and 2021). Ignored for pymrio folders,
        whose tables carry their own year.
    eora26 : str, optional
        A folder of yearly Eora26 files (zips or unpacked folders) or one zip.
        None, with no ``pymrio`` either: the synthetic world.
    edgar : str, optional
        An EDGAR CH4 file; replaces the table's ``stressor`` by EDGAR's
        emissions mapped to the Eora26 sectors.
    edgar_mapping : str, optional
        A CSV mapping EDGAR sources to Eora26 sectors (the layout of the bundled
        ``edgar_ch4_to_eora26.csv``); default: the bundled mapping.
    pymrio : tuple of str
        pymrio folders (one table each), instead of Eora26.
    stressor, value_added : str
        The stressor analysed (default "CH4") and the value-added stressor ("VA").
    satellite : str, optional
        Eora26 satellite rows to analyse instead of methane, ``"NAME=PATTERN"``
        (e.g. ``"CO2=I-GHG-CO2"``, ``"N2O_soils=I-GHG-N2O | Agricultural soils"``;
        the patterns of ``read_eora26(satellites=...)``): the matching rows
        become stressor NAME, which becomes ``stressor``.
    groups : str, optional
        A grouping CSV (iso3 + a group column); None: the BRI grouping.
    group_column : str, optional
        The group column of that CSV (default: detected).
    convention, norm_set, norm_sign : str
        Index options (docs/method.md sections 4-5).
    norm_quantiles : (float, float)
        (0, 1): literal min-max normalisation (default); (lo, hi): the robust
        normalisation at those quantiles (docs/method.md section 5).
    backend : str
        "auto", "numpy", "cupy" or "array_api_strict".
    output : str
        Output folder (default ``mrioflow-output``).
    seed : int
        Seed of the synthetic world.
    price : str
        Eora26 price basis, "bp" or "pp".
    cache : bool
        Let the Eora26 reader keep and reuse a binary cache of parsed years.
    synthetic_countries : int, optional
        Testing aid: a synthetic world of the grouping's countries plus others
        up to this many countries (RoW included), instead of the full 190.
    overwrite : bool
        Replace ``output`` when it holds a previous mrioflow run (never a
        folder mrioflow did not write).
    """

    years: tuple[int, ...] = DEFAULT_YEARS
    eora26: str | None = None
    edgar: str | None = None
    edgar_mapping: str | None = None
    pymrio: tuple[str, ...] = ()
    stressor: str = "CH4"
    satellite: str | None = None
    value_added: str = "VA"
    groups: str | None = None
    group_column: str | None = None
    convention: str = "printed"
    norm_set: str = "all"
    norm_sign: str = "signed"
    norm_quantiles: tuple[float, float] = (0.0, 1.0)
    backend: str = "auto"
    output: str = "mrioflow-output"
    seed: int = 0
    price: str = "bp"
    cache: bool = True
    synthetic_countries: int | None = None
    overwrite: bool = False
    config_file: str | None = field(default=None, repr=False)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.name != "config_file")

    @classmethod
    def build(cls, config: dict | None = None, overrides: dict | None = None) -> Settings:
        """Defaults, then the configuration file's values, then ``overrides`` (not None)."""
        values: dict = {}
        for source in (config or {}, overrides or {}):
            for k, v in source.items():
                if v is not None:
                    values[k] = v
        unknown = sorted(set(values) - set(cls.keys()) - {"config_file"})
        if unknown:
            raise OptionError(f"unknown setting(s): {', '.join(unknown)}; valid: {', '.join(cls.keys())}")
        s = cls(**values)
        s.validate()
        return s

    @property
    def source(self) -> str:
        """Where the tables come from: "eora26", "pymrio" or "synthetic"."""
        if self.eora26:
            return "eora26"
        if self.pymrio:
            return "pymrio"
        return "synthetic"

    def validate(self) -> None:
        """Check every setting; normalise types. Raises OptionError naming the setting."""
        years = self.years
        if isinstance(years, (int, str)):
            years = [years]
        try:
            years = tuple(int(y) for y in years)
        except (TypeError, ValueError):
            raise OptionError(f"years must be whole numbers, got {self.years!r}") from None
        if not years:
            raise OptionError("years must name at least one year")
        if len(set(years)) != len(years):
            raise OptionError(f"years must not repeat, got {list(years)}")
        self.years = years
        if isinstance(self.pymrio, (str, os.PathLike)):
            self.pymrio = (self.pymrio,)
        self.pymrio = tuple(str(p) for p in self.pymrio)
        for name in ("eora26", "edgar", "edgar_mapping", "groups", "group_column", "output", "stressor", "value_added"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, (str, os.PathLike)):
                raise OptionError(f"{name} must be a string, got {v!r}")
            if v is not None:
                setattr(self, name, str(v))
        check_option("convention", self.convention, CONVENTIONS)
        check_option("norm_set", self.norm_set, NORM_SETS)
        check_option("norm_sign", self.norm_sign, NORM_SIGNS)
        self.norm_quantiles = check_quantiles(self.norm_quantiles)
        for name in ("stressor", "value_added"):
            check_file_name(name, getattr(self, name))
        check_option("backend", self.backend, BACKEND_NAMES)
        check_option("price", self.price, PRICES)
        if self.eora26 and self.pymrio:
            raise OptionError("give either eora26 or pymrio as the data source, not both")
        if self.edgar and self.source == "synthetic":
            raise OptionError("edgar needs a real table to attach to: give eora26 (or pymrio) as well")
        if self.edgar_mapping and not self.edgar:
            raise OptionError("edgar_mapping maps an EDGAR file's sources: give edgar as well")
        if self.satellite is not None:
            if self.source != "eora26":
                raise OptionError("satellite picks rows of an Eora26 table's labels_Q.txt: give eora26 as well")
            name, _ = satellite_option(self.satellite)
            if self.stressor not in ("CH4", name):
                raise OptionError(f"stressor {self.stressor!r} and satellite {self.satellite!r} name two stressors; "
                                  f"write satellite = '{self.stressor}=PATTERN' to analyse its rows as {self.stressor}")
            self.stressor = name
        if self.stressor == self.value_added:
            raise OptionError(f"stressor and value_added must differ, both are {self.stressor!r}")
        for name in ("seed", "synthetic_countries"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                raise OptionError(f"{name} must be a whole number, got {v!r}")
        for name in ("cache", "overwrite"):
            if not isinstance(getattr(self, name), bool):
                raise OptionError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if not self.output.strip():
            raise OptionError("output must name a folder, got an empty string")
        if self.synthetic_countries is not None and self.synthetic_countries < 2:
            raise OptionError(f"synthetic_countries must be at least 2, got {self.synthetic_countries}")

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["years"] = list(self.years)
        d["pymrio"] = list(self.pymrio)
        d["norm_quantiles"] = list(self.norm_quantiles)
        return d


def load_config(path: str | os.PathLike) -> dict:
    """Read a TOML configuration file into a dict of settings (relative paths resolved).

    Raises
    ------
    MissingDataError
        The file does not exist.
    ReaderError
        Not valid TOML (the message names the file and the parser's line).
    OptionError
        An unknown setting (the message lists the valid ones).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"configuration file not found: {path}")
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ReaderError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ReaderError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    table = raw.get("run", raw) if isinstance(raw.get("run"), dict) else raw
    values = {str(k).replace("-", "_"): v for k, v in table.items()}
    unknown = sorted(set(values) - set(Settings.keys()))
    if unknown:
        raise OptionError(
            f"{path}: unknown setting(s): {', '.join(unknown)}; valid: {', '.join(Settings.keys())}"
        )
    base = path.resolve().parent
    for key in PATH_KEYS:
        v = values.get(key)
        if isinstance(v, str):
            values[key] = str(base / v)
        elif isinstance(v, list):
            values[key] = [str(base / p) if isinstance(p, str) else p for p in v]
    values["config_file"] = str(path)
    return values
