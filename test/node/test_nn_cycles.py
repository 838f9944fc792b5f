"""Deploy/remove cycles leak neither threads nor memory (a module of its own: no other node runs meanwhile)."""
import ctypes
import threading
from pathlib import Path

from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray

from harness import FAST_SIM, Harness
from test_nn import SSD_ARCHIVE, YOLO_CONFIG, YOLO_ONNX, deploy, remove


def test_deploy_remove_cycles_leak_no_threads_or_memory(ros):
    h = Harness(**FAST_SIM)     # its own node: no image subscriptions filling memory meanwhile
    try:
        assert h.transition("configure") and h.transition("activate")
        dets = h.subscribe("rgb/nn/detections", Detection2DArray)
        images = h.subscribe("left/image_raw", Image, )
        models = [{"model": str(SSD_ARCHIVE)}, {"model": str(YOLO_ONNX), "nn_config": YOLO_CONFIG}]

        def cycle(i):
            assert deploy(h, **models[i % 2]).successful
            dets.wait(count=dets.count + 1)
            assert remove(h).success
            images.wait(count=images.count + 1)     # the image stream keeps flowing

        for i in range(10):    # warm-up: allocator pools and thread pools fill up (measured: ~30 MB, then flat)
            cycle(i)
        threads, rss = len(threading.enumerate()), _rss_kb()
        for i in range(20):
            cycle(i)
        growth = _rss_kb() - rss
        print(f"\nafter 20 deploy/remove cycles: RSS {growth:+d} kB, threads {len(threading.enumerate()) - threads:+d}")
        assert len(threading.enumerate()) <= threads
        assert growth < 10_000
    finally:
        h.close()


def _rss_kb() -> int:
    """Resident memory after handing free heap back to the OS: glibc keeps freed blocks of a
    removed network around (measured: +-50 MB of noise), which is not live memory."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
