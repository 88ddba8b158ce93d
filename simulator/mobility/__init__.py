"""Devices that move (above the simulator core, below the scenario): mobility models stepping every device of a
group at once on a metric plane, trace replay, the controller that attaches devices to cells, hands them over
and gives them their radio rates during a run (:class:`Mobility`, passed to :func:`simulator.run.run`), and the
sessions of stateful services that migrate after their users (:class:`Migration`)."""

from simulator.mobility.controller import MOBILITY_COLUMNS, Mobility, MobilityRun
from simulator.mobility.migration import MIGRATION_POLICIES, Migration, MigrationOption, MigrationPolicy
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
from simulator.mobility.spec import Cell, GroupMotion, HandoverRule
from simulator.mobility.trace import Trace

__all__ = [
    "MIGRATION_POLICIES",
    "MOBILITY_COLUMNS",
    "MOBILITY_MODELS",
    "Area",
    "Cell",
    "GaussMarkov",
    "GroupMotion",
    "HandoverRule",
    "Migration",
    "MigrationOption",
    "MigrationPolicy",
    "Mobility",
    "MobilityModel",
    "MobilityRun",
    "Motion",
    "RandomDirection",
    "RandomWaypoint",
    "Static",
    "Trace",
    "mobility_model",
    "reflect",
]
