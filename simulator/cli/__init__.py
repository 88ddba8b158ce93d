"""The ``mecsim`` command line: one click group, one module per sub-command.

Errors the user caused (:class:`offload.errors.MecsimError`, bad options) and errors of the system (an
:class:`OSError`: a read-only or full disk, a missing folder) print one line on stderr and exit 2; ``--debug`` shows
the traceback instead.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from offload.errors import MecsimError

__all__ = ["COMMANDS", "EXIT_USAGE", "main"]

EXIT_USAGE = 2


#: sub-command -> (module, attribute, one-line help). Modules are imported only when their command runs, so
#: ``mecsim decide`` does not pay for matplotlib, SimPy or Dask.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "decide": ("simulator.cli.decide", "command", "Offload or local? Price one task (or a CSV batch) both ways."),
    "simulate": ("simulator.cli.simulate", "simulate_command", "Run a scenario and print per-policy statistics."),
    "validate": ("simulator.cli.simulate", "validate_command", "Check a scenario file and report every problem."),
    "scenarios": ("simulator.cli.simulate", "scenarios_command", "List the bundled scenarios."),
    "sweep": ("simulator.cli.sweep", "command", "Sweep scenario parameters (process pool or Dask), resumable."),
    "place": ("simulator.cli.place", "command", "Place services on an edge topology and report the gap."),
    "init": ("simulator.cli.init", "command", "Write a commented scenario to start from (--template ...)."),
    "game": ("simulator.cli.game", "command", "Multi-user offloading game: Nash equilibrium, optimum, anarchy."),
    "plot": ("simulator.cli.plot", "command", "Render the standard figures of a simulate or sweep directory."),
    "serve": ("simulator.cli.serve", "command", "Serve offload decisions over HTTP (FastAPI + uvicorn)."),
    "split": ("simulator.cli.split", "command", "Where to cut a DNN between device and edge (Neurosurgeon)."),
}


class _Group(click.Group):
    """Lazily loaded sub-commands; project errors become ``mecsim: error: ...`` and exit code 2, never a traceback
    (unless --debug)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attribute, _ = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in self.list_commands(ctx)])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (MecsimError, OSError) as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            for line in _message(error).splitlines():  # several problems (a ScenarioError) are one line each
                click.echo(f"mecsim: error: {line}", err=True)
            sys.exit(EXIT_USAGE)


def _message(error: MecsimError | OSError) -> str:
    """The message of ``error``; an OS error not caught where it happened still names its path and the reason."""
    if isinstance(error, MecsimError):
        return str(error)
    where = " -> ".join(str(name) for name in (error.filename, error.filename2) if name is not None)
    return f"{where}: {error.strerror}" if where and error.strerror else str(error)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.version_option(package_name="mecsim")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """mecsim: offload decisions, MEC service placement and edge-AI simulation."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
