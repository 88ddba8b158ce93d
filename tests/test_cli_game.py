"""``mecsim game``: the JSON contract on the bundled example (checked against the library and a brute force of its
own), and one clear line with exit code 2 for every kind of bad game file."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from offload.game import is_nash, overheads
from simulator.cli import main
from simulator.game_file import load_game_file

EXAMPLE = Path(__file__).resolve().parent.parent / "scenarios" / "games" / "chen-small.yaml"

GOOD = """\
channels: 2
bandwidth: 5 MHz
noise: -100 dBm
cloud_speed: 100 GHz
defaults: {power: 100 mW, data: 500 kB, work: 1000M, speed: 1 GHz, compute_power: 0.5 W,
           time_weight: 1, energy_weight: 1}
users:
  - {distance: 10 m}
  - {distance: 20 m}
  - {gain: 1e-6}
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["game", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_gives_an_equilibrium_of_the_files_game() -> None:
    code, out, _ = run(str(EXAMPLE), "--json")
    assert code == 0
    data = json.loads(out)
    game = load_game_file(EXAMPLE).game
    decision = np.array(data["equilibrium"])
    assert len(decision) == game.users == 8
    assert is_nash(game, decision)
    assert data["beneficial_users"] == np.count_nonzero(decision)
    assert data["total_cost"] == pytest.approx(float(overheads(game, decision).sum()), rel=1e-12)
    assert data["updates"] >= 1
    assert "equilibria" not in data


def test_exhaustive_json_agrees_with_enumerating_the_profiles_here() -> None:
    code, out, _ = run(str(EXAMPLE), "--exhaustive", "--json")
    assert code == 0
    data = json.loads(out)
    game = load_game_file(EXAMPLE).game
    totals = {p: float(overheads(game, np.array(p)).sum()) for p in itertools.product(range(3), repeat=8)}
    equilibria = {p for p in totals if is_nash(game, np.array(p))}
    assert {tuple(e["decision"]) for e in data["equilibria"]} == equilibria
    assert tuple(data["equilibrium"]) in equilibria
    assert data["social_optimum"]["total_cost"] == pytest.approx(min(totals.values()), rel=1e-12)
    worst = max(totals[p] for p in equilibria)
    assert data["price_of_anarchy"] == pytest.approx(worst / min(totals.values()), rel=1e-12)


def test_text_output_names_the_summary_lines() -> None:
    code, out, _ = run(str(EXAMPLE), "--exhaustive")
    assert code == 0
    for words in ("Nash equilibrium after", "beneficial cloud users", "price of anarchy", "channel 2"):
        assert words in out


@pytest.mark.parametrize(("edit", "where", "rule"), [
    (lambda t: t.replace("{distance: 20 m}", "{distance: 20 m, power: -1 W}"), ":9: users[1].power",
     "must be >= 0"),
    (lambda t: t.replace("{distance: 20 m}", "{distance: 20 m, power: 0 W}"), ":9: users[1].power",
     "transmit power must be > 0"),
    (lambda t: t.replace("5 MHz", "0 Hz"), ":2: bandwidth", "must be > 0"),
    (lambda t: t.replace("channels: 2", "channels: 4"), ":1: channels", "must be <= the number of users (3)"),
    (lambda t: t.replace("noise: -100 dBm", "noise: -100 dBW"), ":3: noise", "unknown unit"),
    (lambda t: t.replace("{gain: 1e-6}", "{gain: 1e-6, distance: 3 m}"), ":10: users[2]", "either distance or gain"),
    (lambda t: t.replace("{gain: 1e-6}", "{gian: 1e-6}"), ":10: users[2].gian", "did you mean 'gain'"),
    (lambda t: t.replace("{distance: 10 m}", "{speed: 2 GHz}"), ":8: users[0]", "missing distance or gain"),
])
def test_bad_game_files_give_one_line_naming_file_line_and_key(tmp_path: Path, edit, where: str, rule: str) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(edit(GOOD), encoding="utf-8")
    code, out, err = run(str(path), "--json")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"mecsim: error: {path}{where}"), err
    assert rule in lines[0]
    assert "Traceback" not in err


def test_exhaustive_on_too_large_a_game_and_a_missing_file_exit_2(tmp_path: Path) -> None:
    users = "".join(f"  - {{distance: {5 + i} m}}\n" for i in range(30))
    path = tmp_path / "big.yaml"
    path.write_text(GOOD.split("users:")[0] + "users:\n" + users, encoding="utf-8")
    assert run(str(path))[0] == 0
    code, _, err = run(str(path), "--exhaustive")
    assert code == 2
    assert "exhaustive search over 3^30 profiles" in err
    code, _, err = run(str(tmp_path / "none.yaml"))
    assert code == 2
    assert "cannot read" in err
