"""Kubernetes-style replica placement: filter the nodes a replica fits on, score them, take the best.

One replica (a pod) is placed at a time, as kube-scheduler does: the *filter* keeps the nodes whose free CPU cores,
GPUs and memory cover the replica's request (plugin ``NodeResourcesFit``) and that the caller allows; every kept
node gets an integer score from 0 to :data:`MAX_NODE_SCORE` from each score plugin, and the node with the largest
weighted sum wins. The plugins follow kube-scheduler's definitions (``pkg/scheduler/framework/plugins``):

- ``NodeResourcesFit``, strategy ``least-allocated``: per resource ``⌊(allocatable − requested) · 100 /
  allocatable⌋``, strategy ``most-allocated``: ``⌊min(requested, allocatable) · 100 / allocatable⌋``, where
  ``requested`` counts what the node's replicas already hold plus the new replica; the node's score is the
  weight-averaged mean ``⌊Σ wᵣ · scoreᵣ / Σ wᵣ⌋`` over the resources the node offers (a resource the node has none
  of, or no limit on, is left out, as kube leaves out an allocatable of 0). Default weights: CPU 1, memory 1, GPU 0
  (kube's default resources are CPU and memory).
- ``ImageLocality``: a node that holds the image scores ``s = size · (nodes holding it / all nodes)`` (the spread
  factor against the "node heating" of piling replicas where an image happens to be), clamped to [23 MiB,
  1000 MiB] and scaled ``⌊100 · (s − 23 MiB) / (1000 MiB − 23 MiB)⌋``; a node without it scores 0.
- spread (``SelectorSpread``'s per-node part): with ``cᵢ`` replicas of the same service on node ``i`` and ``c_max``
  their largest count over the kept nodes, ``⌊100 · (c_max − cᵢ) / c_max⌋`` (100 everywhere when ``c_max = 0``).

Default plugin weights are kube's default profile: resource fit 1, image locality 1, topology spread 2. Where kube
picks among equal best scores at random, this picks the first in node order, so placements are reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from offload.errors import ParameterError
from offload.validate import check_non_negative

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

Strategy = Literal["least-allocated", "most-allocated"]
#: The resource-fit scoring strategies.
STRATEGIES: tuple[Strategy, ...] = ("least-allocated", "most-allocated")
#: The best score a plugin gives (kube-scheduler's ``MaxNodeScore``).
MAX_NODE_SCORE = 100.0
#: Image sizes below this score as this (kube's ``minThreshold``: 23 MiB), in bits.
MIN_IMAGE_BITS = 23 * 2**20 * 8.0
#: Image sizes above this score as this (kube's ``maxContainerThreshold`` for a one-container pod: 1000 MiB), in bits.
MAX_IMAGE_BITS = 1000 * 2**20 * 8.0
#: Rounding slack before the integer truncation of a score (scores are at most 100).
_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class Scoring:
    """How replicas are scored: the resource-fit ``strategy`` and the weight of each plugin.

    Attributes
    ----------
    strategy : {"least-allocated", "most-allocated"}
        Spread load over nodes (least allocated) or pack nodes full (most allocated, bin packing).
    fit, image_locality, spread : float
        Weights of the resource-fit, image-locality and spread scores in the node's total (>= 0).
    resource_weights : tuple of float
        Weights of CPU cores, GPUs and memory inside the resource-fit score (>= 0, at least one > 0).
    """

    strategy: Strategy = "least-allocated"
    fit: float = 1.0
    image_locality: float = 1.0
    spread: float = 2.0
    resource_weights: tuple[float, float, float] = (1.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ParameterError("strategy", self.strategy, f"must be one of {', '.join(STRATEGIES)}")
        for name in ("fit", "image_locality", "spread"):
            check_non_negative(name, getattr(self, name))
        object.__setattr__(self, "resource_weights", tuple(float(w) for w in self.resource_weights))
        if len(self.resource_weights) != 3:
            raise ParameterError("resource_weights", self.resource_weights, "needs one weight per resource "
                                 "(cpu, gpu, memory)")
        for name, weight in zip(("cpu", "gpu", "memory"), self.resource_weights, strict=True):
            check_non_negative(f"resource_weights.{name}", weight)
        if not sum(self.resource_weights) > 0:
            raise ParameterError("resource_weights", self.resource_weights, "at least one must be > 0")


def _truncate(score: FloatArray) -> FloatArray:
    """Kube's integer scores: truncate, forgiving the rounding of a value that is whole in exact arithmetic."""
    return np.asarray(np.floor(score + _SLACK), dtype=np.float64)


def fits(free: npt.ArrayLike, request: npt.ArrayLike) -> BoolArray:
    """``NodeResourcesFit`` as a filter: (N,) whether each node's free resources (N, R) cover ``request`` (R,)."""
    free_arr, need = np.asarray(free, dtype=np.float64), np.asarray(request, dtype=np.float64)
    return np.asarray((free_arr >= need - _SLACK * np.maximum(need, 1.0)).all(axis=-1), dtype=np.bool_)


def allocation_score(strategy: Strategy, allocatable: npt.ArrayLike, free: npt.ArrayLike, request: npt.ArrayLike,
                     weights: npt.ArrayLike) -> FloatArray:
    """``NodeResourcesFit``'s score of placing ``request`` (R,) on nodes with ``allocatable`` and ``free`` (N, R).

    Resources a node offers none of (allocatable 0) or without a limit (allocatable inf) are left out of its
    weighted mean; a node left with no weighted resource scores 0. Returns integer-valued floats in [0, 100].
    """
    cap = np.asarray(allocatable, dtype=np.float64)
    left = np.asarray(free, dtype=np.float64)
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), cap.shape)
    counted = np.isfinite(cap) & (cap > 0) & (w > 0)
    safe = np.where(counted, cap, 1.0)
    requested = np.where(counted, safe - np.where(counted, left, 0.0) + np.asarray(request, dtype=np.float64), 0.0)
    if strategy == "least-allocated":
        per = np.where(requested > safe, 0.0, (safe - requested) * MAX_NODE_SCORE / safe)
    else:
        per = np.minimum(requested, safe) * MAX_NODE_SCORE / safe
    per = _truncate(np.where(counted, per, 0.0))
    total_w = np.where(counted, w, 0.0).sum(axis=-1)
    mean = np.where(total_w > 0, (per * np.where(counted, w, 0.0)).sum(axis=-1) / np.where(total_w > 0, total_w, 1.0),
                    0.0)
    return _truncate(mean)


def image_locality_score(image_bits: float, has_image: npt.ArrayLike) -> FloatArray:
    """``ImageLocality``: (N,) scores of nodes that do or do not hold an image of ``image_bits``; the spread factor
    counts the nodes holding it among all N given."""
    held = np.asarray(has_image, dtype=np.bool_)
    if held.size == 0:
        return np.zeros(0)
    scaled = image_bits * held.sum() / held.size
    clamped = min(max(scaled, MIN_IMAGE_BITS), MAX_IMAGE_BITS)
    score = math.floor(MAX_NODE_SCORE * (clamped - MIN_IMAGE_BITS) / (MAX_IMAGE_BITS - MIN_IMAGE_BITS) + _SLACK)
    return np.where(held, float(score), 0.0)


def spread_score(counts: npt.ArrayLike, kept: npt.ArrayLike) -> FloatArray:
    """Spread over nodes: (N,) scores from each node's count of the service's replicas, normalised by the largest
    count among the ``kept`` (filtered) nodes; nodes not kept score 0."""
    count = np.asarray(counts, dtype=np.float64)
    keep = np.asarray(kept, dtype=np.bool_)
    most = float(count[keep].max()) if keep.any() else 0.0
    if most <= 0:
        return np.where(keep, MAX_NODE_SCORE, 0.0)
    return np.where(keep, _truncate(MAX_NODE_SCORE * (most - count) / most), 0.0)


def node_scores(scoring: Scoring, allocatable: npt.ArrayLike, free: npt.ArrayLike, request: npt.ArrayLike,
                counts: npt.ArrayLike, kept: npt.ArrayLike, *, image_bits: float = 0.0,
                has_image: npt.ArrayLike | None = None) -> FloatArray:
    """(N,) weighted sum of the plugin scores of every node for one more replica (meaningful on ``kept`` nodes)."""
    total = scoring.fit * allocation_score(scoring.strategy, allocatable, free, request, scoring.resource_weights)
    total = total + scoring.spread * spread_score(counts, kept)
    if has_image is not None and scoring.image_locality > 0:
        total = total + scoring.image_locality * image_locality_score(image_bits, has_image)
    return np.asarray(total, dtype=np.float64)


def schedule(scoring: Scoring, allocatable: npt.ArrayLike, free: npt.ArrayLike, request: npt.ArrayLike,
             counts: npt.ArrayLike, *, eligible: npt.ArrayLike | None = None, image_bits: float = 0.0,
             has_image: npt.ArrayLike | None = None) -> int | None:
    """Filter and score the N nodes for one replica requesting ``request`` (R,); the index of the chosen node, or
    None when no node passes the filter.

    Parameters
    ----------
    allocatable, free : (N, R) arrays
        What each node offers and what is still free on it (columns: CPU cores, GPUs, memory bits).
    counts : (N,) array
        Replicas of the same service already on each node (the spread score).
    eligible : (N,) bool array, optional
        The caller's own filters (node up, image fits its disk, region...); default every node.
    image_bits, has_image : float, (N,) bool array, optional
        The replica's image size and which nodes hold it (the image-locality score; left out when None).
    """
    kept = fits(free, request)
    if eligible is not None:
        kept &= np.asarray(eligible, dtype=np.bool_)
    if not kept.any():
        return None
    total = node_scores(scoring, allocatable, free, request, counts, kept, image_bits=image_bits,
                        has_image=has_image)
    candidates = np.flatnonzero(kept)
    return int(candidates[np.argmax(total[candidates])])  # argmax: the first of equal best scores
