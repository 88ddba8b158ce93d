"""The one registry of mobility models: the name a scenario writes to the class. A new model is one line here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from offload.errors import ParameterError
from simulator.mobility.models import GaussMarkov, MobilityModel, RandomDirection, RandomWaypoint, Static
from simulator.mobility.trace import Trace

MOBILITY_MODELS: dict[str, Callable[..., MobilityModel]] = {
    "static": Static,
    "random_waypoint": RandomWaypoint,
    "random_direction": RandomDirection,
    "gauss_markov": GaussMarkov,
    "trace": Trace,
}


def mobility_model(name: str, **parameters: Any) -> MobilityModel:
    """The model called ``name`` built from ``parameters``; an unknown name lists the valid ones."""
    try:
        factory = MOBILITY_MODELS[name]
    except KeyError:
        raise ParameterError("mobility.model", name,
                             f"unknown mobility model; choose one of {', '.join(MOBILITY_MODELS)}") from None
    return factory(**parameters)
