"""The top-level ``mecsim`` group: lazy sub-commands resolve, help lists them, unknown ones fail cleanly."""

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from simulator.cli import COMMANDS, main


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_command_loads_and_has_help(name):
    command = main.get_command(click.Context(main), name)
    assert isinstance(command, click.Command)
    assert command.name == name
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_help_lists_every_command_without_importing_them():
    code = ("import sys; from click.testing import CliRunner; from simulator.cli import main; "
            "r = CliRunner().invoke(main, ['--help']); print(r.output); "
            "print('LOADED', [m for m in ('matplotlib', 'simpy', 'dask') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for name in COMMANDS:
        assert name in out
    assert "LOADED []" in out


def test_unknown_command_exits_2():
    result = CliRunner().invoke(main, ["nonsense"])
    assert result.exit_code == 2
    assert "No such command" in result.output
