"""``mecsim place --simulate``: each placement's predicted mean latency next to its simulated one.

Truth for the world a placement file describes: with one M/M/k pool per placed (service, node) and Poisson groups,
the simulated mean must match the model's prediction within the simulation's own interval (4 half-widths); the
prediction itself is recomputed here from the JSON result (the checker's terms).
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from simulator.cli import main


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout + result.stderr


def test_simulate_prints_prediction_next_to_the_measurement() -> None:
    code, out = _invoke("place", "place-small", "--policy", "greedy", "--simulate", "--duration", "300s")
    assert code == 0, out
    header = next(line for line in out.splitlines() if line.startswith("solver") and "predicted ms" in line)
    assert "simulated ms" in header
    assert "± 95 % ms" in header
    row = next(line for line in out.splitlines() if line.startswith("greedy ") and "%" in line)
    assert len(row.split()) == 7


def test_simulate_json_agrees_with_the_result_and_its_interval() -> None:
    code, out = _invoke("place", "place-small", "--policy", "greedy", "--simulate", "--duration", "400s", "--json")
    assert code == 0, out
    document = json.loads(out)
    (result,) = document["results"]
    (simulated,) = document["simulated"]
    assert simulated["solver"] == "greedy"
    assert simulated["predicted_latency_s"] == result["objective"]["mean_latency_s"]
    assert simulated["tasks"] > 10_000
    assert abs(simulated["simulated_latency_s"] - simulated["predicted_latency_s"]) <= 4 * simulated["ci95_s"]


def test_a_duration_not_longer_than_the_warmup_is_a_one_line_error() -> None:
    code, out = _invoke("place", "melbourne", "--policy", "greedy", "--simulate", "--duration", "10s")
    assert code == 2
    assert "must be longer than the warm-up (20 s)" in out
