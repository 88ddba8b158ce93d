"""Sessions that follow their users, on a deterministic trace: the device crosses from cell a to cell b at t = 10 s;
its session's state crosses the backhaul between the two sites (a - m - b) store-and-forward on the run's shared
links. Every time below is worked out by hand: on idle links the copy takes ``Σ (state_bits / b_i + d_i)`` over the
path's links, sharing a link halves each transfer's rate (processor sharing), and the policies decide on the model's
estimate ``state_bits / narrowest bandwidth + downtime_s``."""

import numpy as np
import pytest

from offload.errors import ParameterError
from offload.migration import migration_gain_s, migration_time_s
from offload.profiles import Device
from simulator.mobility import Area, Trace
from simulator.mobility.controller import Mobility
from simulator.mobility.migration import MIGRATION_POLICIES, Follow, Migration, Never, Threshold, migration_policy
from simulator.mobility.spec import Cell, GroupMotion
from simulator.run import run
from simulator.workloads import Trace as TaskTrace
from simulator.world import AccessPoint, BackhaulLink, DeviceGroup, EdgeServer, Service, World

UPLINK_BPS = 1e6
STATE_BITS = 8e6  # 1 MB
NARROW_BPS = 8e6  # a-m; m-b is ten times wider: the copy takes 8e6 / 8e6 = 1 s
DOWNTIME_S = 0.25
HOP_S = 0.005  # one way on each of the two links: cell b to ea is 10 ms one way
#: the state copy on idle links: 1 s on a - m, 5 ms, 0.1 s on m - b, 5 ms
COPY_S = STATE_BITS / NARROW_BPS + HOP_S + STATE_BITS / (10 * NARROW_BPS) + HOP_S
#: left of the boundary (x = 100 m) until t = 10 s, right of it from then on
JUMP = Trace(np.array([0.0, 10.0, 10.0]), np.array([0, 0, 0]),
             np.array([[40.0, 50.0], [60.0, 50.0], [140.0, 50.0]]))


LINKS = (BackhaulLink("a", "m", bandwidth_bps=NARROW_BPS, latency_s=HOP_S),
         BackhaulLink("m", "b", bandwidth_bps=10 * NARROW_BPS, latency_s=HOP_S))


def world(times: tuple[float, ...], input_bits: float = 1e5, links: tuple[BackhaulLink, ...] = LINKS,
          walkers: int = 1, others: tuple[DeviceGroup, ...] = ()) -> World:
    n = len(times)
    tasks = TaskTrace(times, (0,) * n, (1e6,) * n, (input_bits,) * n, (0.0,) * n)
    group = DeviceGroup("walkers", walkers, Device(speed_ops_per_s=1e6), tasks, "a", service="game")
    servers = (EdgeServer("ea", speed_ops_per_s=1e9, location="a"),
               EdgeServer("eb", speed_ops_per_s=1e9, location="b"))
    return World(device_groups=(group, *others),
                 access_points=(AccessPoint("a", UPLINK_BPS), AccessPoint("b", UPLINK_BPS)), servers=servers,
                 links=links, services=(Service("game"), Service("bulk", ("eb",))), policies=("always_edge",))


def mobility(policy: object, state_bits: float = STATE_BITS, trace: Trace = JUMP) -> Mobility:
    return Mobility(Area(200.0, 100.0), (Cell("a", (50.0, 50.0)), Cell("b", (150.0, 50.0))),
                    (GroupMotion("walkers", trace, step_s=1.0),),
                    migration=Migration({"game": state_bits}, policy, DOWNTIME_S))  # type: ignore[arg-type]


def records(times: tuple[float, ...], policy: object) -> tuple[list[dict[str, object]], dict[str, object]]:
    result = run(world(times), duration_s=40.0, seed=1, mobility=mobility(policy))
    assert result.mobility is not None
    rows = result.records.sort_values("created_s").to_dict("records")
    return rows, result.mobility.iloc[0].to_dict()


def test_a_migration_copies_the_state_hop_by_hop_over_idle_links_then_pauses_for_the_downtime():
    # handover at 10 s: the state copies until 11.11 s (the session still serves at ea, over cell b and both links),
    # then the service is down until 11.36 s; a request sent at 11.2 s waits for it and goes to eb
    assert pytest.approx(1.11, rel=1e-12) == COPY_S
    rows, table = records((10.5, 11.2, 30.0), Follow())
    during_copy, during_downtime, after = rows
    assert during_copy["target"] == "ea"
    assert during_downtime["target"] == "eb"
    assert during_downtime["upload_end_s"] == pytest.approx(10.0 + COPY_S + DOWNTIME_S + 1e5 / UPLINK_BPS, rel=1e-12)
    assert after["target"] == "eb"
    assert table["migrations"] == 1
    assert table["migration_s"] == pytest.approx(COPY_S + DOWNTIME_S, rel=1e-12)
    assert table["migration_downtime_s"] == DOWNTIME_S
    # the policies' estimate: the narrowest link alone, no propagation, no second hop
    assert float(migration_time_s(STATE_BITS, NARROW_BPS, DOWNTIME_S)) == 1.25


def test_a_request_on_the_bottleneck_link_shares_it_with_the_copy():
    # a static uploader in cell a sends 1e7 bits to eb (a -> m -> b, the copy's way): its radio upload ends at
    # 0.5 + 10 s = 10.5 s. The copy, alone on a -> m from 10 s, has 4e6 bits left then; both get 4 Mbit/s, so the
    # copy leaves a -> m at 10.5 + 4e6 / 4e6 = 11.5 s and arrives at 11.5 + 5 ms + 0.1 s + 5 ms = 11.61 s. The
    # request, 6e6 bits left at 11.5 s, leaves a -> m at 12.25 s, then 5 ms, 1e7 bits at 80 Mbit/s, 5 ms, 1 ms of
    # compute and the empty reply's 10 ms back
    tasks = TaskTrace((0.5,), (0,), (1e6,), (1e7,), (0.0,))
    uploader = DeviceGroup("uploader", 1, Device(speed_ops_per_s=1e6), tasks, "a", service="bulk")
    result = run(world((30.0,), others=(uploader,)), duration_s=40.0, seed=1, mobility=mobility(Follow()))
    assert result.mobility is not None
    assert result.mobility.iloc[0]["migration_s"] == pytest.approx(1.61 + DOWNTIME_S, rel=1e-12)
    request = result.records[result.records["service"] == "bulk"].iloc[0]
    assert request["completed_s"] == pytest.approx(12.25 + HOP_S + 1e7 / (10 * NARROW_BPS) + HOP_S + 1e-3 + 2 * HOP_S,
                                                   rel=1e-12)


def test_two_copies_at_once_share_every_link_of_their_path():
    # both walkers cross at 10 s: 2 x 8e6 bits on a -> m at 8 Mbit/s end together at 12 s, then 5 ms, 2 x 8e6 bits
    # on m -> b at 80 Mbit/s end at 12.205 s, then 5 ms: each state arrives at 12.21 s, 2.21 s after the decision
    both = Trace(np.array([0.0, 0.0, 10.0, 10.0, 10.0, 10.0]), np.array([0, 1, 0, 1, 0, 1]),
                 np.array([[40.0, 50.0], [40.0, 60.0], [60.0, 50.0], [60.0, 60.0], [140.0, 50.0], [140.0, 60.0]]))
    result = run(world((30.0,), walkers=2), duration_s=40.0, seed=1, mobility=mobility(Follow(), trace=both))
    assert result.mobility is not None
    row = result.mobility.iloc[0]
    assert row["migrations"] == 2
    assert row["migration_s"] == pytest.approx(2 * (2 * STATE_BITS / NARROW_BPS + HOP_S
                                                    + 2 * STATE_BITS / (10 * NARROW_BPS) + HOP_S + DOWNTIME_S),
                                               rel=1e-12)


def test_over_unlimited_links_the_copy_takes_their_delays():
    free = tuple(BackhaulLink(link.a, link.b, latency_s=HOP_S) for link in LINKS)
    result = run(world((30.0,), links=free), duration_s=40.0, seed=1, mobility=mobility(Follow()))
    assert result.mobility is not None
    assert result.mobility.iloc[0]["migration_s"] == pytest.approx(2 * HOP_S + DOWNTIME_S, rel=1e-12)


def test_the_request_during_the_copy_pays_the_path_to_the_old_site():
    rows, _ = records((10.5,), Follow())
    # upload 0.1 s on cell b, then b -> m -> a: 2 x 5 ms plus 1e5 bits on each link (80 and 8 Mbit/s), 1 ms of
    # compute at ea, the 1 kB-free reply back over the two links
    up_s = 1e5 / UPLINK_BPS + HOP_S + 1e5 / (10 * NARROW_BPS) + HOP_S + 1e5 / NARROW_BPS
    assert rows[0]["completed_s"] == pytest.approx(10.5 + up_s + 1e-3 + 2 * HOP_S)


def test_a_session_that_never_migrates_stays_at_its_first_site():
    rows, table = records((10.5, 11.1, 30.0), Never())
    assert [row["target"] for row in rows] == ["ea", "ea", "ea"]
    assert (table["migrations"], table["migration_s"], table["migration_downtime_s"]) == (0, 0.0, 0.0)


@pytest.mark.parametrize(("horizon_s", "migrates"), [(624.0, False), (626.0, True)])
def test_the_threshold_policy_migrates_exactly_when_the_gain_exceeds_the_cost(horizon_s, migrates):
    # rate: 3 tasks over the trace's 30 s = 0.1/s; from cell b the round trip to ea is 2 x 10 ms, to eb 0:
    # gain = 0.1 x H x 0.02 = 0.002 H > 1.25 s (the estimate; the copy would take 1.36 s) exactly when H > 625 s
    gain = float(migration_gain_s(0.02, 0.0, 0.1, horizon_s))
    assert (gain > 1.25) == migrates
    rows, table = records((10.5, 11.1, 30.0), Threshold(horizon_s))
    assert table["migrations"] == int(migrates)
    assert rows[-1]["target"] == ("eb" if migrates else "ea")


def test_stateless_services_keep_no_session():
    result = run(world((10.5, 30.0)), duration_s=40.0, seed=1, mobility=mobility(Never(), state_bits=0.0))
    assert list(result.records.sort_values("created_s")["target"]) == ["eb", "eb"]  # nearest of cell b
    assert result.mobility is not None
    assert result.mobility.iloc[0]["migrations"] == 0


def test_the_registry_names_the_valid_policies_and_the_spec_rejects_bad_values():
    assert set(MIGRATION_POLICIES) == {"never", "follow", "threshold"}
    with pytest.raises(ParameterError, match="unknown migration policy; choose one of never, follow, threshold"):
        migration_policy("sometimes")
    with pytest.raises(ParameterError, match=r"state_bits\[game\]"):
        Migration({"game": -1.0})
    with pytest.raises(ParameterError, match="downtime_s"):
        Migration({"game": 1.0}, Follow(), -0.1)
    with pytest.raises(ParameterError, match="horizon_s"):
        Threshold(0.0)


def test_a_handover_during_the_copy_is_considered_when_the_copy_ends():
    # to cell b at 10 s, back to cell a at 10.5 s (steps of 0.5 s) while the state copies to eb; at 11.11 s the
    # session serves at eb, whose device is in cell a again: it follows back (b -> m -> a: 0.1 s, 5 ms, 1 s, 5 ms),
    # copying until 12.22 s, down until 12.47 s
    there_and_back = Trace(np.array([0.0, 10.0, 10.0, 10.5, 10.5]), np.zeros(5, dtype=np.intp),
                           np.array([[40.0, 50.0], [60.0, 50.0], [140.0, 50.0], [140.0, 50.0], [60.0, 50.0]]))
    spec = Mobility(Area(200.0, 100.0), (Cell("a", (50.0, 50.0)), Cell("b", (150.0, 50.0))),
                    (GroupMotion("walkers", there_and_back, step_s=0.5),),
                    migration=Migration({"game": STATE_BITS}, Follow(), DOWNTIME_S))
    result = run(world((10.8, 12.3, 30.0)), duration_s=40.0, seed=1, mobility=spec)
    rows = result.records.sort_values("created_s").to_dict("records")
    assert [row["target"] for row in rows] == ["ea", "ea", "ea"]
    assert rows[0]["completed_s"] == pytest.approx(10.8 + 1e5 / UPLINK_BPS + 1e-3)  # the old session, from cell a
    assert rows[1]["upload_end_s"] == pytest.approx(10.0 + 2 * COPY_S + DOWNTIME_S + 1e5 / UPLINK_BPS, rel=1e-12)
    assert result.mobility is not None
    row = result.mobility.iloc[0]
    assert (row["handovers"], row["migrations"]) == (2, 2)
    # the second migration is timed from its decision at 11.11 s, when the first one's state arrived
    assert row["migration_s"] == pytest.approx(2 * (COPY_S + DOWNTIME_S), rel=1e-12)


def test_a_session_whose_server_the_new_cell_cannot_reach_restarts_there_after_the_downtime():
    # no backhaul: cell b reaches only eb, so the session moves whatever the policy; no path carries its state
    result = run(world((10.1, 30.0), links=()), duration_s=40.0, seed=1, mobility=mobility(Never()))
    rows = result.records.sort_values("created_s").to_dict("records")
    assert [row["target"] for row in rows] == ["eb", "eb"]
    assert rows[0]["upload_end_s"] == pytest.approx(10.0 + DOWNTIME_S + 1e5 / UPLINK_BPS)
    assert result.mobility is not None
    assert (result.mobility.iloc[0]["migrations"], result.mobility.iloc[0]["migration_s"]) == (1, DOWNTIME_S)
