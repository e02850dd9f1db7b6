"""Input groups: one factor scaling a selection of one kind of input."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import OptionError
from ..experiments.scenario import Scenario
from ..mrio import MRIO
from ..regions import as_regions

__all__ = ["KINDS", "InputGroup", "groups_by"]

#: kind -> the Scenario method that scales it, and the selectors it takes
KINDS = {
    "intensity": ("scale_intensity", ("stressor", "country", "region", "sector")),
    "final_demand": (
        "scale_final_demand",
        ("consumer", "consumer_region", "category", "product", "origin", "origin_region"),
    ),
    "technology": (
        "scale_technology",
        ("origin", "origin_region", "product", "buyer", "buyer_region", "buyer_sector"),
    ),
}


@dataclass(frozen=True)
class InputGroup:
    """Inputs of one ``kind`` selected by ``selectors`` (the keys of the matching
    :class:`~mrioflow.Scenario` method), all scaled by one factor theta (1 at the base).

    >>> InputGroup("china-ag-ch4", "intensity", {"stressor": "CH4", "country": "CHN", "sector": "Agriculture"})
    """

    name: str
    kind: str
    selectors: dict = field(default_factory=dict)
    groups: object = field(default=None, compare=False)  # the grouping region selectors name

    def __post_init__(self):
        if self.kind not in KINDS:
            raise OptionError(f"input group {self.name!r}: unknown kind {self.kind!r}; choose from {tuple(KINDS)}")
        allowed = KINDS[self.kind][1]
        bad = [k for k in self.selectors if k not in allowed]
        if bad:
            raise OptionError(f"input group {self.name!r}: unknown selector(s) {bad} for {self.kind}; use {allowed}")

    def scenario(self, factor: float) -> Scenario:
        """The group's inputs times ``factor`` as a Scenario."""
        method = getattr(Scenario(self.name, groups=self.groups), KINDS[self.kind][0])
        return method(float(factor), **self.selectors)


def groups_by(mrio: MRIO, kind: str, by: str, *, stressor: str = "CH4", groups=None, **selectors) -> list[InputGroup]:
    """One group per country, region (of ``groups``, default BRI) or sector.

    ``by``: "country", "region" or "sector". For intensities the selection is the producing
    country/sector; final demand, the consuming country (its region) or the product;
    technology, the buying country (its region) or the product (row of A).
    """
    key = {
        ("intensity", "country"): "country",
        ("intensity", "region"): "region",
        ("intensity", "sector"): "sector",
        ("final_demand", "country"): "consumer",
        ("final_demand", "region"): "consumer_region",
        ("final_demand", "sector"): "product",
        ("technology", "country"): "buyer",
        ("technology", "region"): "buyer_region",
        ("technology", "sector"): "product",
    }.get((kind, by))
    if key is None:
        raise OptionError(f"groups_by: kind must be one of {tuple(KINDS)} and by one of country, region, sector")
    if by == "country":
        labels = list(mrio.countries)
    elif by == "sector":
        labels = list(mrio.sectors)
    else:
        labels = list(as_regions(groups).groups)
    extra = {"stressor": stressor} if kind == "intensity" else {}
    return [InputGroup(f"{kind}:{label}", kind, {**extra, **selectors, key: label}, groups=groups) for label in labels]
