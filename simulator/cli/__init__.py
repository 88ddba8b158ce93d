"""The ``mecsim`` command line: one click group, one module per sub-command.

Errors the user caused (:class:`offload.errors.MecsimError`, bad options) print one line on stderr and exit 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from offload.errors import MecsimError

EXIT_USAGE = 2


class _Group(click.Group):
    """Turns project errors into ``mecsim: error: ...`` and exit code 2, never a traceback (unless --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MecsimError as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"mecsim: error: {error}", err=True)
            sys.exit(EXIT_USAGE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.version_option(package_name="mecsim")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """mecsim: offload decisions, MEC service placement and edge-AI simulation."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _register() -> None:
    from simulator.cli import decide

    main.add_command(decide.command)
    from simulator.cli import plot
    main.add_command(plot.command)
    from simulator.cli import sweep
    main.add_command(sweep.command)
    from simulator.cli import simulate
    main.add_command(simulate.simulate_command)
    main.add_command(simulate.validate_command)
    main.add_command(simulate.scenarios_command)
    from simulator.cli import place
    main.add_command(place.command)


_register()
