"""The EUA Melbourne CBD dataset shipped in ``scheduler/data/eua`` (125 Optus base-station sites, 816 users).

Source: P. Lai et al., "Optimal Edge User Allocation in Edge Computing with Variable Sized Vector Bin Packing",
ICSOC 2018; MIT licence (see ``scheduler/data/eua/LICENSE``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

SITES_FILE = "site-optus-melbCBD.csv"
USERS_FILE = "users-melbcbd-generated.csv"


@dataclass(frozen=True, slots=True)
class Sites:
    """Base-station sites: identifier, coordinates (degrees) and the licence-register name."""

    site_id: tuple[str, ...]
    lat_deg: FloatArray
    lon_deg: FloatArray
    name: tuple[str, ...]


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files("scheduler").joinpath("data", "eua", filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def load_sites() -> Sites:
    """The 125 candidate edge sites, in file order."""
    rows = _rows(SITES_FILE)
    return Sites(
        site_id=tuple(row["SITE_ID"] for row in rows),
        lat_deg=np.array([float(row["LATITUDE"]) for row in rows]),
        lon_deg=np.array([float(row["LONGITUDE"]) for row in rows]),
        name=tuple(row["NAME"] for row in rows),
    )


def load_users() -> tuple[FloatArray, FloatArray]:
    """The 816 user locations as ``(lat_deg, lon_deg)`` arrays, in file order."""
    rows = _rows(USERS_FILE)
    return np.array([float(r["Latitude"]) for r in rows]), np.array([float(r["Longitude"]) for r in rows])
