"""Notebooks use only the public API (issue 18): no private module or name, and a name imported from a package is
one its ``__init__`` exports in ``__all__``."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.py"))
OURS = ("offload", "scheduler", "simulator")


def _imports(path: Path) -> list[tuple[str, str]]:
    """``(module, name)`` for every ``from module import name`` of our packages (``name`` empty for ``import``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in OURS:
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names if alias.name.split(".")[0] in OURS]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_imports_only_public_names(path: Path) -> None:
    imports = _imports(path)
    assert imports, "a notebook that imports nothing of ours is not checked"
    for module_name, name in imports:
        assert not any(part.startswith("_") for part in module_name.split(".")), f"private module {module_name}"
        assert not name.startswith("_"), f"private name {module_name}.{name}"
        module = importlib.import_module(module_name)
        is_submodule = hasattr(module, "__path__") and importlib.util.find_spec(f"{module_name}.{name}") is not None
        if name and hasattr(module, "__path__") and not is_submodule:
            assert name in module.__all__, f"{module_name} does not export {name} in __all__"


@pytest.mark.parametrize("package", ["offload", "scheduler", "simulator", "simulator.scenario", "simulator.plots",
                                     "simulator.sweep", "simulator.dnn", "scheduler.solvers"])
def test_every_package_declares_and_has_its_public_names(package: str) -> None:
    module = importlib.import_module(package)
    assert len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None
