"""The one registry of mobility models: the name a scenario writes to the class. A new model is one line here.
:func:`build` looks a name up in a registry (the migration policies' too)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from offload.errors import ParameterError
from simulator.mobility.models import GaussMarkov, MobilityModel, RandomDirection, RandomWaypoint, Static
from simulator.mobility.trace import Trace

T = TypeVar("T")

MOBILITY_MODELS: dict[str, Callable[..., MobilityModel]] = {
    "static": Static,
    "random_waypoint": RandomWaypoint,
    "random_direction": RandomDirection,
    "gauss_markov": GaussMarkov,
    "trace": Trace,
}


def build(registry: Mapping[str, Callable[..., T]], where: str, kind: str, name: str, **parameters: Any) -> T:
    """``registry[name](**parameters)``; an unknown name is a :class:`ParameterError` at ``where`` listing the valid
    names of the ``kind``."""
    try:
        factory = registry[name]
    except KeyError:
        raise ParameterError(where, name, f"unknown {kind}; choose one of {', '.join(registry)}") from None
    return factory(**parameters)


def mobility_model(name: str, **parameters: Any) -> MobilityModel:
    """The model called ``name`` built from ``parameters``; an unknown name lists the valid ones."""
    return build(MOBILITY_MODELS, "mobility.model", "mobility model", name, **parameters)
