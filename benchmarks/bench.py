"""What the bridge costs: `python benchmarks/bench.py` (`make bench`), about two minutes.

Every figure is measured in this one run, on this machine, with the other
load it happens to carry (printed at the top): read them as "on a 2-core
shared box", not as absolutes. Wall times are medians over the iterations
(so one preempted iteration does not move them); rates and CPU are averages
over the whole run. Subscribers always live in another process, so each
message crosses DDS (Fast DDS, loopback) as it does for a real consumer.

1. Bridge cost per frame - ms from a device frame in memory (a `dai.ImgFrame`,
   as the device emits it) to `publish()` returning, with one reliable
   subscriber matched. Columns, interleaved round-robin so all see the same load:
     memcpy     np.copyto of the frame's pixels into a preallocated array
     floor      publishing an already-built message of that size (rclpy + DDS)
     ours       frame_array + the topic's conversions.ImageMessage.fill + publish
     cv_bridge  cv_bridge's cv2_to_imgmsg algorithm (Image(); data.frombytes(
                frame.tobytes()); publish) reimplemented: cv_bridge for ROS 2 is
                not installable from PyPI (the `cv-bridge` wheel is a ROS 1 port)
     .tolist()  `msg.data = frame.ravel().tolist()` + publish   } slow patterns: a few iterations
     memview    `msg.data = memoryview(frame).cast("B")` + publish } on the 640x400 frames only
   The slow patterns on the larger frames are extrapolated (marked ~): the
   floor of that size plus the fill cost per byte measured on 640x400 16UC1.
2. Sustained rate - the real node (`python -m depthai_ros_bridge` with config/sim.yaml) run
   by tools/timed_run.py, whose rate monitor subscribes in a third process: Hz per topic
   against the rate the spec expects (simulator rendering, stereo and NN included), over
   30 s, each topic counted from 2 s after its first message.
3. Bridge CPU - SimDevice FrameSets (config/sim.yaml at 30 fps: rgb 1280x720,
   left/right 640x400, depth, the demo detector's results when vision_msgs is
   there) captured once, then replayed through `Outputs.publish` at 30 fps from
   a thread as the device's capture loop would. One subscriber process takes
   image_raw + camera_info of every camera and depth (+ the NN topics). CPU
   time of this process (all threads: conversion, rclpy, DDS) / wall time, as
   % of one core; rendering, stereo and inference are the device's and excluded.
4. Latency - from the header stamp (the frame's device timestamp, ROS clock)
   to DDS's receipt of the sample in the subscriber process and to its
   callback (the subscriber's ROS clock; both are the system clock), same run as 3.
5. Memory - RSS of this process after warm-up, after run 3, after all runs; the net
   Python allocations (tracemalloc) over a further 3 s replay.
6. Lazy work - `Outputs.publish` per FrameSet with and without a subscriber on
   ~/stereo/disparity_color, ~/rgb/image_raw/compressed, ~/stereo/points, one at a time
   (a topic without subscribers is not converted, encoded or computed).
9. Moving rig and IMU - SimDevice.capture per frame set for sim.camera_motion static/handheld/orbit,
   frame sets delivered with and without the IMU thread, IMU rate counted per stamp span
   (benchmarks/bench_motion.py).
10. Video - the simulator's H.264/H.265 encoding of sim.yaml's colour frames: ms per frame,
   achieved vs configured bitrate, PSNR of the decoded frames (benchmarks/bench_video.py).

Transports: this process is the bridge and loads the node's Fast DDS profile as the node
does (depthai_ros_bridge.ros.dds, unless FASTDDS_DEFAULT_PROFILES_FILE is set); the subscriber
processes get the environment without it, as any subscriber would.
Every ROS process here keeps DDS discovery on loopback
(ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST) and uses its own ROS_DOMAIN_ID
(1 + pid % 100; BENCH_ROS_DOMAIN_ID pins it) so concurrent runs stay apart.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from bench_common import SUBSCRIBER_ENV, Table, machine
from bench_conversion import CONVERSION_COLUMNS, FRAME_CASES, N_DETECTIONS, conversion_costs
from bench_motion import motion_and_imu
from bench_node import deploy_gaps, sustained_rates
from bench_replay import PRERENDERED, bridge_at_30fps
from bench_subscriber import Subscriber
from bench_video import video_encoding
from depthai_ros_bridge.ros.dds import use_large_frames_profile

__all__ = ["CONVERSION_COLUMNS", "FRAME_CASES", "N_DETECTIONS", "main"]


def ros_environment() -> None:
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"      # DDS stays on loopback
    os.environ["DEPTHAI_TELEMETRY"] = "0"
    os.environ["ROS_DOMAIN_ID"] = os.environ.get("BENCH_ROS_DOMAIN_ID") or str(1 + os.getpid() % 100)
    SUBSCRIBER_ENV.clear()
    SUBSCRIBER_ENV.update(os.environ)
    use_large_frames_profile()          # this process is the bridge


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="table 1 only, a few iterations (smoke test)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the 30 fps CPU run")
    args = parser.parse_args(argv)

    ros_environment()
    import rclpy
    started = time.monotonic()
    header = machine() + "\nWall times are medians over iterations; rates and CPU are averages over each run."
    print(header, flush=True)
    tables: list[Table] = []
    ready = False

    def show(*new: Table) -> None:
        for t in new:
            print(t.text(), flush=True)
        tables.extend(new)

    rclpy.init(args=[])
    sub = Subscriber()
    node = rclpy.create_node("bench")
    try:
        show(conversion_costs(node, sub, 3 if args.quick else 60, 1 if args.quick else 3))
        if not args.quick:
            try:
                from depthai_ros_bridge.ros import outputs  # noqa: F401 - needs tf2_msgs and vision_msgs, built into the venv
                ready = True
            except ImportError as e:
                print(f"\nTables 2-6 skipped: the bridge does not import ({e}).")
            if ready:
                replay_tables, capture_s = bridge_at_30fps(sub, args.seconds, PRERENDERED)
                show(*replay_tables)
    finally:
        node.destroy_node()
        sub.close()
        rclpy.try_shutdown()
    if ready:
        show(sustained_rates(30.0, capture_s))
        show(deploy_gaps())
        show(motion_and_imu())
        show(video_encoding())
    print("\n---- Markdown ----\n")
    print(header + "\n")
    print("\n\n".join(t.markdown() for t in sorted(tables, key=lambda t: t.title)))
    print(f"\nbench wall time {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
