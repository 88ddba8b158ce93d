"""MkDocs hook: the pages generated at build time, so none of them is maintained by hand.

- ``cli/<command>.md``: one page per ``mecsim`` command (its ``--help``), listed in the nav from
  :data:`simulator.cli.COMMANDS`; the notebooks' nav entries likewise from ``notebooks/NN_*.py``;
- ``scenario-reference.md``: :func:`simulator.scenario.reference.scenario_reference`, from the schema;
- ``gallery.md`` and ``gallery/*.png``: the standard figures, drawn by running the bundled ``mm1`` scenario and a
  small sweep through the CLI exactly as a user would;
- ``notebooks/*.py``: the jupytext notebooks, executed and rendered by mkdocs-jupyter;
- ``contributing.md``, ``changelog.md``: the repository's files.

``MECSIM_FAST=1`` (set by the test suite) shortens the notebooks and the gallery runs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
_TEMP = tempfile.TemporaryDirectory(prefix="mecsim-docs-")


def _help(name: str) -> str:
    from simulator.cli import COMMANDS, main

    command = main.get_command(click.Context(main), name)
    assert command is not None, name
    with click.Context(command, info_name=f"mecsim {name}", terminal_width=100, max_content_width=100) as ctx:
        text = command.get_help(ctx)
    return f"# mecsim {name}\n\n{COMMANDS[name][2]}\n\n```text\n{text}\n```\n"


def _notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9]*.py"))


def _title(notebook: Path) -> str:
    """The notebook's first heading (``# # 1. Offload trade-offs`` in jupytext's percent format)."""
    heading = next((line for line in notebook.read_text(encoding="utf-8").splitlines() if line.startswith("# # ")),
                   notebook.stem)
    return heading.removeprefix("# # ").split(":")[0].split("`")[0].strip()


def on_config(config: Any) -> Any:
    from simulator.cli import COMMANDS

    for index, entry in enumerate(config.nav):
        if isinstance(entry, dict) and entry.get("Command line") == "cli/index.md":
            config.nav[index] = {"Command line": ["cli/index.md",
                                                  *({f"mecsim {name}": f"cli/{name}.md"} for name in sorted(COMMANDS))]}
        if isinstance(entry, dict) and entry.get("Notebooks") == "notebooks":
            config.nav[index] = {"Notebooks": [{_title(path): f"notebooks/{path.name}"} for path in _notebooks()]}
    return config


def _run(*args: str) -> None:
    from simulator.cli import main

    try:
        main.main(list(args), prog_name="mecsim", standalone_mode=False)
    except SystemExit as stop:
        if stop.code:
            raise RuntimeError(f"mecsim {' '.join(args)} exited with {stop.code}") from None


def _gallery(config: Any) -> list[File]:
    """Draw the standard figures of a run and of a sweep with the CLI; the gallery page shows each one."""
    work = Path(_TEMP.name)
    fast = os.environ.get("MECSIM_FAST") == "1"
    run_dir, sweep_dir = work / "run", work / "sweep"
    _run("simulate", "mm1", "--set", f"run.duration={300 if fast else 2000}s", "--out", str(run_dir))
    _run("sweep", "mm1", "--grid", "devices[0].workload.rate=4/s,6/s,8/s", "--set",
         f"run.duration={200 if fast else 1000}s", "--replications", "2", "--workers", "1", "--quiet",
         "--out", str(sweep_dir))
    _run("plot", str(sweep_dir))
    files, lines = [], ["# Gallery", "",
                        "The standard figures, drawn when this site was built by the commands below (the bundled",
                        "M/M/1 scenario: λ = 8/s, μ = 10/s), exactly as `mecsim plot` draws them for your runs.", ""]
    for title, command, folder in (
            ("A run", "mecsim simulate mm1 --out run", run_dir / "figures"),
            ("A sweep", ("mecsim sweep mm1 --grid devices[0].workload.rate=4/s,6/s,8/s --out sweep && "
                         "mecsim plot sweep"), sweep_dir / "figures")):
        lines += [f"## {title}", "", f"```sh\n{command}\n```", ""]
        for path in sorted(folder.glob("*.png")):
            src_uri = f"gallery/{folder.parent.name}-{path.name}"
            files.append(File.generated(config, src_uri, content=path.read_bytes()))
            lines += [f"### {path.stem.replace('_', ' ')}", "", f"![{path.stem}]({src_uri})", ""]
    files.append(File.generated(config, "gallery.md", content="\n".join(lines)))
    return files


@event_priority(100)  # before mkdocs-jupyter replaces the notebook files with its own
def on_files(files: Files, config: Any) -> Files:
    from simulator.cli import COMMANDS
    from simulator.scenario.reference import scenario_reference

    for name in COMMANDS:
        files.append(File.generated(config, f"cli/{name}.md", content=_help(name)))
    files.append(File.generated(config, "scenario-reference.md", content=scenario_reference()))
    for path in _notebooks():
        # a File of the checkout (not a generated one, which mkdocs-jupyter's wrapper cannot read)
        files.append(File(f"notebooks/{path.name}", src_dir=str(ROOT), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
    for name, source in (("contributing.md", "CONTRIBUTING.md"), ("changelog.md", "CHANGELOG.md")):
        files.append(File.generated(config, name, content=(ROOT / source).read_text(encoding="utf-8")))
    for file in _gallery(config):
        files.append(file)
    return files
