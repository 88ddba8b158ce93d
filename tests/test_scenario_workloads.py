"""The workload registry drives the schema: every registered kind is named in the error for an unknown kind, and
a kind's section builds the simulator's arrival process with its SI values."""

from __future__ import annotations

import typing

import pytest

from simulator.scenario import ScenarioError, scenario_from_dict
from simulator.scenario.workloads import WORKLOADS
from simulator.workloads import OnOff


def _scenario(workload: dict[str, object]) -> dict[str, object]:
    return {
        "name": "w", "run": {"duration": "10 s"}, "services": [{"name": "s", "work": "1G"}],
        "access_points": [{"name": "ap", "uplink": "10 Mbps"}],
        "devices": [{"name": "d", "profile": {"speed": "1 GHz"}, "access_point": "ap", "workload": workload}],
        "policies": ["always_local"],
    }


def test_an_unknown_kind_lists_every_registered_kind() -> None:
    kinds = [typing.get_args(cls.model_fields["kind"].annotation)[0] for cls in WORKLOADS]
    assert len(set(kinds)) == len(kinds) == 5
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(_scenario({"kind": "bursty", "rate": "1/s"}))
    message = str(caught.value)
    assert "devices[0].workload" in message
    assert all(repr(kind) in message or kind in message for kind in kinds), message


def test_a_registered_kind_builds_its_arrival_process_in_si() -> None:
    workload = {"kind": "onoff", "rate_on": "6/min", "mean_on": "2 min", "mean_off": "30 s"}
    built = scenario_from_dict(_scenario(workload)).world.device_groups[0].workload
    assert isinstance(built, OnOff)
    assert built.mean_rate_per_s == pytest.approx(0.1 * 120 / 150)  # on a fraction 120/(120+30) of the time
