"""configure/activate/deactivate/cleanup cycles leak neither memory, threads nor file descriptors.

Run in a fresh interpreter (this file as a script) set up as the node's entry point sets up the
process (two heap arenas, see core/malloc.py), with the demo network deployed at each configure.
The soak (`make soak`) runs longer; here a generous bound catches a leak per cycle.
"""
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

WARM_UP, CYCLES = 40, 60
MODEL = Path(__file__).resolve().parents[3] / "models" / "demo-colour-ssd.tar.xz"


def _own_threads() -> int:
    """Threads besides the executor's worker pool (it starts workers on demand, up to its size)."""
    return sum(not t.name.startswith("ThreadPoolExecutor") for t in threading.enumerate())


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_cycles() -> dict:
    import rclpy

    from depthai_ros_bridge.core.malloc import limit_arenas
    from harness import FAST_SIM, Harness

    limit_arenas()
    rclpy.init()
    h = Harness(**{**FAST_SIM, "rgb.nn.model": str(MODEL)})
    try:
        samples = []
        for i in range(WARM_UP + CYCLES):
            for label in ("configure", "activate", "deactivate", "cleanup"):
                assert h.transition(label), (label, h.node.last_error)
            if i == WARM_UP - 1:
                threads, fds, warm = _own_threads(), len(os.listdir("/proc/self/fd")), _rss_mb()
            samples.append(_rss_mb())
        return {"rss_growth_mb": samples[-1] - warm, "peak_growth_mb": max(samples[WARM_UP:]) - warm,
                "thread_growth": _own_threads() - threads,
                "fd_growth": len(os.listdir("/proc/self/fd")) - fds}
    finally:
        h.close()
        rclpy.try_shutdown()


@pytest.mark.slow
def test_lifecycle_cycles_leak_no_memory_threads_or_fds():
    here = Path(__file__).resolve()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parent), str(here.parents[3])])}
    out = subprocess.run([sys.executable, str(here)], env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\n{CYCLES} lifecycle cycles after {WARM_UP}: {result}")
    assert result["thread_growth"] <= 0 and result["fd_growth"] <= 0
    # Generous: measured 1-13 MB alone, 23 MB with the whole suite loading the machine (allocator
    # placement); a leak of 1 MB per cycle would be 60 MB. `make soak` gives the long-run figure.
    assert result["rss_growth_mb"] < 40 and result["peak_growth_mb"] < 50


if __name__ == "__main__":
    print(json.dumps(run_cycles()))
