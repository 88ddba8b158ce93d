"""Malformed scenarios: every problem is reported with file, line, YAML path, value and rule; never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.scenario import ScenarioError, load_scenario, scenario_from_dict

BASE = """\
name: city
description: a test city
run:
  duration: 60 s
  warmup: 5 s
  seed: 3
services:
  - name: plates
    work: 16.8G
    input: 300 kB
    output: 1 kB
profiles:
  - name: pi4
    compute_time: 13 s
    compute_power: 6.4 W
access_points:
  - name: cpe
    uplink: 20 Mbps
    downlink: 50 Mbps
    latency: 5 ms
nodes:
  - name: edge
    compute_time: 9 ms
links:
  - between: [cpe, edge]
    bandwidth: 1 Gbps
devices:
  - name: cams
    count: 10
    profile: pi4
    access_point: cpe
    workload: {kind: poisson, rate: 0.1/s}
policies: [always_local, always_edge]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "city.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _replace(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def test_base_is_valid(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, BASE))
    assert scenario.name == "city"
    assert scenario.run.duration_s == 60.0
    assert scenario.resolved["access_points"][0]["uplink"] == 20e6


# (replacement old -> new, expected message fragment as a regex including the line number)
CASES = [
    # wrong types
    ("    count: 10", "    count: ten", r"city\.yaml:29: devices\[0\].count: \"ten\": must be an integer"),
    ("    count: 10", "    count: 2.5", r":29: devices\[0\].count: 2\.5: must be an integer"),
    ("    count: 10", "    count: true", r":29: devices\[0\].count: true: must be an integer"),
    ("  seed: 3", "  seed: [3]", r":6: run\.seed: a list: must be an integer"),
    ("name: city", "name: 42", r":1: name: 42: must be a string"),
    ("policies: [always_local, always_edge]", "policies: always_edge",
     r":33: policies: \"always_edge\": must be a list"),
    ("    workload: {kind: poisson, rate: 0.1/s}", "    workload: poisson",
     r":32: devices\[0\]\.workload: \"poisson\": expected a mapping"),
    ("  - name: cpe\n", "  - name: cpe\n    shared: maybe\n",
     r":18: access_points\[0\]\.shared: \"maybe\": must be true or false"),
    # negative and zero values
    ("    uplink: 20 Mbps", '    uplink: "-5 Mbps"',
     r'city\.yaml:18: access_points\[0\]\.uplink: "-5 Mbps": must be > 0'),
    ("    input: 300 kB", "    input: -300 kB", r':10: services\[0\]\.input: "-300 kB": must be >= 0'),
    ("  duration: 60 s", "  duration: 0 s", r':4: run\.duration: "0 s": must be > 0'),
    ("    count: 10", "    count: 0", r":29: devices\[0\].count: 0: must be >= 1"),
    ("  seed: 3", "  seed: -1", r":6: run\.seed: -1: must be >= 0"),
    ("    compute_power: 6.4 W", "    compute_power: -1 W", r':15: profiles\[0\]\.compute_power: "-1 W": must be >= 0'),
    ("rate: 0.1/s}", "rate: 0}", r":32: devices\[0\]\.workload\.rate: 0: must be > 0"),
    ("  warmup: 5 s", "  warmup: 90 s", r":5: run\.warmup: 90\.0: must be shorter than run\.duration \(60 s\)"),
    ("  duration: 60 s", "  duration: .nan", r":4: run\.duration: nan: must be a number, not NaN"),
    # bad units
    ("    uplink: 20 Mbps", "    uplink: 20 MB",
     r":18: access_points\[0\]\.uplink: \"20 MB\": 'MB' is a data size, expected a bandwidth such as 20Mbps"),
    ("  warmup: 5 s", "  warmup: 5 parsecs", r":5: run\.warmup: \"5 parsecs\": unknown unit 'parsecs'"),
    ("    work: 16.8G", "    work: 16.8 GHz",
     r":9: services\[0\]\.work: \"16\.8 GHz\": 'GHz' is a speed, expected an amount of work such as 16\.8G"),
    ("    compute_time: 13 s", "    compute_time: fast",
     r":14: profiles\[0\]\.compute_time: \"fast\": expected a number"),
    # unknown keys with the closest valid key
    ("  seed: 3", "  seeed: 3", r":6: run\.seeed: 3: unknown key; did you mean 'seed'\?"),
    ("    uplink: 20 Mbps", "    uplnk: 20 Mbps", r":18: access_points\[0\]\.uplnk: .*did you mean 'uplink'\?"),
    ("    bandwidth: 1 Gbps", "    bandwith: 1 Gbps", r":26: links\[0\]\.bandwith: .*did you mean 'bandwidth'\?"),
    ("name: city", "name: city\ncolour: red", r":2: colour: \"red\": unknown key"),
    ("{kind: poisson, rate: 0.1/s}", "{kind: poisson, rat: 0.1/s}",
     r":32: devices\[0\]\.workload\.rat: .*did you mean 'rate'\?"),
    ("{kind: poisson,", "{kind: poison,",
     r":32: devices\[0\]\.workload\.kind: \"poison\": unknown kind 'poison'; did you mean 'poisson'\?"),
    ("    work: 16.8G", "    work: {distribution: expo, mean: 1G}",
     r":9: services\[0\]\.work\.distribution: \"expo\": unknown kind 'expo'; did you mean 'exponential'\?"),
    # missing sections and keys
    # (policies and run.duration have defaults since issue 18; profile and an access point's uplink do not)
    ("    profile: pi4\n", "", r":28: devices\[0\]\.profile: required key is missing"),
    ("    uplink: 20 Mbps\n", "", r":17: access_points\[0\]\.uplink: required key is missing"),
    ("policies: [always_local, always_edge]", "policies: []", r":33: policies: a list: must have at least 1 item"),
    ("{kind: poisson, rate: 0.1/s}", "{rate: 0.1/s}", r":32: devices\[0\]\.workload: needs a kind key"),
    ("    compute_time: 13 s\n", "", r":13: profiles\[0\]: give a speed or a measured compute_time"),
    ("    compute_time: 9 ms\n", "", r":22: nodes\[0\]: give a speed, a measured compute_time or batching"),
    # duplicate names and duplicate keys
    ("  - name: edge\n", "  - name: edge2\n    speed: 1G\n  - name: edge2\n",
     r":24: nodes\[1\]\.name: \"edge2\": duplicate name"),
    ("policies: [always_local, always_edge]", "policies: [always_edge, always_edge]",
     r":33: policies\[1\]\.label: \"always_edge\": duplicate name"),
    ("  seed: 3", "  seed: 3\n  seed: 4", r":7: run\.seed: duplicate key \(first given on line 6\)"),
    ("  - name: edge\n", "  - name: cpe\n", r":22: nodes\[0\]\.name: \"cpe\": is already the name of an access point"),
    # references to undefined things
    ("    access_point: cpe", "    access_point: cpx",
     r":31: devices\[0\]\.access_point: \"cpx\": undefined access point; did you mean 'cpe'\?"),
    ("    profile: pi4", "    profile: pi5",
     r":30: devices\[0\]\.profile: \"pi5\": undefined profile; did you mean 'pi4'\?"),
    ("  - between: [cpe, edge]", "  - between: [cpe, egde]",
     r":25: links\[0\]\.between\[1\]: \"egde\": undefined access point, node or switch; did you mean 'edge'\?"),
    ("    count: 10", "    count: 10\n    service: faces", r":30: devices\[0\]\.service: \"faces\": undefined service"),
    ("    compute_time: 9 ms", "    compute_time: 9 ms\n    location: tower",
     r":24: nodes\[0\]\.location: \"tower\": undefined"),
    # (without any link, a node without a location sits at the only access point: issue 18)
    ("  - between: [cpe, edge]\n", "  - between: [far, edge]\n",
     r":31: devices\[0\]\.access_point: \"cpe\": cannot reach any node hosting service 'plates'"),
    ("  - between: [cpe, edge]", "  - between: [cpe, cpe]",
     r":25: links\[0\]\.between: \"cpe\": a link needs two different ends"),
    ("    latency: 5 ms", "    latency: 5 ms\n    uplink_table: [{clients: 2, rate: 9 Mbps}, {clients: 1, rate: 5e6}]",
     r":21: access_points\[0\]\.uplink_table\[1\]\.clients: 1: must be greater than the previous row's clients \(2\)"),
    # YAML syntax and unsafe tags
    ("  seed: 3", "  seed: [3", r"city\.yaml:\d+: <root>: invalid YAML"),
    ("  seed: 3", "  seed: !!python/object/apply:os.system [ls]", r":6: run\.seed: unsupported YAML tag"),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES, ids=[case[2][:40] for case in CASES])
def test_malformed_scenario_names_line_path_value_and_rule(tmp_path: Path, old: str, new: str, expected: str) -> None:
    with pytest.raises(ScenarioError, match=expected):
        load_scenario(_write(tmp_path, _replace(old, new)))


def test_all_errors_are_reported_at_once(tmp_path: Path) -> None:
    text = _replace("    uplink: 20 Mbps", '    uplink: "-5 Mbps"').replace("  seed: 3", "  seeed: 3")
    text = text.replace("    count: 10", "    count: 0")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, text))
    lines = str(caught.value).splitlines()
    assert len(lines) == len(caught.value.issues) == 3
    assert [int(re.search(r":(\d+):", line).group(1)) for line in lines] == [6, 18, 29]  # type: ignore[union-attr]


def test_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"city\.yaml:1: <root>: a scenario must be a mapping"):
        load_scenario(_write(tmp_path, "- just\n- a list\n"))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r":1: <root>: the file is empty; a scenario must be a mapping"):
        load_scenario(_write(tmp_path, ""))


def test_unknown_scenario_name_suggests_the_closest() -> None:
    with pytest.raises(ScenarioError, match=r"licence-plate: <root>: no such file or bundled scenario; "
                                            r"did you mean 'license-plate'\?"):
        load_scenario("licence-plate")


def test_dict_errors_have_no_line_but_a_path() -> None:
    with pytest.raises(ScenarioError, match=r"^<dict>: devices\[0\]\.profile: required key is missing"):
        scenario_from_dict({"name": "x", "services": [{"name": "s"}], "access_points": [{"name": "a", "uplink": 1}],
                            "devices": [{"name": "d", "access_point": "a",
                                         "workload": {"kind": "poisson", "rate": 1}}], "policies": ["always_local"]})


@pytest.mark.parametrize(("override", "expected"), [
    ("devices[0].count=-1", r"--set: devices\[0\]\.count: -1: must be >= 1"),
    ("devices[3].count=1", r"--set: devices: index 3 out of range \(the list has 1 items\)"),
    ("devices[cameras].count=1", r"--set: devices: has no item named 'cameras'; names: cams"),
    ("run.duration", r"--set: <root>: 'run.duration' is not of the form path=value"),
    ("run..duration=1", r"--set: <root>: bad path 'run..duration'"),
    ("devices[0]count=1", r"--set: <root>: bad path 'devices\[0\]count'"),
    ("run.duraton=10s", r"--set: run\.duraton: \"10s\": unknown key; did you mean 'duration'\?"),
    ("run[0]=1", r"--set: run: is not a list"),
])
def test_bad_overrides(tmp_path: Path, override: str, expected: str) -> None:
    with pytest.raises(ScenarioError, match=expected):
        load_scenario(_write(tmp_path, BASE), [override])


def test_file_rules_and_world_rules_are_reported_together_at_their_lines(tmp_path: Path) -> None:
    text = _replace("    access_point: cpe", "    access_point: cpx").replace("  warmup: 5 s", "  warmup: 90 s")
    text = text.replace("    compute_time: 9 ms", "    compute_time: 9 ms\n    location: tower")
    second = ("  - name: cams\n    count: 1\n    profile: pi4\n    access_point: cpe\n"
              "    workload: {kind: poisson, rate: 1/s}\n")
    text = text.replace("policies: [always_local, always_edge]\n", second + "policies: [always_edge]\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, text))
    lines = str(caught.value).splitlines()
    assert [re.sub(r"^.*?city\.yaml:(\d+): (\S+): .*$", r"\1 \2", line) for line in lines] == [
        "5 run.warmup", "24 nodes[0].location", "32 devices[0].access_point", "34 devices[1].name",
        "37 devices[1].access_point"], lines
    assert "undefined access point; did you mean 'cpe'?" in lines[2]
    assert "duplicate name (also at index 0)" in lines[3]
    assert "cannot reach any node hosting service 'plates' (edge)" in lines[4]


def test_a_dictionary_scenario_names_world_problems_by_yaml_path() -> None:
    data = {"name": "d", "run": {"duration": 10}, "services": [{"name": "s", "work": 1e9}],
            "access_points": [{"name": "ap", "uplink": 1e7}],
            "nodes": [{"name": "ap", "speed": 1e9, "location": "ap"}],
            "devices": [{"name": "d", "count": 1, "profile": {"speed": 1e9}, "access_point": "ap",
                         "workload": {"kind": "poisson", "rate": 1}}], "policies": ["always_edge"]}
    with pytest.raises(ScenarioError, match=r'<dict>: nodes\[0\]\.name: "ap": is already the name of an access point'):
        scenario_from_dict(data)


def test_a_byte_that_is_not_utf8_is_located_by_line_column_and_offset(tmp_path: Path) -> None:
    text = BASE.replace("description: a test city", "description: a caf\u00e9 city").encode("latin-1")
    offset = text.index(b"\xe9")
    line = text[:offset].count(b"\n") + 1
    column = offset - text.rfind(b"\n", 0, offset)
    path = tmp_path / "latin.yaml"
    path.write_bytes(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == (f"{path}:{line}: <root>: column {column} (byte {offset}): byte 0xe9 is not UTF-8; "
                                 "save the file as UTF-8")
    assert (line, column) == (2, 19)  # `description: a caf` is 18 characters


# Checks the simulator's value objects make after the schema: each at the line and key the file writes.
ELEMENT_CASES = [
    ("workload: {kind: poisson, rate: 0.1/s}", "workload: {kind: periodic, fps: 1/s, jitter: 3.5 s}",
     r"devices\[0\]\.workload\.jitter: 3\.5: must be < the frame period 1/fps = 1 s$"),
]


def _line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), start=1) if fragment in line)


@pytest.mark.parametrize(("old", "new", "expected"), ELEMENT_CASES, ids=["jitter"])
def test_element_rules_name_the_key_as_written(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = _replace(old, new)
    with pytest.raises(ScenarioError, match=rf"city\.yaml:{_line_of(text, new.strip())}: {expected}"):
        load_scenario(_write(tmp_path, text))


TRACE_HEADER = "timestamp_s,device,work_ops,input_bits,output_bits\n"


@pytest.mark.parametrize(("content", "rule"), [
    (None, r"cannot read .*trace\.csv: No such file or directory"),
    (TRACE_HEADER.encode() + b"1,0,1e9,0,0\n2,0,1e9\xe9,0,0\n",  # 51 + 12 + 7 bytes before the bad one
     r".*trace\.csv:3: byte 0xe9 \(offset 70\) is not UTF-8"),
    (TRACE_HEADER.encode() + b"1,0,1e9,0,0\n2,0,x,0,0\n", r".*trace\.csv:3: work_ops 'x' must be a number"),
    (b"time,device\n1,0\n", r".*trace\.csv:1: missing trace column\(s\) timestamp_s, work_ops"),
], ids=["missing", "latin-1", "not a number", "columns"])
def test_trace_file_problems_are_located_at_its_key(tmp_path: Path, content: bytes | None, rule: str) -> None:
    if content is not None:
        (tmp_path / "trace.csv").write_bytes(content)
    text = _replace("workload: {kind: poisson, rate: 0.1/s}", "workload: {kind: trace, file: trace.csv}")
    path = _write(tmp_path, text)
    line = _line_of(text, "kind: trace")
    with pytest.raises(ScenarioError, match=rf'^{re.escape(str(path))}:{line}: devices\[0\]\.workload\.file: '
                                            rf'"trace\.csv": {rule}'):
        load_scenario(path)


def test_a_policy_needing_a_tier_no_group_reaches_is_refused_at_load(tmp_path: Path) -> None:
    text = _replace("policies: [always_local, always_edge]", "policies: [always_local, always_cloud]")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, text))
    assert str(caught.value).endswith(f"city.yaml:{_line_of(text, 'always_cloud')}: policies[1]: \"always_cloud\": "
                                      "sends work to a cloud server, but device group 'cams' reaches none hosting "
                                      "service 'plates'")
