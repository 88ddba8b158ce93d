"""Devices that move (above the simulator core, below the scenario): mobility models stepping every device of a
group at once on a metric plane, and trace replay."""

from simulator.mobility.models import (
    Area,
    GaussMarkov,
    MobilityModel,
    Motion,
    RandomDirection,
    RandomWaypoint,
    Static,
    reflect,
)
from simulator.mobility.registry import MOBILITY_MODELS, mobility_model
from simulator.mobility.trace import Trace

__all__ = ["MOBILITY_MODELS", "Area", "GaussMarkov", "MobilityModel", "Motion", "RandomDirection", "RandomWaypoint",
           "Static", "Trace", "mobility_model", "reflect"]
