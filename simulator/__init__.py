"""SimPy discrete-event simulation of devices, shared links and edge servers; scenarios, CLI and plots."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mecsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
