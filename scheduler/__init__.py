"""Edge topologies and service placement: where should each AI service and its replicas run?

- :mod:`scheduler.topology` — the graph (typed nodes with capacities and prices, links with delay/bandwidth/price);
  :mod:`scheduler.builders` — hierarchical generator, ``topohub`` backbones, EUA Melbourne sites.
- :mod:`scheduler.problem` — :class:`~scheduler.problem.PlacementProblem` as arrays, built from a graph by
  :func:`~scheduler.problem.build_problem`; :mod:`scheduler.model` compiles it into demands and arcs.
- :mod:`scheduler.solvers` — ``SOLVERS`` registry (nearest, greedy, least-loaded, local-search, milp),
  :func:`~scheduler.solvers.solve` returning a :class:`~scheduler.result.PlacementResult` with objective terms,
  certified lower bound and gap.
- :mod:`scheduler.checker` — independent re-computation of feasibility and every objective term from the graph.
- :mod:`scheduler.instances` — the documented random instance generator used by ``benchmarks/bench_place.py``.
"""
