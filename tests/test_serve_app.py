"""``mecsim serve`` in process (ASGI test client): every endpoint, the CLI's answer, estimates, errors, limits."""

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.cli import main
from simulator.scenario.errors import ScenarioError
from simulator.serve import create_app, parse_config
from simulator.serve.estimates import ewma_weight

PLATE = {"device-time": "13s", "edge-time": "9ms", "data": "300kB", "uplink": "5Mbps", "rtt": "20ms"}
CONFIG = """
half-life: 2
max-batch: 50
devices:
  pi4: {device-time: 13s, device-power: 6.4W, radio-power: 3.4W}
targets:
  edge: {edge-time: 9ms, uplink: 5Mbps, rtt: 20ms, workers: 2}
"""


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def client(clock):
    with TestClient(create_app(parse_config(CONFIG), clock=clock)) as test_client:
        yield test_client


def _cli_json(fields: dict[str, str]) -> dict:
    args = [part for name, value in fields.items() for part in (f"--{name}", value)]
    result = CliRunner().invoke(main, ["decide", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_licence_plate_offloads_in_0_509_s_and_equals_the_cli(client):
    response = client.post("/decide", json=PLATE)
    assert response.status_code == 200
    report = response.json()
    assert report["decision"] == "offload"
    # 300 kB = 2.4e6 bits over 5 Mbps = 0.48 s, + 20 ms RTT + 9 ms on the edge
    assert report["offload"]["latency_s"] == pytest.approx(2.4e6 / 5e6 + 0.020 + 0.009, abs=1e-12)
    assert report == _cli_json(PLATE)


def test_named_profiles_give_the_same_answer_as_inline_fields(client):
    named = client.post("/decide", json={"device": "pi4", "target": "edge", "data": "300kB"}).json()
    inline = _cli_json(PLATE | {"device-power": "6.4W", "radio-power": "3.4W"})
    assert named == inline
    assert named["offload"]["energy_j"] == pytest.approx(3.4 * 0.48)


def test_a_list_is_decided_task_by_task(client):
    tasks = [PLATE, PLATE | {"uplink": "0.1Mbps"}]
    answers = client.post("/decide", json=tasks).json()
    assert [a["decision"] for a in answers] == ["offload", "local"]  # 24 s of upload at 0.1 Mbps > 13 s
    assert answers[1] == _cli_json(tasks[1])


def test_column_batch_equals_single_answers(client):
    datas = ["300kB", 1.2e8, "10kB"]
    body = {"device": "pi4", "target": "edge", "data": datas, "objective": "energy"}
    columns = client.post("/decide/batch", json=body).json()
    assert columns["count"] == 3
    for i, data in enumerate(datas):
        single = client.post("/decide", json={"device": "pi4", "target": "edge", "data": data,
                                              "objective": "energy"}).json()
        assert columns["columns"]["decision"][i] == single["decision"]
        assert columns["columns"]["offload_latency_s"][i] == single["offload"]["latency_s"]
        assert columns["columns"]["offload_energy_j"][i] == single["offload"]["energy_j"]
        assert columns["columns"]["break_even_uplink_bps"][i] == pytest.approx(
            single["break_even"]["uplink_bps"], rel=1e-12)


def test_observations_move_the_estimates_and_the_decisions(client, clock):
    before = client.post("/decide", json={"device": "pi4", "target": "edge", "data": "300kB"}).json()
    assert client.post("/observe", json={"target": "edge", "uplink": "1Mbps"}).status_code == 200
    clock.now_s = 5.0
    client.post("/observe", json={"target": "edge", "uplink": "3Mbps"})
    # the first observation is taken as it is; the second moves it by 1 - 2^(-1/2) of the difference
    expected_bps = 1e6 + ewma_weight(2.0) * (3e6 - 1e6)
    state = client.get("/state").json()
    uplink = state["estimates"]["edge"]["uplink"]
    assert uplink["value"] == pytest.approx(expected_bps)
    assert (uplink["observations"], uplink["age_s"]) == (2, 0.0)
    after = client.post("/decide", json={"device": "pi4", "target": "edge", "data": "300kB"}).json()
    assert after["offload"]["breakdown"]["upload_s"] == pytest.approx(2.4e6 / expected_bps)
    assert after["offload"]["latency_s"] > before["offload"]["latency_s"]
    # a device's own link estimate wins over the target-wide one
    client.post("/observe", json={"target": "edge", "device": "pi4", "uplink": "24Mbps", "rtt": "5ms"})
    own = client.post("/decide", json={"device": "pi4", "target": "edge", "data": "300kB"}).json()
    assert own["offload"]["breakdown"]["upload_s"] == pytest.approx(0.1)
    assert own["offload"]["breakdown"]["round_trip_s"] == pytest.approx(0.005)


def test_queue_length_becomes_the_backlog_wait(client):
    client.post("/observe", json={"target": "edge", "queue-length": 5, "edge-time": "10ms"})
    report = client.post("/decide", json={"device": "pi4", "target": "edge", "data": "300kB"}).json()
    # FIFO behind 5 tasks at 2 workers: (5 - 2 + 1) x 10 ms / 2
    assert report["offload"]["breakdown"]["wait_s"] == pytest.approx(4 * 0.010 / 2)
    assert report["offload"]["breakdown"]["compute_s"] == pytest.approx(0.010)
    inline = client.post("/decide", json={"device": "pi4", "target": "edge", "data": "300kB",
                                          "edge-wait": "1ms"}).json()
    assert inline["offload"]["breakdown"]["wait_s"] == pytest.approx(0.001)


@pytest.mark.parametrize(("body", "loc", "rule"), [
    ({**PLATE, "uplink": "-5Mbps"}, ["body", "uplink"], "must be > 0 and finite"),
    ({**PLATE, "rtt": "NaN"}, ["body", "rtt"], "must be a number, not NaN"),
    ({**PLATE, "data": "3 parsecs"}, ["body", "data"], "unknown unit"),
    ({k: v for k, v in PLATE.items() if k != "uplink"}, ["body", "uplink"], "missing required value"),
    ({**PLATE, "colour": "red"}, ["body", "colour"], "unknown field"),
    ({**PLATE, "target": "moon"}, ["body", "target"], "unknown target; valid: edge"),
    ({**PLATE, "objective": "speed"}, ["body", "objective"], "must be one of latency, energy, weighted"),
    ({**PLATE, "data": [1, 2]}, ["body", "data"], "expected a number or a quantity"),
    ([PLATE, {**PLATE, "data": True}], ["body", 1, "data"], "expected a number or a quantity"),
    ([], ["body"], "at least one task"),
    ("plate", ["body"], "must be a JSON object"),
])
def test_bad_requests_get_422_naming_the_field_and_the_rule(client, body, loc, rule):
    response = client.post("/decide", json=body)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == loc
    assert rule in error["msg"]


def test_oversize_bodies_and_batches_get_413(clock):
    app = create_app(parse_config(CONFIG.replace("max-batch: 50", "max-batch: 2\nmax-body: 8kB")), clock=clock)
    with TestClient(app) as client:
        assert client.post("/decide", json=[PLATE] * 3).status_code == 413
        assert client.post("/decide/batch", json={**PLATE, "data": [1, 2, 3]}).status_code == 413
        response = client.post("/decide", content=b"[" + b" " * 9000 + b"]")
        assert response.status_code == 413
        assert "exceeds the limit of 8000 bytes" in response.json()["detail"]
        assert client.post("/decide", json=PLATE).status_code == 200  # and it keeps serving


def test_observe_errors(client):
    assert client.post("/observe", json={"uplink": "1Mbps"}).json()["detail"][0]["loc"] == ["body", "target"]
    assert client.post("/observe", json={"target": "edge"}).status_code == 422
    bad = client.post("/observe", json={"target": "edge", "uplink": "1Mbps", "queue-length": -1})
    assert bad.json()["detail"][0]["loc"] == ["body", "queue-length"]
    assert client.get("/state").json()["estimates"] == {}  # nothing of a refused report is kept


def test_monitor_counts_api_calls_in_the_platform_format(client, clock):
    for _ in range(3):
        client.post("/decide", json=PLATE)
    client.post("/decide", json={})
    client.get("/healthz")
    clock.now_s = 120.0
    report = client.get("/monitor").json()
    assert report["Counter"] == 4  # /decide calls, refused ones included; /healthz is counted apart
    assert report["AvgQPM"] == 2.0  # 4 calls in 2 minutes
    assert report["AvgReqTime"].endswith("s")
    assert float(report["AvgReqTime"][:-1]) > 0
    assert report["endpoints"]["/decide"]["Counter"] == 4
    assert report["endpoints"]["/healthz"]["Counter"] == 1
    metrics = client.get("/metrics").text
    assert 'mecsim_requests_total{endpoint="/decide",status="200"} 3.0' in metrics
    assert 'mecsim_requests_total{endpoint="/decide",status="422"} 1.0' in metrics
    assert "mecsim_request_duration_seconds_bucket" in metrics


def test_prometheus_histogram_counts_each_duration_in_its_bucket():
    from prometheus_client import generate_latest

    from simulator.serve.monitor import BUCKETS_S, Monitor

    monitor = Monitor(("/decide",))
    durations_s = [0.0002, 0.0005, 0.0007, 0.003, 0.003, 0.2, 7.0]  # 0.0005 sits on a bound: it counts there
    for seconds in durations_s:
        monitor.record(monitor.endpoint("/decide"), 200, seconds)
    monitor.record(monitor.endpoint("/decide"), 413, 0.001)
    durations_s.append(0.001)
    text = generate_latest(monitor.registry).decode()
    for bound in BUCKETS_S:
        expected = sum(1 for seconds in durations_s if seconds <= bound)
        assert f'mecsim_request_duration_seconds_bucket{{endpoint="/decide",le="{bound!r}"}} {float(expected)}' in text
    assert f'le="+Inf"}} {float(len(durations_s))}' in text
    total_s = float(text.split('mecsim_request_duration_seconds_sum{endpoint="/decide"} ')[1].split()[0])
    assert total_s == pytest.approx(sum(durations_s), abs=1e-9)  # counted in whole nanoseconds
    assert 'mecsim_requests_total{endpoint="/decide",status="413"} 1.0' in text
    assert 'mecsim_requests_total{endpoint="/decide",status="200"} 7.0' in text


def test_health_and_docs(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/decide", "/decide/batch", "/observe", "/state", "/monitor", "/metrics", "/healthz"} <= set(
        schema["paths"])
    # the routes are served plainly, but described as declared: request body, answers and refusals
    decide = schema["paths"]["/decide"]["post"]
    assert {"200", "413", "422"} <= set(decide["responses"])
    assert "anyOf" in decide["requestBody"]["content"]["application/json"]["schema"]


def test_bearer_token(clock):
    with TestClient(create_app(parse_config(CONFIG), token="s3cret", clock=clock)) as client:
        assert client.post("/decide", json=PLATE).status_code == 401
        wrong = client.post("/decide", json=PLATE, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        good = client.post("/decide", json=PLATE, headers={"Authorization": "Bearer s3cret"})
        assert good.status_code == 200
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(("text", "message"), [
    ("devices: {pi4: {device-time: -1s}}", "<config>:1: devices.pi4.device-time: \"-1s\": must be >= 0"),
    ("targets:\n  edge: {uplink: 5Mbps, workers: 0}", "<config>:2: targets.edge.workers: 0: must be an integer"),
    ("targets:\n  edge: {colour: red}", "targets.edge.colour: unknown field"),
    ("half-life: 0", "half-life: 0: must be > 0"),
    ("port: 1", "port: unknown key"),
])
def test_config_errors_name_file_line_key_and_rule(text, message):
    with pytest.raises(ScenarioError) as caught:
        parse_config(text, "<config>")
    assert message in str(caught.value)


def test_serve_refuses_a_public_address_without_a_token():
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0"], env={"MECSIM_TOKEN": ""})
    assert result.exit_code == 2
    assert "--host='0.0.0.0': is not a loopback address: set --token" in result.output


def test_ewma_weight_halves_after_half_life_observations():
    weight = ewma_weight(4.0)
    assert math.isclose((1 - weight) ** 4, 0.5)


def test_the_example_device_client_runs_against_the_service(clock):
    import random
    import runpy

    example = runpy.run_path(str(Path(__file__).resolve().parents[1] / "examples" / "device_client.py"))
    config = (Path(__file__).resolve().parents[1] / "examples" / "fleet.yaml").read_text()
    with TestClient(create_app(parse_config(config), clock=clock)) as client:
        assert example["loop"](client, 3, random.Random(1)) == ["offload"] * 3
        estimates = client.get("/state").json()["estimates"]["pi4/edge"]
        assert estimates["uplink"]["observations"] == 3


_amount = st.floats(1e-3, 1e4, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None)
@given(device_s=_amount, edge_ms=_amount, data_kb=_amount, uplink_mbps=_amount, rtt_ms=st.floats(0, 500),
       powers=st.none() | st.tuples(_amount, _amount, _amount),
       objective=st.sampled_from(["latency", "energy", "weighted"]), view=st.sampled_from(["device", "system"]))
def test_any_single_answer_equals_the_cli_json(device_s, edge_ms, data_kb, uplink_mbps, rtt_ms, powers, objective,
                                               view):
    fields = {"device-time": f"{device_s!r}s", "edge-time": f"{edge_ms!r}ms", "data": f"{data_kb!r}kB",
              "uplink": f"{uplink_mbps!r}Mbps", "rtt": f"{rtt_ms!r}ms", "energy-view": view}
    if powers is not None:
        fields |= {"device-power": f"{powers[0]!r}W", "radio-power": f"{powers[1]!r}W",
                   "edge-power": f"{powers[2]!r}W", "objective": objective}
    with TestClient(create_app()) as test_client:
        response = test_client.post("/decide", json=fields)
    assert response.status_code == 200, response.text
    assert response.json() == _cli_json(fields)
