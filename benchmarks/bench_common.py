"""Shared pieces of the benchmark (benchmarks/bench.py): paths, the table type, timing helpers."""
from __future__ import annotations

import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SIM_CONFIG = REPO / "config" / "sim.yaml"
SUBSCRIBER_ENV: dict[str, str] = {}     # environment of subscriber processes: no profile of the bridge's
IMAGE = "sensor_msgs/msg/Image"
MB = 1e6


# -- output -------------------------------------------------------------------------------
@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        cells = [self.columns] + self.rows
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]

        def line(r: list[str]) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        out = [f"\n## {self.title}", line(self.columns), "  ".join("-" * w for w in widths)]
        return "\n".join(out + [line(r) for r in self.rows] + [f"  {n}" for n in self.notes])

    def markdown(self) -> str:
        out = [f"**{self.title}**", "", "| " + " | ".join(self.columns) + " |",
               "|" + "|".join("---" if i == 0 else "---:" for i in range(len(self.columns))) + "|"]
        return "\n".join(out + ["| " + " | ".join(r) + " |" for r in self.rows])


def ms(seconds: float) -> str:
    x = seconds * 1e3
    return f"{x:.3f}" if x < 1 else f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())

    def profile(env) -> str:
        return Path(env["FASTDDS_DEFAULT_PROFILES_FILE"]).name if "FASTDDS_DEFAULT_PROFILES_FILE" in env else "default"
    dds = f"bridge {profile(os.environ)}, subscribers {profile(SUBSCRIBER_ENV or os.environ)}"
    return (f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}; load average at "
            f"start {load}; Python {platform.python_version()}; "
            f"{os.environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')}, Fast DDS transports: {dds}")


# -- timing helpers -----------------------------------------------------------------------
def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll a condition (a DDS match, say) until it holds."""
    deadline, pause = time.monotonic() + timeout, threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        pause.wait(0.005)


def interleaved(methods: dict[str, Callable[[], object]], iterations: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each method, run round-robin so they share the machine's load.

    The order rotates every round: a publish right after another one shares the machine with the
    subscriber still receiving the first, so no method may always follow a quiet one."""
    times: dict[str, list[float]] = {name: [] for name in methods}
    order = list(methods.items())
    for i in range(warmup + iterations):
        for name, fn in order[i % len(order):] + order[:i % len(order)]:
            start = time.perf_counter()
            fn()
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")



def flat_parameters(path: Path) -> dict[str, Any]:
    """A ROS params file's `/**: ros__parameters:` block as dotted names."""
    import yaml

    def flatten(d: dict, prefix: str = "") -> dict:
        out = {}
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return out

    doc = yaml.safe_load(path.read_text())
    return flatten(next(iter(doc.values()))["ros__parameters"])
