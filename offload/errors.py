"""Exception hierarchy shared by every mecsim layer.

Every error a user can cause is a :class:`MecsimError`; the CLI turns it into a one-line message and exit code 2.
"""

from __future__ import annotations

from typing import Any


class MecsimError(Exception):
    """Root of all errors raised on purpose by mecsim."""


class ParameterError(MecsimError, ValueError):
    """A parameter has a value that breaks a rule.

    Parameters
    ----------
    name : str
        The parameter's name as the caller knows it (``uplink_bps``, ``--uplink``, ``devices[0].count``).
    value : object
        The offending value; ``None`` when it is missing (the message then omits it).
    rule : str
        The rule it breaks, phrased to follow the value (``"must be > 0"``).
    """

    def __init__(self, name: str, value: Any, rule: str) -> None:
        self.name = name
        self.value = value
        self.rule = rule
        super().__init__(f"{name}: {rule}" if value is None else f"{name}={value!r}: {rule}")


class UnitError(ParameterError):
    """A quantity string could not be converted to SI (unknown unit, wrong dimension, not a number)."""


class InfeasibleError(MecsimError):
    """A problem has no solution that meets its constraints; the message names what does not fit."""
