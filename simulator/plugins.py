"""Policies by reference: a built-in name, an import path or an installed entry point, all resolved here.

A scenario names a policy in one of three ways:

- a built-in name, a key of :data:`simulator.policies.POLICIES` (``queue_aware``);
- an import path ``package.module:Class`` (the scenario's ``class:`` key), imported with :mod:`importlib`;
- the name of an entry point in the group :data:`ENTRY_POINT_GROUP` (``mecsim.policies``) of an installed
  distribution, e.g. ``[project.entry-points."mecsim.policies"] my_policy = "my_package.module:MyPolicy"``.

Whatever the reference, the object made from it must satisfy :class:`simulator.policies.Policy` (a ``stateful``
bool and ``choose(batch, observed, rng)``); :func:`protocol_gaps` names what is missing. A plugin's answers are
checked at run time by :class:`CheckedPolicy` (shape and valid options), so a wrong answer is one clear error
naming the policy, not an index error deep in the engine.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar

import numpy as np

from offload.errors import MecsimError, ParameterError
from simulator.policies import POLICIES, DecisionBatch, IntArray, Observation, Policy
from simulator.world import PolicySpec

#: The entry-point group installed distributions register their policies in.
ENTRY_POINT_GROUP = "mecsim.policies"


class UnknownPolicyError(MecsimError):
    """A policy name that is neither built in nor an installed entry point; ``valid`` lists the known names."""

    def __init__(self, name: str, valid: list[str]) -> None:
        self.name = name
        self.valid = valid
        super().__init__(f"unknown policy {name!r}; valid policies: {', '.join(valid)} "
                         "(or class: 'package.module:Class')")


class PolicyPluginError(MecsimError):
    """A plugin policy cannot be imported, or what it gives does not satisfy the Policy protocol."""

    def __init__(self, reference: str, rule: str) -> None:
        self.reference = reference
        self.rule = rule
        super().__init__(f"policy {reference!r}: {rule}")


def is_import_path(reference: str) -> bool:
    """``package.module:Class`` rather than a registered name."""
    return ":" in reference


def _installed() -> dict[str, EntryPoint]:
    return {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}


def policy_names() -> list[str]:
    """Built-in names, then the installed entry points' names (sorted)."""
    return sorted(POLICIES) + sorted(set(_installed()) - set(POLICIES))


def _import(reference: str) -> Any:
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise PolicyPluginError(reference, "an import path is 'package.module:Class'")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise PolicyPluginError(reference, f"cannot import module {module_name!r} ({error}); is its folder on "
                                           "PYTHONPATH or its package installed?") from None
    except Exception as error:  # any failure inside a user's module is reported, not a traceback
        raise PolicyPluginError(reference, f"importing module {module_name!r} failed: "
                                           f"{type(error).__name__}: {error}") from None
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise PolicyPluginError(reference, f"module {module_name!r} has no attribute {attribute!r}")
        found = getattr(found, part)
    return found


def _entry_point(name: str) -> Any:
    point = _installed().get(name)
    if point is None:
        raise UnknownPolicyError(name, policy_names())
    try:
        return point.load()
    except Exception as error:  # a broken installed plugin is reported, not a traceback
        raise PolicyPluginError(name, f"entry point {point.value!r} of group {ENTRY_POINT_GROUP!r} cannot be "
                                      f"loaded: {type(error).__name__}: {error}") from None


def policy_factory(reference: str) -> Callable[..., Any]:
    """The class (or factory) a policy reference names.

    Raises
    ------
    UnknownPolicyError
        A name that is neither built in nor installed.
    PolicyPluginError
        An import path or entry point that cannot be loaded, or names something that is not callable.
    """
    if reference in POLICIES:
        return POLICIES[reference]
    found = _import(reference) if is_import_path(reference) else _entry_point(reference)
    if not callable(found):
        raise PolicyPluginError(reference, f"names a {type(found).__name__}, not a policy class")
    return found  # type: ignore[no-any-return]


def protocol_gaps(policy: object) -> list[str]:
    """What ``policy`` (a class or an instance) lacks to satisfy :class:`simulator.policies.Policy` (empty: nothing)."""
    gaps = []
    if not isinstance(getattr(policy, "stateful", None), bool):
        gaps.append("class attribute 'stateful: bool' (False: asked once per block of tasks with observed=None; "
                    "True: once per task at its arrival with an Observation)")
    choose = getattr(policy, "choose", None)
    if not callable(choose):
        gaps.append("method 'choose(self, batch, observed, rng)' returning one option per task")
        return gaps
    unbound = inspect.isclass(policy) and inspect.isfunction(inspect.getattr_static(policy, "choose"))
    try:
        inspect.signature(choose).bind(*([None] * (4 if unbound else 3)))
    except TypeError:
        gaps.append("'choose' must take (batch, observed, rng)")
    except ValueError:  # no signature to read (a builtin): trust it
        pass
    return gaps


def _check_protocol(reference: str, policy: object) -> None:
    gaps = protocol_gaps(policy)
    if gaps:
        raise PolicyPluginError(reference, "does not satisfy the Policy protocol: missing " + "; ".join(gaps))


class CheckedPolicy:
    """A stateless plugin policy whose every answer is checked: one integer option per task, each in
    ``0..candidates``; an exception inside the plugin becomes a :class:`PolicyPluginError` naming it."""

    stateful: ClassVar[bool] = False

    def __init__(self, inner: Any, reference: str) -> None:
        self.inner = inner
        self.reference = reference

    def choose(self, batch: DecisionBatch, observed: Observation | None, rng: np.random.Generator) -> IntArray:
        """The inner policy's options, checked."""
        try:
            options = np.asarray(self.inner.choose(batch, observed, rng))
        except MecsimError:
            raise
        except Exception as error:  # the user's code failed: say whose, keep the chain for --debug
            raise PolicyPluginError(self.reference, f"choose raised {type(error).__name__}: {error}") from error
        n = batch.work_ops.shape[0]
        highest = len(batch.candidates)
        if options.shape != (n,) or not np.issubdtype(options.dtype, np.integer):
            raise PolicyPluginError(self.reference, f"choose returned {options.dtype} of shape {options.shape} "
                                                    f"for {n} tasks; it must return {n} integer options")
        if n and (options.min() < 0 or options.max() > highest):
            raise PolicyPluginError(self.reference, f"choose returned option {int(options.max())} for device "
                                                    f"group {batch.group!r}; valid options are 0 (local) to "
                                                    f"{highest} (its {highest} candidate servers)")
        return options.astype(np.intp, copy=False)


class CheckedStatefulPolicy(CheckedPolicy):
    """:class:`CheckedPolicy` for a plugin asked once per task, with an observation."""

    stateful: ClassVar[bool] = True


def make_policy(spec: PolicySpec) -> Policy:
    """Instantiate the policy ``spec`` names with its parameters; a plugin is wrapped in :class:`CheckedPolicy`.

    Raises
    ------
    UnknownPolicyError, PolicyPluginError, ParameterError
        Unknown name, a plugin that cannot be loaded or lacks part of the protocol, or bad parameters.
    """
    factory = policy_factory(spec.name)
    builtin = spec.name in POLICIES
    if not builtin and inspect.isclass(factory):
        _check_protocol(spec.name, factory)
    try:
        policy = factory(**spec.params)
    except MecsimError:
        raise
    except (TypeError, ValueError) as error:
        raise ParameterError(f"policy {spec.name!r} params", dict(spec.params), str(error)) from None
    except Exception as error:
        if builtin:
            raise
        raise PolicyPluginError(spec.name, f"creating it with params {dict(spec.params)} raised "
                                           f"{type(error).__name__}: {error}") from error
    if builtin:
        return policy  # type: ignore[no-any-return]
    _check_protocol(spec.name, policy)
    return (CheckedStatefulPolicy if policy.stateful else CheckedPolicy)(policy, spec.name)
