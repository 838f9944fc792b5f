"""Deploy/remove cycles leak neither threads nor memory.

Measured in a fresh interpreter (this file run as a script), so what other tests left in
the pytest process can't blur the figure.
"""
import ctypes
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

WARM_UP, CYCLES = 30, 30


def _own_threads() -> int:
    """Threads besides the executor's worker pool (it starts workers on demand, up to its size)."""
    return sum(not t.name.startswith("ThreadPoolExecutor") for t in threading.enumerate())


def _rss_kb() -> int:
    """Resident memory after handing free heap back to the OS: glibc keeps freed blocks of a
    removed network around (measured: +-50 MB of noise), which is not live memory."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run_cycles() -> dict:
    import rclpy
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    from harness import FAST_SIM, Harness
    from test_nn import SSD_ARCHIVE, YOLO_CONFIG, YOLO_ONNX, deploy, remove

    rclpy.init()
    h = Harness(**FAST_SIM)
    try:
        assert h.transition("configure") and h.transition("activate")
        dets, images = h.subscribe("rgb/nn/detections", Detection2DArray), h.subscribe("left/image_raw", Image)
        models = [{"model": str(SSD_ARCHIVE)}, {"model": str(YOLO_ONNX), "nn_config": YOLO_CONFIG}]

        def cycle(i):
            assert deploy(h, **models[i % 2]).successful
            dets.wait(count=dets.count + 1)
            assert remove(h).success
            images.wait(count=images.count + 1)     # the image stream keeps flowing

        for i in range(WARM_UP):     # allocator and thread pools fill up (measured: ~130 MB over ~30 cycles, then flat)
            cycle(i)
        threads, samples = _own_threads(), []
        for i in range(CYCLES):
            cycle(i)
            samples.append(_rss_kb())
        # A leak raises the floor with the cycles. Samples also catch transient buffers (a frame
        # set, a network's arena: +~10 MB, at times for ten cycles in a row), so compare the
        # lowest of the first ten with the lowest of the last ten.
        first, last = min(samples[:10]), min(samples[-10:])
        return {"rss_growth_kb": last - first, "thread_growth": _own_threads() - threads}
    finally:
        h.close()
        rclpy.try_shutdown()


def test_deploy_remove_cycles_leak_no_threads_or_memory():
    here = Path(__file__).resolve()
    # One malloc arena: freed memory then goes back to the OS with malloc_trim. With glibc's
    # per-thread arenas RSS moved in steps of ~10 MB between runs (allocator placement, not
    # live memory: measured flat over 90 cycles with one arena, drifting with many).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parent), str(here.parents[3])]),
           "MALLOC_ARENA_MAX": "1"}
    out = subprocess.run([sys.executable, str(here)], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\n{CYCLES} deploy/remove cycles: RSS floor {result['rss_growth_kb']:+d} kB from the first ten to the "
          f"last ten, threads {result['thread_growth']:+d}")
    assert result["thread_growth"] <= 0
    assert result["rss_growth_kb"] < 8_000      # 20 cycles apart: a leak of 0.4 MB per cycle fails


if __name__ == "__main__":
    print(json.dumps(run_cycles()))
