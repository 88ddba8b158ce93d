"""The real server: ``mecsim serve`` as a subprocess on a free loopback port, concurrent requests, exact counter,
clean stop on SIGTERM."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PLATE = {"device-time": "13s", "edge-time": "9ms", "data": "300kB", "uplink": "5Mbps", "rtt": "20ms"}
REQUESTS = 48
MECSIM = "from simulator.cli import main; main(prog_name='mecsim')"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 120  # a bound for a loaded machine, not a timing assumption
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("the server did not come up")


async def _concurrent(url: str) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        responses = await asyncio.gather(*(client.post("/decide", json=PLATE) for _ in range(REQUESTS)))
    return [r.status_code for r in responses]


def test_real_server_counts_concurrent_requests_and_stops_cleanly(tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {"PYTHONPATH": str(ROOT), "MECSIM_TOKEN": ""}
    process = subprocess.Popen([sys.executable, "-c", MECSIM, "serve", "--port", str(port)], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_until_up(process, url)
        assert asyncio.run(_concurrent(url)) == [200] * REQUESTS
        report = httpx.get(f"{url}/monitor", timeout=30).json()
        assert report["Counter"] == REQUESTS
        assert report["endpoints"]["/decide"]["Counter"] == REQUESTS
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        # uvicorn finishes in-flight requests, shuts the application down, then re-raises the signal
        assert process.returncode in (0, -signal.SIGTERM), stderr
        assert "Application shutdown complete" in stderr
        assert "Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
