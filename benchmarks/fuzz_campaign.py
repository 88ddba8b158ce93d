"""Fuzz campaign: mutate the bundled scenarios and count how ``mecsim validate`` (and optionally ``simulate``) answers.

Each input is one bundled scenario with one mutation, either of the data (a value at a random path replaced by a
hostile one: huge or tiny magnitudes, wrong types, odd units, deep structures, lone surrogates) or of the text
(explicit tags, self-referencing aliases, deep nesting, Latin-1 bytes, control characters, truncation, byte flips).
The command runs in-process through the click entry point; every answer falls in one bucket:

- ``clean``: exit 2 and one line per problem, each ``mecsim: error: FILE:LINE: ...`` (``unlocated`` when a line
  lacks FILE:LINE);
- ``accepted``: exit 0 (with ``--simulate``, the scenario is then simulated for 5 simulated seconds without warm-up,
  and any other answer there counts as ``accepted_then_<bucket>``);
- ``traceback``: any other exception; ``hang``: no answer within ``--limit`` seconds of CPU time (SIGPROF, POSIX).

    nice python benchmarks/fuzz_campaign.py --inputs 3000 --seed 1 --simulate

The inputs depend only on ``--seed`` (one ``random.Random``), so a campaign is reproducible, and each command is
bounded by ``--limit`` seconds of CPU time, not of the clock, so the buckets do not depend on the machine's load.
Examples name the input's number (``#17``) and its source scenario.
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from simulator.cli import main
from simulator.scenario.bundled import bundled_scenarios, resolve_scenario_path
from simulator.scenario.overrides import all_paths

HOSTILE_VALUES: list[Any] = [
    None, True, -1, 0, 10**400, -(10**30), 1e300, -1e300, 1e-320, float("nan"), "inf", "-5 Mbps", "5 mbps",
    "1 ns", "1e19/s", "1e-320/s", "10 parsecs", "", "\ud800", "a\x00b", "x" * 5000, [], {}, [[[[]]]],
    {"distribution": "exponential", "mean": 1e300}, {"distribution": "lognormal", "mean": "1G", "cv": 1e300},
    {"kind": "onoff", "rate_on": "8/s", "rate_off": 1e300, "mean_on": "1s", "mean_off": "1s"},
    {"kind": "poisson", "rate": "1e9/s"}, "0x10", "1_000", "12:30", "2026-01-01", 3.5, "1/0 s",
]
TEXT_MUTATIONS: list[Callable[[str, random.Random], str]] = [
    lambda text, rng: text + "extra: " + "[" * rng.randint(60, 3000) + "]" * 3000 + "\n",
    lambda text, rng: text + "loop: &a [1, *a]\n",
    lambda text, rng: text.replace("seed: ", rng.choice(["seed: !!float abc # ", "seed: !!int 0x # ",
                                                         "seed: !!bool maybe # ", "seed: !!python/none # "]), 1),
    lambda text, rng: text.replace("name: ", 'name: "\\ud800', 1),
    lambda text, rng: text[: rng.randrange(len(text))],
    lambda text, rng: _flip(text, rng),
    lambda text, rng: text.replace("\n", "\n\t", 1),
    lambda text, rng: text + f"n: {'9' * rng.choice([400, 4400])}\n",
]
LATIN_1 = "latin-1"


def _flip(text: str, rng: random.Random) -> str:
    index = rng.randrange(len(text))
    return text[:index] + rng.choice(["\x07", "\x1b", "{", "}", "[", ":", "&", "*", "!", "%", "'", '"']) + text[index:]


def mutate(text: str, rng: random.Random) -> str | bytes:
    """One hostile variant of a scenario text (bytes when the mutation is an encoding)."""
    kind = rng.random()
    if kind < 0.55:
        data = yaml.safe_load(text)
        path = rng.choice(all_paths(data))
        target = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = rng.choice(HOSTILE_VALUES)
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    if kind < 0.6:
        return text.replace("name:", "name: caf\xe9 #", 1).encode(LATIN_1, errors="replace")
    return rng.choice(TEXT_MUTATIONS)(text, rng)


class _HangError(Exception):
    """The input took longer than the limit."""


def _alarm(signum: int, frame: object) -> None:
    raise _HangError


LOCATED = re.compile(r"^mecsim: error: (?P<file>[^:]+):(?P<line>\d+): ")


def classify(path: Path, command: list[str], limit_s: int) -> tuple[str, str]:
    """(bucket, first line of output) for one invocation; a hang is more than ``limit_s`` seconds of this process's
    CPU time (SIGPROF), so a loaded machine does not turn slow answers into hangs."""
    signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, limit_s)
    try:
        result = CliRunner().invoke(main, [*command, str(path)])
    except _HangError:
        return "hang", ""
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    if isinstance(result.exception, _HangError):
        return "hang", ""
    lines = result.output.strip().splitlines()
    first = lines[0] if lines else ""
    if result.exit_code == 0:
        return "accepted", first
    if result.exit_code == 2 and lines and all(line.startswith("mecsim: error: ") for line in lines):
        # several issues are reported at once, one line each
        located = [LOCATED.match(line) for line in lines]
        unlocated = next((line for line, match in zip(lines, located, strict=True)
                          if not match or match["file"] != str(path)), None)
        return ("unlocated", unlocated) if unlocated is not None else ("clean", first)
    if isinstance(result.exception, SystemExit):  # exit 2 but not in the one-line form
        return "traceback", " | ".join(lines)[:300]
    return "traceback", f"{type(result.exception).__name__}: {result.exception}" if result.exception else first


def main_campaign() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=20, help="CPU seconds before an input counts as a hang")
    parser.add_argument("--simulate", action="store_true", help="also simulate accepted inputs (5 s horizon)")
    parser.add_argument("--show", type=int, default=5, help="examples printed per bad bucket")
    options = parser.parse_args()
    rng = random.Random(options.seed)
    sources = [(name, resolve_scenario_path(name).read_text(encoding="utf-8")) for name, _ in bundled_scenarios()]
    counts: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        for number in range(options.inputs):
            name, text = rng.choice(sources)
            variant = mutate(text, rng)
            if isinstance(variant, bytes):
                path.write_bytes(variant)
            else:
                path.write_bytes(variant.encode("utf-8", errors="surrogatepass"))
            bucket, line = classify(path, ["validate"], options.limit)
            if bucket == "accepted" and options.simulate:
                run, line = classify(path, ["simulate", "--duration", "5s", "--set", "run.warmup=0s",
                                            "--replications", "1", "--quiet"], options.limit)
                bucket = "accepted" if run == "accepted" else f"accepted_then_{run}"
            counts[bucket] += 1
            if bucket not in ("clean", "accepted"):
                examples.setdefault(bucket, []).append(f"#{number} ({name}) {line[:200]}")
    print(f"tried {options.inputs} (seed {options.seed}): " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for bucket, lines in sorted(examples.items()):
        for line in lines[: options.show]:
            print(f"  {bucket}: {line}")


if __name__ == "__main__":
    main_campaign()
