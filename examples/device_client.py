"""A camera's loop against ``mecsim serve``: ask before each frame, run it where the service says, report what it saw.

Run the service first (``mecsim serve --config examples/fleet.yaml``), then ``python examples/device_client.py``.
Inference and upload are simulated here (short sleeps); a real device calls its model or sends the frame to the
edge, and times that.
"""

from __future__ import annotations

import os
import random
import time

import httpx

SERVICE = os.environ.get("MECSIM_URL", "http://127.0.0.1:8000")
FRAME_BITS = 2.4e6  # a 300 kB frame
FRAME = {"device": "pi4", "target": "edge", "data": FRAME_BITS}


def run_locally() -> None:
    """Stand-in for on-device inference."""
    time.sleep(0.001)


def send_to_edge(rng: random.Random) -> tuple[float, float]:
    """Stand-in for uploading the frame and getting the result: (measured uplink in bit/s, round trip in s)."""
    upload_s = rng.uniform(0.4, 0.8)
    time.sleep(0.001)
    return FRAME_BITS / upload_s, rng.uniform(0.015, 0.030)


def loop(client: httpx.Client, frames: int, rng: random.Random) -> list[str]:
    """Ask before each frame, act on the answer, report the measurements of each offload; the decisions made."""
    decisions = []
    for frame in range(frames):
        answer = client.post("/decide", json=FRAME)
        answer.raise_for_status()
        decision = answer.json()
        where = decision["decision"]
        if where == "local":
            run_locally()
        else:
            uplink_bps, rtt_s = send_to_edge(rng)
            # this device's own link: later answers use the smoothed estimate
            client.post("/observe", json={"device": "pi4", "target": "edge", "uplink": uplink_bps,
                                          "rtt": rtt_s}).raise_for_status()
        print(f"frame {frame}: {where} (expected {decision[where]['latency_s']:.3f} s)")
        decisions.append(where)
    return decisions


def main() -> None:
    token = os.environ.get("MECSIM_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=SERVICE, headers=headers, timeout=5.0) as client:
        loop(client, frames=20, rng=random.Random(1))
        print(client.get("/monitor").json())


if __name__ == "__main__":
    main()
