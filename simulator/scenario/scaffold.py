"""Starting points for new scenarios (``mecsim init``): commented, valid scenario files shipped in ``templates/``.

A template is a YAML file in ``simulator/scenario/templates`` (its name is the file name without ``.yaml``); adding
one is adding a file, and the test suite validates and runs every one. Templates carry no ``name:`` key: a scenario
file without one is called after itself, so ``mecsim init city`` gives a scenario named ``city``.
"""

from __future__ import annotations

from pathlib import Path

from offload.errors import ParameterError
from simulator.files import write_text

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
#: The template ``mecsim init`` writes when none is named: the smallest scenario that runs.
DEFAULT_TEMPLATE = "minimal"


def template_names() -> list[str]:
    """Every template's name, sorted."""
    return sorted(path.stem for path in TEMPLATE_DIR.glob("*.yaml"))


def template_text(name: str) -> str:
    """The text of template ``name``.

    Raises
    ------
    ParameterError
        No template has that name; the message lists the valid names.
    """
    path = TEMPLATE_DIR / f"{name}.yaml"
    if name not in template_names():
        raise ParameterError("--template", name, f"unknown template; valid: {', '.join(template_names())}")
    return path.read_text(encoding="utf-8")


def template_summary(name: str) -> str:
    """The first comment line of template ``name``: what it models."""
    first = template_text(name).splitlines()[0]
    return first.lstrip("# ").strip()


def scenario_path(name: str) -> Path:
    """Where ``mecsim init NAME`` writes: ``NAME`` itself when it ends in ``.yaml``/``.yml``, else ``NAME.yaml``."""
    path = Path(name)
    return path if path.suffix in (".yaml", ".yml") else path.with_name(path.name + ".yaml")


def write_template(name: str, target: Path, *, force: bool = False) -> Path:
    """Write template ``name`` to ``target`` atomically; an existing file is replaced only with ``force``.

    Raises
    ------
    ParameterError
        Unknown template, or ``target`` exists and ``force`` is false.
    OutputError
        The file could not be written (a missing or read-only folder).
    """
    text = template_text(name)
    if target.exists() and not force:
        raise ParameterError("NAME", str(target), "already exists; add --force to replace it")
    return write_text(target, text)
