"""The README's quick start runs as written (issue 18): every command of its block, in order, in a fresh folder,
with the ``mecsim`` installed beside this Python (the checkout's venv)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "mecsim"


def quickstart_commands() -> list[list[str]]:
    """The commands of the README's ``## Quick start`` shell block, comments removed."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the quick start has no ```sh block"
    return [shlex.split(line, comments=True) for line in block.group(1).splitlines() if line.strip()]


def test_the_quick_start_is_mecsim_commands() -> None:
    commands = quickstart_commands()
    assert len(commands) >= 5
    assert all(command[0] == "mecsim" for command in commands)


@pytest.mark.slow
def test_the_quick_start_runs_as_written(tmp_path: Path) -> None:
    env = {**os.environ, "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for command in quickstart_commands():
        done = subprocess.run([str(SCRIPT), *command[1:]], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=900, check=False)
        assert done.returncode == 0, f"{shlex.join(command)}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    assert (tmp_path / "city.yaml").is_file()
    assert (tmp_path / "results" / "city" / "summary.json").is_file()
    assert list((tmp_path / "sweeps" / "mm1" / "figures").glob("*.png"))
