"""``mecsim serve``: run the decision service (uvicorn) until SIGTERM or SIGINT, then finish in-flight requests."""

from __future__ import annotations

import ipaddress
import os
import tempfile
from pathlib import Path

import click

from offload.errors import ParameterError

LOOPBACK_NAMES = ("localhost",)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; loopback unless a token is set.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port (0: any free).")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="YAML file of named devices and targets, half-life and limits.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes; they share counters and estimates.")
@click.option("--token", default=None, envvar="MECSIM_TOKEN", show_envvar=True,
              help="Require 'Authorization: Bearer TOKEN' (all but /healthz).")
@click.option("--graceful-timeout", type=click.IntRange(0), default=10, show_default=True, metavar="SECONDS",
              help="On SIGTERM/SIGINT, how long in-flight requests may take to finish.")
def command(host: str, port: int, config_path: Path | None, workers: int, token: str | None,
            graceful_timeout: int) -> None:
    """Serve offload decisions over HTTP: POST /decide, /decide/batch, /observe; GET /state, /monitor, /metrics,
    /healthz; OpenAPI at /docs.

    \b
    Example:
      mecsim serve --config fleet.yaml --port 8000
      curl -s localhost:8000/decide -d '{"device-time": "13s", "edge-time": "9ms",
           "data": "300kB", "uplink": "5Mbps", "rtt": "20ms"}'
    """
    import uvicorn  # imported here: only this command needs the server stack

    from simulator.serve import shared
    from simulator.serve.app import CONFIG_VARIABLE, TOKEN_VARIABLE
    from simulator.serve.config import load_config

    if not _is_loopback(host) and not token:
        raise ParameterError("--host", host, "is not a loopback address: set --token (or MECSIM_TOKEN) first")
    if config_path is not None:
        load_config(config_path)  # fail here, with the file's line numbers, not in every worker
        os.environ[CONFIG_VARIABLE] = str(config_path.resolve())
    if token:
        os.environ[TOKEN_VARIABLE] = token
    with tempfile.TemporaryDirectory(prefix="mecsim-serve-") as folder:
        if workers > 1:  # the workers share counters and estimates through this folder
            shared.create(Path(folder))
            os.environ[shared.SHARED_VARIABLE] = folder
        uvicorn.run("simulator.serve.app:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, timeout_graceful_shutdown=graceful_timeout, access_log=False, log_level="info")
