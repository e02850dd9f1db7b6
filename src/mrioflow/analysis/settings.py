"""Settings of one analysis run, and the TOML configuration file that holds them.

A configuration file holds the same settings as the command line, under a
``[run]`` table or at the top level, with the option names spelled with
underscores or hyphens::

    [run]
    data = "data/eora26"            # any source mrioflow.io.read opens (a list: several)
    format = "eora26"               # optional: the reader's name (default: recognised)
    years = [2013, 2021]
    edgar = "data/EDGAR_CH4_1970_2022.xlsx"
    stressor = "CH4"
    groups = "my_regions.csv"       # iso3 + a group column; default: the 62 BRI countries
    convention = "printed"
    norm_set = "all"
    norm_sign = "signed"
    backend = "auto"
    precision = "double"            # or "mixed": a float32 LU refined to float64 accuracy
    output = "results"

    [run.options]                   # options of the reader, e.g. Eora26's
    price = "pp"

The older keys ``eora26 = PATH`` and ``pymrio = [FOLDERS]`` are still accepted
(they mean ``data`` with that format). Relative paths in the file are relative
to the file's own folder. Command-line flags override the file.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .._checks import check_seed, check_year
from ..engine.backend import BACKEND_NAMES, PRECISIONS
from ..errors import MissingDataError, OptionError, ReaderError
from ..indices import NORM_SETS
from ..io import registry
from ..io.eora26 import satellite_option
from ..kernels.indices import CONVENTIONS, NORM_SIGNS, check_option, check_quantiles

__all__ = ["DEFAULT_YEARS", "Settings", "load_config"]

DEFAULT_YEARS = (2013, 2021)
PRICES = ("bp", "pp")
PATH_KEYS = ("data", "eora26", "edgar", "edgar_mapping", "pymrio", "groups", "output")
ALIASES = {"eora26": "eora26", "pymrio": "pymrio"}
"""Older data-source settings: ``eora26 = PATH`` is ``data = PATH, format = "eora26"``."""


@dataclass
class Settings:
    """Everything one ``mrioflow run`` needs.

    Attributes
    ----------
    years : tuple of int
        Years to analyse (default 2013 and 2021), read from each yearly source
        (Eora26, the synthetic world). Ignored for one-table sources (a pymrio
        folder, a cache file), whose tables carry their own year.
    data : tuple of str
        The data: paths that :func:`mrioflow.io.read` opens (one table, or one
        per year, each). Empty: the synthetic world. The older settings
        ``eora26`` (a path) and ``pymrio`` (folders) are accepted as aliases.
    format : str, optional
        The reader's name (``mrioflow.io.list_readers()``); default: the one
        reader that recognises each path ("synthetic" without data).
    options : dict
        More options of the reader (its keyword options, e.g. ``keep_row``).
    edgar : str, optional
        An EDGAR CH4 file; replaces the table's ``stressor`` by EDGAR's
        emissions mapped to the Eora26 sectors.
    edgar_mapping : str, optional
        A CSV mapping EDGAR sources to Eora26 sectors (the layout of the bundled
        ``edgar_ch4_to_eora26.csv``); default: the bundled mapping.
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
    seed : int, optional
        Seed of the synthetic world (its reader option ``seed``).
    price : str, optional
        Eora26 price basis, "bp" or "pp" (its reader option ``price``).
    cache : bool
        Let readers that cache by default (Eora26) keep and reuse a binary
        cache of parsed tables; False: no cache.
    aggregate_regions : dict of str to str
        For databases with aggregate regions (EXIOBASE 3's WA, WE, WF, WL, WM):
        region code -> group, counting the whole aggregate region as a member of
        that group (a modelling choice, stated in the report). Default: none;
        grouping countries inside an aggregate are named as unresolved.
    synthetic_countries : int, optional
        Testing aid: a synthetic world of the grouping's countries plus others
        up to this many countries (RoW included), instead of the full 190.
    overwrite : bool
        Replace ``output`` when it holds a previous mrioflow run (never a
        folder mrioflow did not write).
    """

    years: tuple[int, ...] = DEFAULT_YEARS
    data: tuple[str, ...] = ()
    format: str | None = None
    options: dict = field(default_factory=dict)
    edgar: str | None = None
    edgar_mapping: str | None = None
    stressor: str = "CH4"
    satellite: str | None = None
    value_added: str = "VA"
    groups: str | None = None
    group_column: str | None = None
    aggregate_regions: dict = field(default_factory=dict)
    convention: str = "printed"
    norm_set: str = "all"
    norm_sign: str = "signed"
    norm_quantiles: tuple[float, float] = (0.0, 1.0)
    backend: str = "auto"
    precision: str = "double"
    output: str = "mrioflow-output"
    seed: int | None = None
    price: str | None = None
    cache: bool = True
    synthetic_countries: int | None = None
    overwrite: bool = False
    config_file: str | None = field(default=None, repr=False)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.name != "config_file")

    @classmethod
    def build(cls, config: dict | None = None, overrides: dict | None = None) -> Settings:
        """Defaults, then the configuration file's values, then ``overrides`` (not None).

        The aliases ``eora26`` and ``pymrio`` become ``data`` with that ``format``.
        """
        values: dict = {}
        for source in (config or {}, overrides or {}):
            given = {k: v for k, v in source.items() if v is not None and v != ()}
            aliased = [k for k in ALIASES if k in given]
            if len(aliased) + ("data" in given) > 1:
                raise OptionError(f"give one data source, not {' and '.join(aliased + ['data'] * ('data' in given))}")
            for k in aliased:
                given["data"], given["format"] = given.pop(k), given.get("format", ALIASES[k])
            if "data" in given:  # a data source given here replaces the one of the file
                values.pop("format", None)
            values.update(given)
        unknown = sorted(set(values) - set(cls.keys()) - {"config_file"})
        if unknown:
            raise OptionError(f"unknown setting(s): {', '.join(unknown)}; valid: {', '.join(cls.keys())}")
        s = cls(**values)
        s.validate()
        return s

    @property
    def source(self) -> str:
        """The name of the reader of the (first) data source, e.g. "eora26", "pymrio" or "synthetic"."""
        return self.data_sources()[0][1].name

    def data_sources(self) -> list[tuple[str | None, registry.Reader]]:
        """Each data path (None for the synthetic world) with the reader that reads it.

        Raises
        ------
        OptionError, MissingDataError, ReaderError
            An unknown format, a path that does not exist or that no reader (or
            several) recognises.
        """
        if not self.data:
            return [(None, registry.get_reader(self.format or "synthetic"))]
        if self.format is not None:
            reader = registry.get_reader(self.format)
            return [(p, reader) for p in self.data]
        return [(p, registry.guess_reader(p)) for p in self.data]

    def reader_options(self) -> dict:
        """The reader options: ``options`` plus ``price`` and ``seed`` when given."""
        extra = {k: getattr(self, k) for k in ("price", "seed") if getattr(self, k) is not None}
        return {**self.options, **extra}

    def validate(self) -> None:
        """Check every setting; normalise types. Raises OptionError naming the setting."""
        years = self.years
        if isinstance(years, (int, str)):
            years = [years]
        years = tuple(check_year(y, "years") for y in years)
        if not years:
            raise OptionError("years must name at least one year")
        if len(set(years)) != len(years):
            raise OptionError(f"years must not repeat, got {list(years)}")
        self.years = years
        if isinstance(self.data, (str, os.PathLike)):
            self.data = (self.data,)
        if not all(isinstance(p, (str, os.PathLike)) for p in self.data):
            raise OptionError(f"data must be a path or a list of paths, got {self.data!r}")
        self.data = tuple(str(p) for p in self.data)
        if not isinstance(self.options, dict):
            raise OptionError(f"options must be a table of reader options, got {self.options!r}")
        for name in ("format", "edgar", "edgar_mapping", "groups", "group_column", "output", "stressor", "value_added"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, (str, os.PathLike)):
                raise OptionError(f"{name} must be a string, got {v!r}")
            if v is not None:
                setattr(self, name, str(v))
        if not isinstance(self.aggregate_regions, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.aggregate_regions.items()
        ):
            raise OptionError(f"aggregate_regions must map region codes to groups, got {self.aggregate_regions!r}")
        check_option("convention", self.convention, CONVENTIONS)
        check_option("norm_set", self.norm_set, NORM_SETS)
        check_option("norm_sign", self.norm_sign, NORM_SIGNS)
        self.norm_quantiles = check_quantiles(self.norm_quantiles)
        for name in ("stressor", "value_added"):  # any name: the output folder derives safe file names
            if not getattr(self, name):
                raise OptionError(f"{name} must name a stressor, got {getattr(self, name)!r}")
        check_option("backend", self.backend, BACKEND_NAMES)
        check_option("precision", self.precision, PRECISIONS)
        if self.price is not None:
            check_option("price", self.price, PRICES)
        if self.format is not None:
            registry.get_reader(self.format)
        if self.edgar and not self.data:
            raise OptionError("edgar needs a real table to attach to: give data (e.g. an Eora26 folder) as well")
        if self.edgar_mapping and not self.edgar:
            raise OptionError("edgar_mapping maps an EDGAR file's sources: give edgar as well")
        if self.satellite is not None:
            if self.source != "eora26":
                raise OptionError("satellite picks rows of an Eora26 table's labels_Q.txt: give eora26 as well")
            name, _ = satellite_option(self.satellite)
            if self.stressor not in ("CH4", name):
                raise OptionError(
                    f"stressor {self.stressor!r} and satellite {self.satellite!r} name two stressors; "
                    f"write satellite = '{self.stressor}=PATTERN' to analyse its rows as {self.stressor}"
                )
            self.stressor = name
        if self.stressor == self.value_added:
            raise OptionError(f"stressor and value_added must differ, both are {self.stressor!r}")
        if self.seed is not None:
            self.seed = check_seed(self.seed)
        v = self.synthetic_countries
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise OptionError(f"synthetic_countries must be a whole number, got {v!r}")
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
        d["data"] = list(self.data)
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
    except UnicodeDecodeError as exc:
        raise ReaderError(f"{path}: not UTF-8 text (byte {exc.start}); a configuration file is UTF-8 TOML") from None
    except OSError as exc:
        raise ReaderError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    table = raw.get("run", raw) if isinstance(raw.get("run"), dict) else raw
    values = {str(k).replace("-", "_"): v for k, v in table.items()}
    unknown = sorted(set(values) - set(Settings.keys()) - set(ALIASES))
    if unknown:
        raise OptionError(f"{path}: unknown setting(s): {', '.join(unknown)}; valid: {', '.join(Settings.keys())}")
    base = path.resolve().parent
    for key in PATH_KEYS:
        v = values.get(key)
        if isinstance(v, str):
            values[key] = str(base / v)
        elif isinstance(v, list):
            values[key] = [str(base / p) if isinstance(p, str) else p for p in v]
    values["config_file"] = str(path)
    return values
