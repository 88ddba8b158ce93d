"""Migrating a stateful session between two edge sites: what it costs and what it saves.

A session's state (``state_bits``) is copied over the backhaul path between the old and the new site, at the
path's narrowest link, then the service stops for ``downtime_s`` while the last of it moves and the session restarts
at the new site (pre-copy live migration, as measured for containers at the edge by Machen et al., "Live Service
Migration in Mobile Edge Clouds", IEEE Wireless Communications 25(1), 2018)::

    migration_s = state_bits / path_bps + downtime_s

This is the model's estimate, on which the ``threshold`` policy decides; a run measures the actual time, the copy
being a transfer on its shared links, store-and-forward hop by hop (:mod:`simulator.mobility.migration`).

Its gain over a horizon ``H`` is the round-trip time the session's requests save by being served at the new site
instead of the old one, from the cell the user is in now (the follow-me trade-off of Taleb and Ksentini,
"Follow Me Cloud: Interworking Federated Clouds and Distributed Mobile Networks", IEEE Network 27(5), 2013)::

    gain_s = rate_per_s · H · (rtt_old_s − rtt_new_s)

Both broadcast over numpy arrays like :mod:`offload.formulas`.
"""

from __future__ import annotations

import numpy.typing as npt

from offload.arith import add, multiply, subtract
from offload.formulas import Values, transfer_time_s


def migration_time_s(state_bits: npt.ArrayLike, path_bps: npt.ArrayLike, downtime_s: npt.ArrayLike) -> Values:
    """Time from the decision to the session serving at its new site: ``state_bits / path_bps + downtime_s``
    (``path_bps`` ``inf``: the sites share a node or an unlimited path, only the downtime is paid).

    Examples
    --------
    >>> float(migration_time_s(8e6, 8e6, 0.25))  # 1 MB over 8 Mbit/s, 250 ms down
    1.25
    """
    return add(transfer_time_s(state_bits, path_bps), downtime_s)


def migration_gain_s(rtt_old_s: npt.ArrayLike, rtt_new_s: npt.ArrayLike, rate_per_s: npt.ArrayLike,
                     horizon_s: npt.ArrayLike) -> Values:
    """Round-trip time saved over ``horizon_s`` by the ``rate_per_s · horizon_s`` requests a session expects to
    send, each ``rtt_old_s − rtt_new_s`` faster at the new site (negative: the new site is slower).

    Examples
    --------
    >>> round(float(migration_gain_s(0.030, 0.010, 2.0, 60.0)), 6)  # 120 requests, 20 ms saved each
    2.4
    """
    return multiply(multiply(rate_per_s, horizon_s), subtract(rtt_old_s, rtt_new_s))
