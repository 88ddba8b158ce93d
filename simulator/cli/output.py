"""Writing a simulate run to a directory (the ``--out DIR`` contract read by ``mecsim plot`` and the notebooks).

Layout::

    DIR/records.parquet      one row per task (records.csv when Parquet is unavailable)
    DIR/timeseries.parquet   utilisation and queue length over time (or .csv), when the run recorded them
    DIR/battery.parquet      battery level of every battery device over time (or .csv), when devices have one
    DIR/events.parquet       the platform's events (deploy, pull, ready, scale, ...), with deployments (or .csv)
    DIR/replicas.parquet     replicas per state of every deployment after each change (or .csv)
    DIR/mobility.parquet     per moving group: handovers, interruption, migrations, ... (or .csv), when devices move
    DIR/mobility_series.parquet   per moving group, at every step: mean distance and round trip to the serving replica
    DIR/tracks.parquet       the positions of a few devices per moving group at every step
    DIR/latency_by_speed.parquet  tasks' latency per moving group and speed bin
    DIR/cells.parquet        the access points on the map: position and range (m)
    DIR/summary.json         the object ``mecsim simulate --json`` prints
    DIR/scenario.yaml        the resolved scenario (after --set overrides), loadable again
    DIR/figures/*.png        the standard figures
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from offload.errors import ParameterError
from simulator.files import replacing, replacing_folder, write_text
from simulator.motion_log import MotionLog
from simulator.result import PlatformLog
from simulator.scenario.report import DEFAULT_WIDTH
from simulator.summary import json_safe

logger = logging.getLogger(__name__)

#: Files of ``DIR`` this module writes (besides the figures); ``--force`` replaces exactly these and the figures.
OUTPUT_FILES = ("records.parquet", "records.csv", "timeseries.parquet", "timeseries.csv", "battery.parquet",
                "battery.csv", "events.parquet", "events.csv", "replicas.parquet", "replicas.csv", "traffic.parquet",
                "traffic.csv", "mobility.parquet", "mobility.csv", "mobility_series.parquet", "mobility_series.csv",
                "tracks.parquet", "tracks.csv", "latency_by_speed.parquet", "latency_by_speed.csv", "cells.parquet",
                "cells.csv", "summary.json",
                "scenario.yaml")


#: Line width of tables written to a file or a pipe.
PIPE_WIDTH = 200


def terminal_width() -> int:
    """Columns of the terminal (at least 60); :data:`PIPE_WIDTH` when the output goes to a file or a pipe, where
    one line per table row is easier to read back (long cells are summarised anyway)."""
    if sys.stdout.isatty():
        return max(60, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    return PIPE_WIDTH


_RESOLVED_HEADER = ("# The scenario as run: --set overrides applied, defaults filled in, plain numbers in SI units\n"
                    "# (s, bits, bps, ops, ops/s, W, J, m). `mecsim simulate scenario.yaml` runs it again.\n")


def parquet_available() -> bool:
    """Whether pandas can write Parquet here (pyarrow or fastparquet installed)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        try:
            import fastparquet  # type: ignore[import-not-found] # noqa: F401
        except ImportError:
            return False
    return True


def dumps_json(value: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text of ``value``: NaN and infinities become ``null``."""
    return json.dumps(json_safe(value), indent=indent, allow_nan=False)


def check_out_dir(out_dir: Path, *, force: bool) -> None:
    """Refuse ``out_dir`` before a run when writing there would replace files without ``force``.

    Raises
    ------
    ParameterError
        ``out_dir`` is a file, or exists and is not empty while ``force`` is not set.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError("--out", str(out_dir), "is a file, expected a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise ParameterError("--out", str(out_dir), "already exists; use --force to replace the files a previous "
                                                    "run wrote there (other files are kept)")


def owned_files() -> tuple[str, ...]:
    """Every file of ``DIR`` a run may write, relative to it: what ``--force`` replaces or removes."""
    from simulator.plots.run import FIGURES_DIR, RUN_FIGURES  # lazily: matplotlib is slow to import

    return OUTPUT_FILES + tuple(f"{FIGURES_DIR}/{name}" for name in RUN_FIGURES)


@contextmanager
def run_folder(out_dir: Path) -> Iterator[Path]:
    """A temporary folder beside ``out_dir`` to :func:`write_run` into, swapped in only when the block succeeds.

    The files a run writes (:func:`owned_files`) replace those of the previous run, and those it did not write this
    time are removed; any other file in ``out_dir`` (a user's notes, their own figures) is kept. On failure or
    interrupt ``out_dir`` is left exactly as it was.
    """
    with replacing_folder(out_dir, owned_files()) as folder:
        yield folder


def write_table(frame: pd.DataFrame, out_dir: Path, stem: str) -> Path:
    """Write ``frame`` as ``stem.parquet`` if possible, else ``stem.csv``; returns the path written."""
    parquet = parquet_available()
    path = out_dir / f"{stem}.{'parquet' if parquet else 'csv'}"
    with replacing(path) as temporary:
        if parquet:
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, index=False)
    return path


def write_run(out_dir: Path, *, records: pd.DataFrame | None, timeseries: pd.DataFrame | None,
              summary: Mapping[str, Any], resolved_scenario: Mapping[str, Any], figures: bool = True,
              platform: PlatformLog | None = None, battery: pd.DataFrame | None = None,
              mobility: pd.DataFrame | None = None, motion: MotionLog | None = None,
              latency_by_speed: pd.DataFrame | None = None) -> list[Path]:
    """Write one run's files into an already prepared ``out_dir``; returns every path written.

    Figures are drawn by :func:`simulator.plots.render_run_figures` from the files just written, so ``mecsim plot``
    reproduces them exactly.
    """
    written: list[Path] = []
    if records is not None:
        written.append(write_table(records, out_dir, "records"))
    if timeseries is not None and not timeseries.empty:
        written.append(write_table(timeseries, out_dir, "timeseries"))
    if battery is not None and not battery.empty:
        written.append(write_table(battery, out_dir, "battery"))
    if platform is not None:
        written += [write_table(getattr(platform, stem), out_dir, stem) for stem in ("events", "replicas", "traffic")]
    if mobility is not None:
        written.append(write_table(mobility, out_dir, "mobility"))
    if motion is not None:
        written += [write_table(table, out_dir, stem) for table, stem in (
            (motion.series, "mobility_series"), (motion.tracks, "tracks"), (motion.cells, "cells"))]
    if latency_by_speed is not None:
        written.append(write_table(latency_by_speed, out_dir, "latency_by_speed"))
    summary_path = write_text(out_dir / "summary.json", dumps_json(summary) + "\n")
    scenario_path = write_text(out_dir / "scenario.yaml", _RESOLVED_HEADER + yaml.safe_dump(
        dict(resolved_scenario), sort_keys=False, allow_unicode=True))
    written += [summary_path, scenario_path]
    if figures and records is not None and not records.empty:
        from simulator.plots import render_run_figures

        written += render_run_figures(out_dir)
    return written
