"""What both environments are built from: a scenario's World (placed, as ``simulate`` places it), its horizon,
the reward's objective and the episode session with its cost meter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from offload.decision import EnergyView, Objective, Preference
from offload.errors import ParameterError
from offload.validate import check_positive
from simulator.rl.reward import CostMeter
from simulator.rl.session import Session
from simulator.run import layout_of
from simulator.scenario import Scenario, load_scenario, placed_world
from simulator.world import World


def load_world(scenario: str | Path | Scenario, overrides: Sequence[str] = ()) -> tuple[Scenario, World]:
    """A scenario by bundled name, path or object, and its World placed as ``mecsim simulate`` places it."""
    if isinstance(scenario, Scenario) and overrides:
        raise ParameterError("overrides", list(overrides), "apply them when loading (load_scenario(path, overrides))")
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, overrides)
    placed = placed_world(loaded)
    return loaded, loaded.world if placed is None else placed.world


def preference(objective: str, w_latency: float, w_energy: float) -> Preference:
    """The reward's objective, as :mod:`offload.decision` scores options (device energy, un-normalised)."""
    try:
        chosen = Objective(objective)
    except ValueError:
        valid = ", ".join(o.value for o in Objective)
        raise ParameterError("objective", objective, f"must be one of {valid}") from None
    return Preference(chosen, EnergyView.DEVICE, w_latency, w_energy)


@dataclass(slots=True)
class Setup:
    """A World's episodes: the session, its cost meter (one account per agent) and the horizon."""

    world: World
    session: Session
    costs: CostMeter
    duration_s: float


def build(scenario: str | Path | Scenario | World, overrides: Sequence[str], *, duration_s: float | None,
          objective: str, w_latency: float, w_energy: float, drop_cost: float, records: bool,
          agents: Callable[[World], list[int]] | None = None) -> Setup:
    """Load the scenario (or take a World built in code: then ``duration_s`` is required and nothing is warm-up)
    and prepare its episodes; ``agents(world)[i]`` is the agent (0, 1, ...) of device ``i`` (default: one for all)."""
    if isinstance(scenario, World):
        if duration_s is None:
            raise ParameterError("duration_s", None, "is required with a World (a scenario file gives run.duration)")
        if overrides:
            raise ParameterError("overrides", list(overrides), "apply only to scenario files")
        world, warmup_s, horizon_s = scenario, 0.0, check_positive("duration_s", duration_s)
        platform = None
    else:
        loaded, world = load_world(scenario, overrides)
        if isinstance(loaded.run.warmup_s, str):
            raise ParameterError("run.warmup", loaded.run.warmup_s, "must be a time for an RL session (auto detects "
                                 "the warm-up from a whole simulated run)")
        warmup_s = loaded.run.warmup_s
        platform = loaded.platform
        horizon_s = loaded.run.duration_s if duration_s is None else check_positive("duration_s", duration_s)
    if horizon_s <= warmup_s:
        raise ParameterError("duration_s", horizon_s, f"must be longer than run.warmup ({warmup_s:g} s)")
    owners = [0] * world.n_devices if agents is None else agents(world)
    costs = CostMeter(preference(objective, w_latency, w_energy), layout_of(world), owners, max(owners, default=0) + 1,
                      drop_cost)
    session = Session(world, duration_s=horizon_s, warmup_s=warmup_s, records=records, on_finished=costs.add,
                      platform=platform)
    return Setup(world, session, costs, horizon_s)
