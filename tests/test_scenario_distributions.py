"""Distributions and renewal workloads in scenario files: each kind builds the simulator's object in SI units, and a
broken one is reported at its file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.families import BoundedPareto, Gamma, Geometric, Mixture, Weibull
from simulator.scenario import ScenarioError, load_scenario
from simulator.workloads import Renewal

TEMPLATE = """\
name: dist
run: {{duration: 10 s}}
services:
  - name: s
    work: {work}
access_points: [{{name: ap, uplink: 10 Mbps}}]
nodes: [{{name: e, speed: 1 Gops/s, location: ap}}]
devices:
  - name: d
    profile: {{speed: 1 GHz}}
    access_point: ap
    workload: {workload}
policies: [always_edge]
"""


def _load(tmp_path: Path, work: str, workload: str = "{kind: poisson, rate: 1/s}") -> object:
    path = tmp_path / "dist.yaml"
    path.write_text(TEMPLATE.format(work=work, workload=workload), encoding="utf-8")
    return load_scenario(str(path))


@pytest.mark.parametrize(("work", "kind", "mean"), [
    ("{distribution: erlang, k: 3, mean: 3 Gops}", Gamma, 3e9),
    ("{distribution: gamma, shape: 0.5, mean: 2 Gops}", Gamma, 2e9),
    ("{distribution: weibull, shape: 2, mean: 1 Gops}", Weibull, 1e9),
    ("{distribution: pareto, alpha: 1.5, low: 1 Gops, high: 100 Gops}", BoundedPareto, None),
    ("{distribution: hyperexponential, means: [1 Gops, 9 Gops], weights: [3, 1]}", Mixture, 3e9),
    ("{distribution: mixture, components: [1 Gops, {distribution: exponential, mean: 3 Gops}], weights: [1, 1]}",
     Mixture, 2e9),
])
def test_each_size_kind_builds_its_distribution_in_si(tmp_path: Path, work: str, kind: type, mean: float | None
                                                      ) -> None:
    built = _load(tmp_path, work).world.device_groups[0].task.work_ops  # type: ignore[attr-defined]
    assert isinstance(built, kind)
    if mean is not None:
        assert built.mean == pytest.approx(mean)


def test_a_renewal_workload_with_batches(tmp_path: Path) -> None:
    workload = ("{kind: renewal, interarrival: {distribution: erlang, k: 2, mean: 500 ms}, batch: "
                "{distribution: geometric, mean: 2}}")
    built = _load(tmp_path, "1 Gops", workload).world.device_groups[0].workload  # type: ignore[attr-defined]
    assert isinstance(built, Renewal)
    assert isinstance(built.batch, Geometric)
    assert built.mean_rate_per_s == pytest.approx(4.0)


@pytest.mark.parametrize(("work", "workload", "message"), [
    ("{distribution: pareto, alpha: 2, low: 5 Gops, high: 1 Gops}", None,
     "dist.yaml:5: services[0].work.pareto: high: must be > low"),
    ("{distribution: hyperexponential, means: [1 Gops, 2 Gops], weights: [1]}", None,
     "dist.yaml:5: services[0].work.hyperexponential: weights: needs one weight per component (2)"),
    ("{distribution: weibull, shape: 0, mean: 1 Gops}", None, "dist.yaml:5: services[0].work.shape: 0: must be >= 0.1"),
    ("1 Gops", "{kind: renewal, interarrival: 0 s}", "dist.yaml:12: devices[0].workload.renewal: interarrival"),
    ("1 Gops", "{kind: renewal, interarrival: 1 s, batch: 0}",
     "dist.yaml:12: devices[0].workload.batch: 0: must be >= 1"),
    ("1 Gops", "{kind: renewal, interarrival: 1 s, batch: {distribution: exponential, mean: 2}}",
     "dist.yaml:12: devices[0].workload.batch.distribution: \"exponential\": unknown kind 'exponential'"),
])
def test_a_broken_distribution_is_reported_at_its_line(tmp_path: Path, work: str, workload: str | None,
                                                       message: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)):
        _load(tmp_path, work, workload or "{kind: poisson, rate: 1/s}")
