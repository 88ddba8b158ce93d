"""``mecsim serve``: the decision engine as an HTTP service (FastAPI, run by uvicorn).

A device asks ``POST /decide`` before each task and reports what it measured with ``POST /observe``; the service
answers with the rules and numbers of ``mecsim decide`` and keeps smoothed live estimates per link and target.
Top layer (beside sweep and plots): only :mod:`simulator.cli` imports it.
"""

from simulator.serve.app import create_app
from simulator.serve.config import ServiceConfig, TargetProfile, load_config, parse_config

__all__ = ["ServiceConfig", "TargetProfile", "create_app", "load_config", "parse_config"]
