"""Hostile input never escapes as a traceback: one line naming file, line and rule, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.scenario.bundled import resolve_scenario_path

MM1 = resolve_scenario_path("mm1").read_text()
DEEP = 600


def _mm1(old: str, new: str) -> str:
    assert old in MM1
    return MM1.replace(old, new, 1)


def _line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), start=1) if needle in line)


CASES = {
    "deep list": (MM1 + "extra: " + "[" * DEEP + "]" * DEEP + "\n", "extra:", "nested more than 64 levels deep"),
    "deep mapping": (MM1 + "extra: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n", "extra:",
                     "nested more than 64 levels deep"),
    "alias inside itself": (_mm1("policies:", "loop: &a [*a]\npolicies:"), "loop:",
                            "loop[0]: an alias refers to a list or mapping that contains it"),
    "400-digit rate": (_mm1("rate: 8/s", "rate: " + "9" * 400), "rate:", "workload.rate: 9999"),
    "4400-digit seed": (_mm1("seed: 1", "seed: " + "9" * 4400), "seed:", "(4400 characters)' is not a valid int"),
    "exponential mean 1e300": (_mm1("mean: 1G", "mean: 1.0e+300"), "mean:",
                               "read as 1e+300 ops, outside the plausible range 1 to 1e+18 ops"),
    "!!float abc": (_mm1("seed: 1", "seed: !!float abc"), "seed:", "run.seed: 'abc' is not a valid float"),
    "!!int 0x": (_mm1("seed: 1", "seed: !!int 0x"), "seed:", "run.seed: '0x' is not a valid int"),
    "!!bool maybe": (_mm1("seed: 1", "seed: !!bool maybe"), "seed:", "run.seed: 'maybe' is not a valid bool"),
    "lone surrogate": (_mm1('description: "', 'description: "\\ud800'), "description:",
                       "description: contains an escape that is not a character"),
    "rate_off 1e300": (_mm1("{kind: poisson, rate: 8/s}",
                            "{kind: onoff, rate_on: 8/s, rate_off: 1.0e+300, mean_on: 1s, mean_off: 1s}"),
                       "workload:", "rate_off: 1e+300: read as 1e+300 /s, outside the plausible range"),
    "lognormal cv 1e300": (_mm1("{distribution: exponential, mean: 1G}", "{distribution: lognormal, mean: 1G, "
                                                                         "cv: 1.0e+300}"),
                           "work:", "work.cv: 1e+300: must be <= 100.0"),
    "control character": (_mm1('description: "', 'description: "\x1b'), "description:",
                          "invalid YAML: character #x001b is not allowed (a control character)"),
    "5 mbps": (_mm1("uplink: 1 Gbps", "uplink: 5 mbps"), "uplink:", "read as 0.005 bit/s, outside the plausible"),
}


@pytest.mark.parametrize(("text", "where", "message"), CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("command", ["validate", "simulate"])
def test_hostile_scenarios_are_one_located_line(tmp_path, command, text, where, message):
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, [command, str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"mecsim: error: {path}:{_line_of(text, where)}: "), lines[0]
    assert message in lines[0]


def test_a_negative_seed_is_refused_on_the_command_line_and_in_the_file(tmp_path):
    source = resolve_scenario_path("place-small")
    bad = tmp_path / "place.yaml"
    text = source.read_text().replace("seed: 0}", "seed: -3}")
    bad.write_text(text)
    result = CliRunner().invoke(main, ["place", str(bad)])
    assert result.exit_code == 2
    assert result.output.strip() == f"mecsim: error: {bad}:{_line_of(text, 'seed: -3')}: solver.seed: -3: must be >= 0"
    result = CliRunner().invoke(main, ["place", str(source), "--seed", "-1"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "'--seed': -1 is not in the range x>=0" in result.output


BAD_CSV = {
    "duplicate column": (b"data,uplink,rtt,data\n300kB,5Mbps,20ms,1kB\n",
                         "line 1='data': a column name appears more than once"),
    "latin-1 byte": (b"data,uplink,rtt\n300kB,5Mbps,20ms\xe9\n",
                     "(column 'rtt'), line 2=b'20ms\\xe9': is not UTF-8 text"),
}


@pytest.mark.parametrize(("content", "message"), BAD_CSV.values(), ids=BAD_CSV.keys())
def test_bad_batch_csv_is_one_line(tmp_path, content, message):
    path = tmp_path / "tasks.csv"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["decide", "--device-time", "13s", "--edge-time", "9ms", "--batch", str(path)])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"mecsim: error: --batch {path}{message}" or message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bundled_scenarios_are_within_the_plausibility_bounds():
    for name in ("mm1", "md1", "mmc", "s100", "license-plate", "melbourne"):
        result = CliRunner().invoke(main, ["validate", name])
        assert result.exit_code == 0, (name, result.output)
        assert Path(result.output.split(":")[0]).name == f"{name}.yaml"
