"""Time the simulator's render and stereo steps: python -m depthai_ros_bridge.sim.benchmark

Times are medians over several frames of a moving scene, on one OpenCV thread unless
--threads says otherwise (the room, rendered once per camera, is excluded).
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import cv2

from depthai_ros_bridge.sim.render import Renderer
from depthai_ros_bridge.sim.rig import oakd_rig
from depthai_ros_bridge.sim.scene import Scene
from depthai_ros_bridge.sim.stereo import StereoMatcher, StereoOptions


def median_ms(step: Callable[[int], object], frames: int) -> float:
    step(0)      # warm-up: builds the cached room
    times = []
    for i in range(1, frames + 1):
        start = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    renderer = Renderer(Scene(0))
    dt = 1 / 30

    for name, size in (("rgb 1280x720", (1280, 720)), ("rgb 1920x1080", (1920, 1080))):
        camera = oakd_rig(size, (640, 400)).rgb
        ms = median_ms(lambda i, c=camera: renderer.render(c, i * dt), args.frames)
        print(f"render {name:<22} {ms:6.1f} ms")
    rig = oakd_rig((1280, 720), (640, 400))
    ms = median_ms(lambda i: renderer.render(rig.left, i * dt, mono=True), args.frames)
    print(f"render {'mono 640x400':<22} {ms:6.1f} ms")

    pairs = [(renderer.render(rig.left, i * dt, True).image,
              renderer.render(rig.right, i * dt, True).image) for i in range(args.frames + 1)]
    for label, options in (("subpixel+LR (default)", StereoOptions()),
                           ("no LR check", StereoOptions(lr_check=False)),
                           ("extended+LR", StereoOptions(extended_disparity=True,
                                                         subpixel=False)),
                           ("subpixel+LR+median 5x5", StereoOptions(median_filter="5x5"))):
        matcher = StereoMatcher(options)
        ms = median_ms(lambda i, m=matcher: m.compute(*pairs[i]), args.frames)
        print(f"stereo 640x400 {label:<24} {ms:6.1f} ms")
    matcher = StereoMatcher(StereoOptions(median_filter="5x5"))     # as the simulated device matches
    matcher.set_background(renderer.background(rig.left, mono=True), renderer.background(rig.right, mono=True))
    ms = median_ms(lambda i: matcher.compute_raw(*pairs[i]), args.frames)
    print(f"stereo 640x400 {'same, room rows reused':<24} {ms:6.1f} ms")


if __name__ == "__main__":
    main()
