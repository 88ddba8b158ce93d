"""Execute every notebook in ``notebooks/`` in fast mode (``MECSIM_FAST=1``) so they never rot."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbclient
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
TIMEOUT_S = 300


def execute_notebook(path: Path) -> nbclient.NotebookClient:
    """Run a jupytext percent notebook top to bottom; raises on the first failing cell.

    The kernel inherits this process's environment, so set ``MECSIM_FAST=1`` first for the fast mode.
    """
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(notebook, timeout=TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent.parent)}})
    client.execute()
    return client


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.py")), ids=lambda p: p.stem)
def test_notebook_executes(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MECSIM_FAST", "1")
    client = execute_notebook(path)
    images = [output for cell in client.nb.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
              if "image/png" in output.get("data", {})]
    assert images, f"{path.name} shows no figure"
