"""core/malloc.reuse_large_buffers: large buffers freed and allocated again stop costing page faults."""
import subprocess
import sys

import pytest

# A subscriber's pattern: one frame set's messages (sim.yaml's rgb, overlay, points, disparity, depth),
# each a fresh buffer written whole (zero-filled), then all freed.
SIZES = (2_764_800, 2_764_800, 3_686_400, 921_600, 460_800)
SETS = 20
_CHILD = f"""
import resource, sys
from depthai_ros_bridge.core.malloc import reuse_large_buffers
applied = reuse_large_buffers() if sys.argv[1] == "reuse" else None
def frame_set():
    kept = [bytearray(n) for n in {SIZES}]
for _ in range(5):
    frame_set()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range({SETS}):
    frame_set()
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", _CHILD, mode], capture_output=True, text=True, check=True)
    applied, faults = out.stdout.split()
    return applied, int(faults)


def test_large_buffers_come_back_from_the_heap_without_page_faults():
    applied, faults = _faults("reuse")
    if applied != "True":
        pytest.skip("not glibc: mallopt is not available")
    _, default_faults = _faults("default")
    pages = SETS * sum(SIZES) // 4096
    assert default_faults > pages // 2      # glibc's default: the freed top of the heap is trimmed, pages fault again
    assert faults < pages // 100
