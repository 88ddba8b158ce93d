"""The local/edge Wardrop split against closed forms (no transfer delay: both conditions are linear in x) and a
brute-force grid over the split."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from offload.errors import InfeasibleError, ParameterError
from offload.wardrop import split_delays, wardrop_split


def grid_mean_delay(lam: float, mu_l: float, mu_e: float, n: int, d: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(0.0, 1.0, 200_001)
    local, edge = (1 - x) * lam, n * x * lam
    with np.errstate(divide="ignore"):
        t_local = np.where(local < mu_l, 1 / (mu_l - local), np.inf)
        t_edge = d + np.where(edge < mu_e, 1 / (mu_e - edge), np.inf)
    mean = np.where(x < 1, (1 - x) * t_local, 0) + np.where(x > 0, x * t_edge, 0)
    return x, mean


@pytest.mark.parametrize(("lam", "mu_l", "mu_e", "n"), [(1.0, 1.5, 8.0, 10), (2.0, 2.5, 5.0, 3), (1.0, 3.0, 2.5, 1)])
def test_interior_solutions_match_the_closed_forms_without_transfer_delay(lam: float, mu_l: float, mu_e: float,
                                                                         n: int) -> None:
    result = wardrop_split(lam, mu_l, mu_e, n)
    selfish = (mu_e - mu_l + lam) / (lam * (1 + n))  # mu_l - (1-x) lam = mu_e - n x lam
    social = ((math.sqrt(mu_l) * mu_e - math.sqrt(mu_e) * mu_l + math.sqrt(mu_e) * lam)
              / (lam * (math.sqrt(mu_e) + n * math.sqrt(mu_l))))  # equal marginal delays mu/(mu - load)^2
    assert 0 < selfish < 1
    assert 0 < social < 1
    assert result.selfish.edge_fraction == pytest.approx(selfish, rel=1e-9)
    assert result.social.edge_fraction == pytest.approx(social, rel=1e-9)
    assert result.selfish.local_delay_s == pytest.approx(result.selfish.edge_delay_s, rel=1e-9)
    assert result.price_of_anarchy >= 1.0


def test_symmetric_single_device_splits_half_and_half_both_ways() -> None:
    result = wardrop_split(1.0, 2.0, 2.0, 1)
    assert result.selfish.edge_fraction == pytest.approx(0.5)
    assert result.social.edge_fraction == pytest.approx(0.5)
    assert result.selfish.mean_delay_s == pytest.approx(1 / 1.5)
    assert result.price_of_anarchy == pytest.approx(1.0)


def test_pigou_like_case_selfish_tasks_flood_the_edge() -> None:
    """A fast, shared edge behind a transfer delay: selfishly every task goes there; the optimum keeps some local,
    and the grid agrees on both the optimum and the equilibrium's cost."""
    lam, mu_l, mu_e, n, d = 1.0, 1.5, 12.0, 10, 0.05
    result = wardrop_split(lam, mu_l, mu_e, n, d)
    assert result.selfish.edge_fraction == 1.0
    assert result.selfish.edge_delay_s <= result.selfish.local_delay_s  # nobody wants to switch back
    x, mean = grid_mean_delay(lam, mu_l, mu_e, n, d)
    assert result.social.mean_delay_s == pytest.approx(mean.min(), rel=1e-6)
    assert result.social.edge_fraction == pytest.approx(x[np.argmin(mean)], abs=1e-4)
    assert result.selfish.mean_delay_s == pytest.approx(d + 1 / (mu_e - n * lam))
    assert result.price_of_anarchy == pytest.approx(result.selfish.mean_delay_s / mean.min(), rel=1e-6)
    assert result.price_of_anarchy > 1.2


@settings(max_examples=80)  # each example solves two root problems through the Erlang-C based M/M/1 formula
@given(lam=st.floats(0.1, 10), mu_l=st.floats(0.1, 10), mu_e=st.floats(0.5, 100), n=st.integers(1, 30),
       d=st.floats(0.0, 2.0))
def test_equilibrium_and_optimum_properties(lam: float, mu_l: float, mu_e: float, n: int, d: float) -> None:
    assume(n * lam < 0.95 * (n * mu_l + mu_e))
    assume(min(1.0, mu_e / (n * lam)) - max(0.0, 1 - mu_l / lam) > 1e-3)
    result = wardrop_split(lam, mu_l, mu_e, n, d)
    selfish, social = result.selfish, result.social
    x = selfish.edge_fraction
    if 1e-6 < x < 1 - 1e-6:
        assert selfish.local_delay_s == pytest.approx(selfish.edge_delay_s, rel=1e-6)
    elif x <= 1e-6:
        assert selfish.edge_delay_s >= selfish.local_delay_s * (1 - 1e-6)
    else:
        assert selfish.local_delay_s >= selfish.edge_delay_s * (1 - 1e-6)
    assert social.mean_delay_s <= selfish.mean_delay_s * (1 + 1e-9)
    assert result.price_of_anarchy >= 1 - 1e-9
    for probe in np.linspace(0, 1, 11):
        other = split_delays(float(probe), lam, mu_l, mu_e, n, d).mean_delay_s
        assert social.mean_delay_s <= other * (1 + 1e-9)


def test_overload_and_bad_parameters_are_refused() -> None:
    with pytest.raises(InfeasibleError, match="no stable split"):
        wardrop_split(3.0, 1.0, 5.0, 4)
    with pytest.raises(ParameterError, match=r"local_rate_per_s=0\.0: must be finite and > 0"):
        wardrop_split(1.0, 0.0, 5.0, 4)
    with pytest.raises(ParameterError, match="devices=0"):
        wardrop_split(1.0, 1.0, 5.0, 0)
