"""The import contract: dependencies flow one way, ``offload`` ← ``scheduler`` ← simulator core ← ``lifecycle``,
``mobility`` ← ``scenario`` ← ``sweep``, ``rl`` ← ``plots``, ``serve`` ← ``cli`` (the plots draw sweep results, so
``sweep`` sits below them).

Every module of the three packages is read with :mod:`ast` (imports inside functions and ``TYPE_CHECKING`` blocks
count too: a deferred import is still a dependency) and each import must point to the same layer or a lower one;
groups side by side in one layer (``plots``, ``serve``) must not import each other.

To add a module or subpackage, register it in :data:`GROUPS` (module name or package prefix -> group) and, for a
new group, put the group in :data:`LAYERS`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("offload", "scheduler", "simulator")

#: Groups from the bottom up; groups in one tuple are side by side (neither may import the other).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("offload",),
    ("scheduler",),
    ("core",),
    ("lifecycle", "mobility"),
    ("scenario",),
    ("sweep", "rl"),
    ("plots", "serve"),
    ("cli",),
)
#: Module name, or package prefix (ending in "."), to its group; the longest match wins.
GROUPS: dict[str, str] = {
    "offload.": "offload",
    "offload": "offload",
    "scheduler.": "scheduler",
    "scheduler": "scheduler",
    # the simulator core: the world and the engine, and the small helpers they use
    "simulator": "core",
    "simulator.arrivals": "core",
    "simulator.backhaul": "core",  # bulk transfers over the shared links: image pulls, session state copies
    "simulator.builders": "core",
    "simulator.decide_api": "core",  # the answer of `mecsim decide` (offload only), shared by cli and serve
    "simulator.battery": "core",
    "simulator.devices": "core",
    "simulator.disciplines": "core",
    "simulator.distributions": "core",
    "simulator.dnn": "scenario",  # DNN layer-profile files, read with the scenario loaders
    "simulator.dnn.": "scenario",
    "simulator.energy": "core",
    "simulator.families": "core",
    "simulator.engine": "core",
    "simulator.events": "core",
    "simulator.jobs": "core",  # the engine's vocabulary: jobs, its plug-in protocols, a replication's output
    "simulator.files": "core",
    "simulator.links": "core",  # a moving device's own view of its cell's channel (issue 13)
    "simulator.metrics": "core",
    "simulator.motion_log": "core",  # moving devices over a run as tables, latency against speed (issue 13)
    "simulator.moving": "core",  # a moving device's tasks: decided on its current cell, ahead to the next step
    "simulator.network": "core",
    "simulator.placement_bridge": "core",
    "simulator.placement_sim": "core",  # placements played forward: model vs simulator (issue 15)
    "simulator.plugins": "core",  # policies by import path or entry point, and making policies from specs
    "simulator.policies": "core",
    "simulator.rate_profiles": "core",
    "simulator.records": "core",
    "simulator.result": "core",
    "simulator.run": "core",
    "simulator.sampler": "core",  # the engine's time series of servers and batteries
    "simulator.servers": "core",
    "simulator.stations": "core",
    "simulator.output_analysis": "core",
    "simulator.summary": "core",
    "simulator.topology": "core",
    "simulator.version": "core",
    "simulator.workloads": "core",
    "simulator.world": "core",
    "simulator.elements": "core",
    "simulator.lifecycle": "lifecycle",
    "simulator.lifecycle.": "lifecycle",
    "simulator.mobility": "mobility",  # devices that move: models, radio and attachment, handover (issue 13)
    "simulator.mobility.": "mobility",
    "simulator.scenario": "scenario",
    "simulator.game_file": "scenario",  # a YAML file format over the scenario package's loaders
    "simulator.scenario.": "scenario",
    "simulator.rl": "rl",  # Gymnasium / PettingZoo views of a run (issue 17)
    "simulator.rl.": "rl",
    "simulator.sweep": "sweep",
    "simulator.sweep.": "sweep",
    "simulator.plots": "plots",
    "simulator.plots.": "plots",
    "simulator.serve": "serve",
    "simulator.serve.": "serve",
    "simulator.cli": "cli",
    "simulator.cli.": "cli",
    "simulator.__main__": "cli",
}
_LEVEL = {group: level for level, groups in enumerate(LAYERS) for group in groups}


def group_of(module: str) -> str | None:
    """The group of ``module`` (``None``: not one of ours, or not registered)."""
    if module in GROUPS:
        return GROUPS[module]
    prefixes = [prefix for prefix in GROUPS if prefix.endswith(".") and module.startswith(prefix)]
    return GROUPS[max(prefixes, key=len)] if prefixes else None


def modules() -> Iterator[tuple[str, Path]]:
    """Every module of the packages as (dotted name, file)."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) of every import in the file, relative ones resolved."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            yield node.lineno, base
            for alias in node.names:  # ``from simulator import world`` imports the module simulator.world
                if group_of(f"{base}.{alias.name}") is not None and f"{base}.{alias.name}" in GROUPS:
                    yield node.lineno, f"{base}.{alias.name}"


def _ours(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def test_every_module_is_registered_in_a_layer() -> None:
    unknown = [f"{path.relative_to(ROOT)} ({module})" for module, path in modules() if group_of(module) is None]
    assert not unknown, ("modules in no layer of the import contract: " + ", ".join(unknown) +
                         "; register each in GROUPS of tests/test_import_contract.py (and a new group in LAYERS)")


@pytest.mark.parametrize(("module", "path"), [pytest.param(m, p, id=m) for m, p in modules()])
def test_imports_flow_one_way(module: str, path: Path) -> None:
    mine = group_of(module)
    if mine is None:
        pytest.skip("unregistered: reported by test_every_module_is_registered_in_a_layer")
    wrong = []
    for line, target in imports(module, path):
        theirs = group_of(target) if _ours(target) else None
        if theirs is None or theirs == mine:
            continue
        if _LEVEL[theirs] >= _LEVEL[mine]:
            wrong.append(f"{path.relative_to(ROOT)}:{line}: {module} ({mine}) imports {target} ({theirs})")
    assert not wrong, "imports against the layers " + " <- ".join("/".join(g) for g in LAYERS) + ":\n" + \
        "\n".join(wrong)


def test_the_contract_catches_an_upward_import(tmp_path: Path) -> None:
    path = tmp_path / "world.py"
    path.write_text("def f():\n    from simulator.scenario import load_scenario\n", encoding="utf-8")
    found = [(line, target) for line, target in imports("simulator.world", path)]
    assert (2, "simulator.scenario") in found
    assert _LEVEL[group_of("simulator.scenario") or ""] > _LEVEL[group_of("simulator.world") or ""]
