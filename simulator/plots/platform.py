"""The platform over time: each service version's replicas and load, and a canary's traffic weight against its SLO
(from the ``traffic`` and ``events`` tables of a run with deployments, :class:`simulator.result.PlatformLog`)."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure

from simulator.plots._style import colours, legend_outside, new_figure, require_columns, require_rows

#: Events marked on the canary figure, with their line style.
_MARKED = {"rollback": ":", "rollout_complete": "--"}


def _one_run(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """The rows of the first policy and lowest replication (replications overlap in time)."""
    if "policy" in table.columns:
        table = table[table["policy"] == table["policy"].iloc[0]]
    if "replication" in table.columns:
        table = table[table["replication"] == table["replication"].min()]
    require_rows(table, name)
    return table


def _labels(table: pd.DataFrame) -> pd.Series:
    """Each row's line: ``service version``, or the deployment's name where a service runs one version in several
    domains (one deployment each)."""
    labels = table["service"].astype(str) + " " + table["version"].astype(str)
    if "deployment" not in table:
        return labels
    shared = table.groupby(labels)["deployment"].transform("nunique") > 1
    return labels.where(~shared, table["deployment"].astype(str))


def replicas_over_time(traffic: pd.DataFrame) -> Figure:
    """Ready (solid) and desired (dashed) replicas of every service version (top) and the requests each starts per
    second (bottom), against time; colour = version.

    Parameters
    ----------
    traffic : DataFrame
        The traffic series: ``time_s``, ``service``, ``version``, ``desired``, ``ready``, ``load_rps`` (the first
        policy and replication present are drawn; with ``deployment``, a version deployed in several domains is
        drawn per deployment).
    """
    require_columns(traffic, ["time_s", "service", "version", "desired", "ready", "load_rps"], "traffic")
    table = _one_run(traffic, "traffic")
    labels = _labels(table)
    palette = colours(labels)
    figure, (top, bottom) = new_figure(2, 1, width_in=8.0, height_in=5.0, sharex=True)
    for label, group in table.groupby(labels, sort=False):
        colour = palette[str(label)]
        top.step(group["time_s"], group["ready"], where="post", color=colour, label=f"{label} ready")
        top.step(group["time_s"], group["desired"], where="post", color=colour, linestyle="--", alpha=0.7,
                 label=f"{label} desired")
        bottom.step(group["time_s"], group["load_rps"], where="post", color=colour, label=str(label))
    top.set_ylabel("replicas")
    bottom.set_ylabel("load [requests/s]")
    bottom.set_xlabel("simulated time [s]")
    for ax in (top, bottom):
        ax.set_ylim(bottom=0.0)
        ax.grid(True, alpha=0.3)
    legend_outside(top, title="service · version")
    top.set_title("Replicas and load per version")
    return figure


def canary_against_slo(traffic: pd.DataFrame, events: pd.DataFrame, *, p95_slo_s: float = math.inf) -> Figure:
    """The new versions' traffic weight (top, exact: from the events) and every version's 95th percentile request
    time over the sliding window against the SLO ``p95_slo_s`` (bottom, sampled); rollbacks (dotted) and completed
    rollouts (dashed) marked.

    Parameters
    ----------
    traffic : DataFrame
        The traffic series: ``time_s``, ``service``, ``version``, ``weight``, ``p95_s``.
    events : DataFrame
        The event table (``time_s``, ``kind``, ``service``, ``version``, ``detail``).
    p95_slo_s : float
        The analysis' bound on the p95 request time (``inf``: not drawn).
    """
    require_columns(traffic, ["time_s", "service", "version", "weight", "p95_s"], "traffic")
    require_columns(events, ["time_s", "kind", "service", "version", "detail"], "events")
    table = _one_run(traffic, "traffic")
    labels = _labels(table)
    palette = colours(labels)
    figure, (top, bottom) = new_figure(2, 1, width_in=8.0, height_in=5.0, sharex=True)
    for label, group in table.groupby(labels, sort=False):
        bottom.plot(group["time_s"], group["p95_s"] * 1e3, color=palette[str(label)], marker=".", label=str(label))
    mine = _one_run(events, "events")
    end_s = float(table["time_s"].max())
    steps = mine[mine["kind"].isin(["rollout_start", "weight", "rollback"])]
    for label, group in steps.groupby(_labels(steps), sort=False):
        weights = [float(d) if k == "weight" else 0.0 for k, d in zip(group["kind"], group["detail"], strict=True)]
        top.step([*group["time_s"], end_s], [*weights, weights[-1]], where="post",
                 color=palette.get(label, "0.2"), label=label)
    if math.isfinite(p95_slo_s):
        bottom.axhline(p95_slo_s * 1e3, color="0.3", linestyle="-.", label="SLO p95")
    for kind, style in _MARKED.items():
        for k, time_s in enumerate(mine[mine["kind"] == kind]["time_s"]):
            for ax in (top, bottom):
                ax.axvline(float(time_s), color="0.2", linestyle=style, label=kind if ax is top and not k else None)
    top.set_ylabel("traffic weight [%]")
    top.set_ylim(0.0, 105.0)
    bottom.set_ylabel("p95 request time [ms]")
    bottom.set_yscale("log")  # a cold start's queue and a fast version's milliseconds on one axis
    bottom.set_xlabel("simulated time [s]")
    for ax in (top, bottom):
        ax.grid(True, alpha=0.3)
    legend_outside(top, title="service · version")
    legend_outside(bottom)
    top.set_title("Canary weight against the SLO")
    return figure
