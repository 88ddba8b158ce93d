"""The installed mecsim version, for result metadata and ``simulator.__version__``."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def mecsim_version() -> str:
    """The distribution's version, or ``0.0.0+unknown`` when running from a source tree that is not installed.

    Read from the distribution, not from ``simulator.__version__``: scripts outside the tree may import the package
    as a namespace through the editable-install finder, which skips ``__init__``.
    """
    try:
        return version("mecsim")
    except PackageNotFoundError:
        return "0.0.0+unknown"
