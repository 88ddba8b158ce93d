"""``mecsim init [NAME] [--template T]``: write a commented, valid scenario to start from."""

from __future__ import annotations

import click

from simulator.scenario.scaffold import (
    DEFAULT_TEMPLATE,
    scenario_path,
    template_names,
    template_summary,
    write_template,
)

_EPILOG = "\b\nTemplates:\n" + "\n".join(f"  {name:<10} {template_summary(name)}" for name in template_names())


@click.command("init", epilog=_EPILOG)
@click.argument("name", default="scenario")
@click.option("--template", "-t", type=click.Choice(template_names()), default=DEFAULT_TEMPLATE, show_default=True,
              help="What the scenario starts from.")
@click.option("--force", is_flag=True, help="Replace NAME.yaml if it exists.")
def command(name: str, template: str, force: bool) -> None:
    """Write NAME.yaml (default scenario.yaml), a commented scenario that validates and runs as it is; then
    `mecsim simulate NAME.yaml`."""
    path = write_template(template, scenario_path(name), force=force)
    click.echo(f"wrote {path} (template {template}); run it with: mecsim simulate {path}")
