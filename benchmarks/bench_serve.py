"""``mecsim serve`` throughput on loopback: single decisions against the framework's own ceiling, and batches.

Measures, in one run, with one uvicorn worker per server (uvloop + httptools), each server in its own process:
  * single decisions (``POST /decide``, the licence-plate task in human units) at 1, 16 and 64 concurrent keep-alive
    clients: requests per second, p50/p99 latency and server CPU per request, against a bare FastAPI endpoint that
    returns a constant (no decision, no monitor) served the same way: the ratio says how much of the HTTP ceiling
    the decision leaves (target >= 0.6);
  * batches of 10,000 tasks (``POST /decide/batch``, per-task columns): task decisions per second of server CPU
    (target >= 1 M/s), and the same tasks as a list of objects on ``POST /decide`` for comparison.
The load generator is a minimal asyncio HTTP/1.1 client (pre-built request bytes) so that the client costs less
than the servers it measures; rounds alternate baseline and service, and the best round of each is kept.

Usage: python benchmarks/bench_serve.py [--requests N] [--rounds R] [--batches B]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import uvloop
from fastapi import FastAPI, Request
from fastapi.responses import Response

ROOT = Path(__file__).resolve().parents[1]
PLATE = {"device-time": "13s", "edge-time": "9ms", "data": "300kB", "uplink": "5Mbps", "rtt": "20ms"}
CONSTANT = orjson.dumps({"decision": "offload"})
BATCH = 10_000
#: the service and the constant endpoints it is compared with, each served by its own uvicorn process
SERVERS = {"decide": "simulator.serve.app:app_from_environment", "route": "bench_serve:route_app",
           "fastapi": "bench_serve:fastapi_app", "asgi": "bench_serve:asgi_factory"}


async def _constant(_: Request) -> Response:
    return Response(CONSTANT, media_type="application/json")


def route_app() -> FastAPI:
    """The framework's ceiling as the service uses it: a FastAPI application whose POST route (a plain route, as
    the service's routes are) returns a constant."""
    app = FastAPI()
    app.router.add_route("/decide", _constant, methods=["POST"])
    return app


def fastapi_app() -> FastAPI:
    """A FastAPI path operation (``@app.post``, with its dependency machinery) returning a constant."""
    app = FastAPI()
    app.post("/decide")(_constant)
    return app


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI callable returning a constant: what uvicorn alone costs."""
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(CONSTANT)).encode())]})
    await send({"type": "http.response.body", "body": CONSTANT})


def asgi_factory() -> Any:
    """:func:`asgi_app` for uvicorn's ``factory=True``."""
    return asgi_app


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(factory: str) -> tuple[subprocess.Popen[bytes], int]:
    """Serve ``factory`` (``module:function``) with one uvicorn worker; returns the process and its port."""
    port = _free_port()
    code = (f"import uvicorn; uvicorn.run({factory!r}, factory=True, host='127.0.0.1', port={port}, loop='uvloop', "
            f"http='httptools', log_level='warning', access_log=False)")
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")])}
    process = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/decide", json=PLATE, timeout=5)
            return process, port
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{factory} did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request_bytes(path: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _client(port: int, request: bytes, count: int, latencies: list[float], bodies: list[bytes]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(count):
        start_s = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"unexpected response: {head[:80]!r}")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(
            b"content-length"))
        bodies.append(await reader.readexactly(length))
        latencies.append(time.perf_counter() - start_s)
    writer.close()
    await writer.wait_closed()


def load(port: int, request: bytes, clients: int, total: int) -> tuple[float, list[float], list[bytes]]:
    """Send ``total`` requests over ``clients`` keep-alive connections; wall time, latencies, bodies."""
    latencies: list[float] = []
    bodies: list[bytes] = []

    async def run() -> float:
        start_s = time.perf_counter()
        await asyncio.gather(*(_client(port, request, total // clients, latencies, bodies) for _ in range(clients)))
        return time.perf_counter() - start_s

    return uvloop.run(run()), latencies, bodies


def measure(process: subprocess.Popen[bytes], port: int, request: bytes, clients: int, total: int
            ) -> dict[str, float]:
    before = cpu_seconds(process.pid)
    wall_s, latencies, _ = load(port, request, clients, total)
    cpu_s = cpu_seconds(process.pid) - before
    count = len(latencies)
    quantiles = statistics.quantiles(latencies, n=100)
    return {"rps": count / wall_s, "p50_ms": quantiles[49] * 1e3, "p99_ms": quantiles[98] * 1e3,
            "cpu_us": cpu_s / count * 1e6}


def batch_bodies(seed: int) -> tuple[bytes, bytes]:
    """10,000 tasks with their own input size and uplink: as columns, and as a list of objects."""
    rng = np.random.default_rng(seed)
    data = np.exp(rng.uniform(np.log(8e3), np.log(2.4e8), BATCH)).tolist()
    uplink = rng.uniform(1e6, 50e6, BATCH).tolist()
    shared = {"device-time": "13s", "edge-time": "9ms", "rtt": "20ms"}
    columns = orjson.dumps(shared | {"data": data, "uplink": uplink})
    objects = orjson.dumps([shared | {"data": d, "uplink": u} for d, u in zip(data, uplink, strict=True)])
    return columns, objects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4096, help="single-decision requests per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each is kept")
    parser.add_argument("--batches", type=int, default=20, help="10,000-task batches to time")
    args = parser.parse_args()

    servers = {name: start(factory) for name, factory in SERVERS.items()}
    service, service_port = servers["decide"]
    try:
        single = request_bytes("/decide", orjson.dumps(PLATE))
        _, _, bodies = load(service_port, single, 1, 1)
        answer = orjson.loads(bodies[0])
        assert answer["decision"] == "offload"
        assert abs(answer["offload"]["latency_s"] - 0.509) < 1e-12
        for _, port in servers.values():
            load(port, single, 16, 1024)  # warm-up
        print(f"single decisions, {args.requests} requests per measurement, best of {args.rounds} rounds; "
              f"ratios: the constant's CPU per request / decide's, and decide's req/s / the constant's")
        print(f"{'clients':>8} {'server':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11}"
              f" {'CPU ratio':>10} {'req/s ratio':>12}")
        for clients in (1, 16, 64):
            best: dict[str, dict[str, float]] = {}
            for _ in range(args.rounds):
                for name, (process, port) in servers.items():
                    result = measure(process, port, single, clients, args.requests)
                    if name not in best or result["rps"] > best[name]["rps"]:
                        best[name] = result
            decide = best["decide"]
            for name, result in best.items():
                tail = "" if name == "decide" else (f" {result['cpu_us'] / decide['cpu_us']:>10.2f}"
                                                    f" {decide['rps'] / result['rps']:>12.2f}")
                print(f"{clients:>8} {name:>9} {result['rps']:>9.0f} {result['p50_ms']:>8.2f} "
                      f"{result['p99_ms']:>8.2f} {result['cpu_us']:>11.0f}{tail}")

        columns, objects = batch_bodies(seed=1)
        print(f"\nbatches of {BATCH:,} tasks")
        for label, path, body, count in (("/decide/batch (columns)", "/decide/batch", columns, args.batches),
                                         ("/decide (list of objects)", "/decide", objects, max(1, args.batches // 10))):
            request = request_bytes(path, body)
            _, _, answers = load(service_port, request, 1, 1)
            reply: Any = orjson.loads(answers[0])
            decided = reply["count"] if isinstance(reply, dict) else len(reply)
            assert decided == BATCH
            before = cpu_seconds(service.pid)
            wall_s, _, _ = load(service_port, request, 1, count)
            cpu_s = cpu_seconds(service.pid) - before
            print(f"  {label:<26} {BATCH * count / cpu_s / 1e6:6.2f} M decisions per CPU second "
                  f"({cpu_s / count * 1e3:.1f} ms CPU, {wall_s / count * 1e3:.1f} ms wall per batch; "
                  f"{len(body) / 1e6:.2f} MB request)")
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
