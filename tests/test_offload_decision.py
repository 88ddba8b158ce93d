"""Decisions: deadlines, ties, infeasible targets, and the fused batch path against the general path."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from offload import (
    CostInputs,
    EnergyView,
    Objective,
    ParameterError,
    Preference,
    cost_arrays,
    decide,
    decide_batch,
    evaluate_costs,
)
from offload.decision import select


def _costs(local_s, remote_s, **kwargs):
    return evaluate_costs(local_compute_s=local_s, input_bits=np.zeros(len(local_s)),
                          output_bits=np.zeros(len(local_s)), remote_compute_s=remote_s,
                          uplink_bps=np.full(len(remote_s), 1e9), **kwargs)


def test_targets_missing_the_deadline_are_excluded():
    # energy prefers the slow cloud (0 W server, system view), but it misses the 1 s deadline: the edge wins
    costs = _costs([5.0], [0.5, 2.0], server_compute_power_w=[10.0, 0.0], device_compute_power_w=1.0,
                   target_names=["edge", "cloud"])
    energy = Preference(Objective.ENERGY, EnergyView.SYSTEM)
    assert decide(costs, energy).chosen_names == ["cloud"]
    result = decide(costs, energy, deadline_s=1.0)
    assert result.chosen_names == ["edge"]
    assert result.meets_deadline.tolist() == [[False, True, False]]
    assert not result.deadline_missed[0]


def test_when_no_option_meets_the_deadline_the_fastest_is_chosen_and_flagged():
    costs = _costs([5.0, 0.1], [0.5, 2.0])
    result = decide(costs, Preference(Objective.ENERGY), deadline_s=[0.2, 0.2])
    assert result.choice.tolist() == [1, 0]
    assert result.deadline_missed.tolist() == [True, False]


def test_an_unstable_queue_is_never_chosen_even_without_a_deadline():
    # infinite wait: latency inf; the system-energy view ignores waiting, so only the deadline rule excludes it
    costs = _costs([5.0], [0.1], wait_s=[math.inf], device_compute_power_w=1.0)
    result = decide(costs, Preference(Objective.ENERGY, EnergyView.SYSTEM))
    assert result.chosen_names == ["local"]
    assert not result.deadline_missed[0]


def test_ties_go_to_local_then_to_the_first_target():
    costs = _costs([1.0, 2.0], [1.0, 1.0])
    assert decide(costs).choice.tolist() == [0, 1]


def test_select_rejects_too_many_options():
    with pytest.raises(ParameterError, match="at most 127 options"):
        select([np.zeros(1)] * 128, [np.zeros(1)] * 128, None, 1)


def test_batch_rejects_bad_chunk_size():
    with pytest.raises(ParameterError, match="chunk_size=0: must be >= 1"):
        decide_batch(CostInputs(), chunk_size=0)


preferences = st.sampled_from([
    Preference(Objective.LATENCY), Preference(Objective.ENERGY), Preference(Objective.ENERGY, EnergyView.SYSTEM),
    Preference(Objective.WEIGHTED, w_latency=0.5, w_energy=0.5),
    Preference(Objective.WEIGHTED, EnergyView.SYSTEM, 0.2, 3.0),
    Preference(Objective.WEIGHTED, EnergyView.DEVICE, 1.0, 1.0, normalise=True)])


@st.composite
def batches(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n, k = draw(st.integers(1, 300)), draw(st.integers(1, 4))
    per_task_deadline = draw(st.booleans())

    def task(low, high, zero_share=0.1):
        values = rng.uniform(low, high, n)
        values[rng.random(n) < zero_share] = 0.0
        return values

    wait = rng.uniform(0, 0.5, k)
    if draw(st.booleans()):
        wait[rng.integers(k)] = math.inf
    measured = draw(st.booleans())
    return CostInputs(
        work_ops=task(0, 1e10), input_bits=task(0, 1e7), output_bits=task(0, 1e5),
        deadline_s=rng.uniform(0.05, 3, n) if per_task_deadline else math.inf,
        device_speed_ops_per_s=math.inf if measured else rng.uniform(1e8, 1e10, n),
        device_time_s=task(0, 5) if measured else 0.0, device_compute_power_w=rng.uniform(0, 10),
        idle_power_w=task(0, 1), tx_power_w=rng.uniform(0, 3), rx_power_w=rng.uniform(0, 3), tail_energy_j=0.05,
        server_speed_ops_per_s=rng.uniform(1e9, 1e12, (n, k) if draw(st.booleans()) else k),
        server_time_s=rng.uniform(0, 0.01, k), server_compute_power_w=rng.uniform(0, 300, k), wait_s=wait,
        uplink_bps=rng.uniform(1e5, 1e8, k), downlink_bps=rng.uniform(1e5, 1e8, k),
        round_trip_s=rng.uniform(0, 0.1, k))


@given(batches(), preferences, st.integers(1, 97))
def test_fused_batch_path_equals_the_general_path_bit_for_bit(inputs, preference, chunk):
    general = decide(cost_arrays(inputs), preference, inputs.deadline_s)
    fused = decide_batch(inputs, preference, chunk_size=chunk, keep_options=True)
    np.testing.assert_array_equal(fused.choice, general.choice)
    np.testing.assert_array_equal(fused.deadline_missed, general.deadline_missed)
    np.testing.assert_array_equal(fused.latency_s, general.chosen(general.costs.latency_s))
    energy = preference.energy_j(general.costs)
    np.testing.assert_array_equal(fused.energy_j, general.chosen(energy))
    np.testing.assert_array_equal(fused.option_latency_s, general.costs.latency_s)
    finite = np.isfinite(general.costs.latency_s)  # NaN energy only on infinite-wait (infeasible) options
    np.testing.assert_array_equal(fused.option_energy_j[finite], energy[finite])


@given(batches(), preferences)
def test_decision_is_an_argmin_over_options_that_meet_the_deadline(inputs, preference):
    # independent check with plain Python loops over the general path's arrays
    result = decide(cost_arrays(inputs), preference, inputs.deadline_s)
    latency, score = result.costs.latency_s, result.score
    deadline = np.broadcast_to(inputs.deadline_s, (inputs.n_tasks,))
    for i in range(inputs.n_tasks):
        feasible = [j for j in range(latency.shape[1]) if latency[i, j] <= deadline[i] and math.isfinite(latency[i, j])]
        if feasible:
            best = min(feasible, key=lambda j: (score[i, j], j))
            assert not result.deadline_missed[i]
        else:
            best = min(range(latency.shape[1]), key=lambda j: (latency[i, j], j))
            assert result.deadline_missed[i]
        assert result.choice[i] == best


@given(st.lists(st.tuples(st.floats(0, 10), st.floats(0, 10)), min_size=1, max_size=5),
       st.one_of(st.just(math.inf), st.floats(0.1, 10)))
def test_select_one_is_select_for_one_task(options, deadline_s):
    from offload.decision import select, select_one

    scores = [score for score, _ in options]
    latencies = [latency for _, latency in options]
    choice, missed, _ = select(scores, latencies, deadline_s, 1)
    assert select_one(scores, latencies, deadline_s) == (int(choice[0]), bool(missed[0]))
