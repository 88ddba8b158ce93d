"""Finding scenario files: a path, or the name of a bundled scenario (``license-plate`` -> ``license-plate.yaml``).

Search order for names: the directories in ``MECSIM_SCENARIO_PATH`` (``os.pathsep``-separated), then the
``scenarios/`` directory shipped next to the packages.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from simulator.scenario.errors import ScenarioError, ScenarioIssue
from simulator.scenario.yamlload import load_yaml

ENV_VAR = "MECSIM_SCENARIO_PATH"
_SUFFIXES = (".yaml", ".yml")


def scenario_dirs() -> list[Path]:
    """Directories searched for bundled scenario names, in priority order."""
    dirs = [Path(entry) for entry in os.environ.get(ENV_VAR, "").split(os.pathsep) if entry]
    dirs.append(Path(__file__).resolve().parents[2] / "scenarios")
    return [directory for directory in dirs if directory.is_dir()]


def _named_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for directory in scenario_dirs():
        for path in sorted(directory.iterdir()):
            if path.suffix in _SUFFIXES and path.is_file():
                found.setdefault(path.stem, path)
    return found


def resolve_scenario_path(path_or_name: str | Path) -> Path:
    """Return the file for ``path_or_name``: an existing path as given, else a bundled scenario of that name.

    Raises
    ------
    ScenarioError
        Neither a file nor a known name; the message lists the bundled names and the closest one.
    """
    path = Path(path_or_name)
    if path.is_file():
        return path
    named = _named_files()
    stem = path.stem if path.suffix in _SUFFIXES else path.name
    if path.parent == Path(".") and stem in named:
        return named[stem]
    close = difflib.get_close_matches(stem, list(named), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    rule = (f"no such file or bundled scenario{hint} "
            f"(bundled: {', '.join(named) or 'none'})")
    raise ScenarioError([ScenarioIssue(str(path_or_name), None, (), rule)])


def _description(path: Path) -> str:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), str(path)).data
    except (OSError, UnicodeDecodeError, ScenarioError) as error:
        return f"(unreadable: {str(error).splitlines()[0]})"
    text = data.get("description", "") if isinstance(data, dict) else ""
    return str(text).strip().splitlines()[0] if str(text).strip() else ""


def bundled_scenarios() -> list[tuple[str, str]]:
    """Every bundled scenario as ``(name, one-line description)``, sorted by name."""
    return [(name, _description(path)) for name, path in sorted(_named_files().items())]
