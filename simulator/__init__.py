"""SimPy discrete-event simulation of devices, shared links and edge servers; scenarios, CLI and plots."""

from simulator.version import mecsim_version

__version__ = mecsim_version()
