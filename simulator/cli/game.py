"""``mecsim game``: the multi-user offloading game of Chen et al. (IEEE/ACM ToN 2016) on a game file.

Best-response dynamics from "everyone local" to a pure Nash equilibrium (the potential is checked to fall at every
update); ``--exhaustive`` also enumerates every decision profile for all pure equilibria, the social optimum and the
price of anarchy. The file format is in :mod:`simulator.game_file` (example: ``scenarios/games/chen-small.yaml``).
"""

from __future__ import annotations

import json
from typing import Any

import click
import numpy as np

from offload.game import GameResult, OffloadGame, best_response_dynamics, local_overhead, solve_exhaustive
from simulator.game_file import load_game_file


def _summary(game: OffloadGame, result: GameResult) -> dict[str, Any]:
    return {"users": game.users, "channels": game.channels, "equilibrium": result.decision.tolist(),
            "beneficial_users": result.beneficial_users, "total_cost": result.total_overhead,
            "all_local_cost": float(local_overhead(game).sum()), "updates": result.updates,
            "potential": {"initial": float(result.potential[0]), "final": float(result.potential[-1])},
            "cost": result.overhead.tolist()}


def _exhaustive(game: OffloadGame) -> dict[str, Any]:
    found = solve_exhaustive(game)
    return {"equilibria": [{"decision": row.tolist(), "total_cost": float(cost)}
                           for row, cost in zip(found.equilibria, found.equilibrium_overhead, strict=True)],
            "social_optimum": {"decision": found.social_optimum.tolist(), "total_cost": found.optimal_overhead},
            "price_of_anarchy": found.price_of_anarchy}


def _text(name: str, data: dict[str, Any]) -> list[str]:
    decision = np.asarray(data["equilibrium"])
    lines = [f"game {name}: {data['users']} users, {data['channels']} channels",
             (f"Nash equilibrium after {data['updates']} updates (potential {data['potential']['initial']:.4g} -> "
              f"{data['potential']['final']:.4g})"),
             f"  beneficial cloud users  {data['beneficial_users']} of {data['users']}",
             f"  total cost              {data['total_cost']:.6g}  (all local: {data['all_local_cost']:.6g})",
             f"  local                   users {_users(decision == 0)}"]
    lines += [f"  channel {c:<3}             users {_users(decision == c)}" for c in range(1, data["channels"] + 1)]
    if "equilibria" in data:
        costs = [e["total_cost"] for e in data["equilibria"]]
        lines += [f"exhaustive search: {len(costs)} pure equilibria, total cost {min(costs):.6g} .. {max(costs):.6g}",
                  (f"  social optimum          {data['social_optimum']['total_cost']:.6g}  decision "
                   f"{data['social_optimum']['decision']}"),
                  f"  price of anarchy        {data['price_of_anarchy']:.4f}"]
    return lines


def _users(mask: np.ndarray) -> str:
    return ", ".join(str(i) for i in np.flatnonzero(mask)) or "-"


@click.command("game")
@click.argument("game_file", metavar="FILE.yaml", type=click.Path(dir_okay=False))
@click.option("--exhaustive", is_flag=True, help="Enumerate every profile: all pure equilibria, optimum, PoA.")
@click.option("--seed", type=int, default=None,
              help="Pick the updating user at random among the improvers (the paper's contention); "
                   "default: the lowest-indexed improver.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def command(game_file: str, exhaustive: bool, seed: int | None, as_json: bool) -> None:
    """Find a Nash equilibrium of the multi-user offloading game in FILE.yaml (users are numbered from 0; decision
    0 = local, c = channel c)."""
    case = load_game_file(game_file)
    rng = None if seed is None else np.random.default_rng(seed)
    data = {"name": case.name, **_summary(case.game, best_response_dynamics(case.game, rng=rng))}
    if exhaustive:
        data.update(_exhaustive(case.game))
    click.echo(json.dumps(data, indent=2) if as_json else "\n".join(_text(case.name, data)))
