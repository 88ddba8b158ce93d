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
import numpy as np
import pytest

from simulator.serve.monitor import STATUSES

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
    process.kill()  # what the server said while it did not come up, so that the failure explains itself
    _, stderr = process.communicate(timeout=60)
    pytest.fail(f"the server did not answer /healthz within 120 s; its stderr:\n{stderr}")


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


CONFIG = """
devices:
  pi4: {device-time: 13s}
targets:
  edge: {edge-time: 9ms, uplink: 5Mbps, rtt: 20ms}
"""


def test_workers_share_counters_and_estimates(tmp_path):
    """With --workers 2, /monitor counts every worker's requests and a measurement reported to one worker is used
    by both: requests on fresh connections land on either worker, and every answer agrees."""
    config = tmp_path / "fleet.yaml"
    config.write_text(CONFIG)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {"PYTHONPATH": str(ROOT), "MECSIM_TOKEN": "", "TMPDIR": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-c", MECSIM, "serve", "--port", str(port), "--workers", "2",
                                "--config", str(config)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        _wait_until_up(process, url)
        [folder] = tmp_path.glob("mecsim-serve-*")
        deadline = time.monotonic() + 120  # a bound for a loaded machine, not a timing assumption
        while len(list(folder.glob("counters-*.bin"))) < 2:  # the second worker is still starting
            assert process.poll() is None
            assert time.monotonic() < deadline, "the second worker did not start"
            time.sleep(0.1)
        # one report (on some worker) moves the estimate that every worker then uses
        httpx.post(f"{url}/observe", json={"target": "edge", "uplink": "1Mbps"}, timeout=30).raise_for_status()
        sent, served_by = 0, set()
        while len(served_by) < 2 and sent < 2000:  # until both workers have answered /decide
            answer = httpx.post(f"{url}/decide", json={"device": "pi4", "target": "edge", "data": "300kB"},
                                timeout=30).json()
            sent += 1
            assert answer["offload"]["breakdown"]["upload_s"] == 2.4  # 2.4 Mbit at the observed 1 Mbit/s
            served_by = {path.name for path in folder.glob("counters-*.bin") if _decides(path) > 0}
        assert len(served_by) == 2
        report = httpx.get(f"{url}/monitor", timeout=30).json()
        assert report["endpoints"]["/decide"]["Counter"] == sent
        assert report["endpoints"]["/observe"]["Counter"] == 1
        assert report["Counter"] == sent + 1
        for _ in range(10):  # whichever worker answers, the same estimate
            assert httpx.get(f"{url}/state", timeout=30).json()["estimates"]["edge"]["uplink"]["value"] == 1e6
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert not list(tmp_path.glob("mecsim-serve-*"))  # the shared folder goes with the service


def _decides(path: Path) -> int:
    """Requests to /decide counted in one worker's counter file (the first endpoint's status counts)."""
    return int(np.load(path, mmap_mode="r")[:STATUSES].sum())
