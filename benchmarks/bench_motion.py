"""Table 9 of the benchmark: what a moving simulated rig costs, and the IMU's rate counted by its stamps.

    python benchmarks/bench_motion.py          # this table alone (make bench runs it with the others)

Capture: `SimDevice.capture` alone (render, stereo, network) on config/sim.yaml's streams, per frame set, for
sim.camera_motion static (cached room and background disparity), handheld and orbit (room traced and every stereo
row matched each frame). IMU: the device streaming for a few seconds with imu.enabled; the samples received,
their rate as samples per stamp span (the stamps are the device's own: no timing of the host), against imu.rate_hz,
and the frame sets the image path delivered meanwhile with and without the IMU thread.
"""
from __future__ import annotations

import statistics
import threading
import time

from bench_common import SIM_CONFIG, Table, flat_parameters, ms

FRAMES = 20


def _values(**extra) -> dict:
    values = {k: v for k, v in flat_parameters(SIM_CONFIG).items() if not k.startswith("rgb.nn.")}
    return {**values, **extra}


def _capture_ms(mode: str) -> float:
    from depthai_ros_bridge.core.spec import parse_spec
    from depthai_ros_bridge.device.sim import SimDevice

    device = SimDevice(parse_spec(_values(**{"sim.camera_motion": mode, "imu.enabled": False}), "oak"))
    try:
        device.capture(0, 0.0)                      # warm-up: the static room is rendered and cached here
        times = []
        for seq in range(1, FRAMES + 1):
            start = time.perf_counter()
            device.capture(seq, seq / device.capture_fps)
            times.append(time.perf_counter() - start)
    finally:
        device.close()
    return statistics.median(times)


def _stream(seconds: float, imu: bool, mode: str) -> tuple[int, int, float]:
    """(frame sets delivered, IMU samples, samples per second of stamp span)."""
    from depthai_ros_bridge.core.spec import parse_spec
    from depthai_ros_bridge.device.imu import ImuAssembler
    from depthai_ros_bridge.device.sim import SimDevice

    spec = parse_spec(_values(**{"imu.enabled": imu, "sim.camera_motion": mode}), "oak")
    device, assembler = SimDevice(spec), ImuAssembler()
    frames, stamps, done = [0], [], threading.Event()

    def on_imu(data):
        stamps.extend(s.timestamp for s in assembler.add(data))

    device.start(lambda f: frames.__setitem__(0, frames[0] + 1), lambda e: done.set(), on_imu if imu else None)
    done.wait(seconds)
    device.close()
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    return frames[0], len(stamps), rate


def motion_and_imu(seconds: float = 5.0) -> Table:
    from depthai_ros_bridge.core.spec import parse_spec

    rate_hz = parse_spec(_values(), "oak").imu.rate_hz
    table = Table(f"9. Moving rig and IMU (simulated OAK-D, {SIM_CONFIG.name} streams)",
                  ["sim.camera_motion", "capture ms / frame set", "frame sets in run", "IMU samples",
                   "IMU Hz by stamps", "imu.rate_hz"])
    for mode in ("static", "handheld", "orbit"):
        capture = _capture_ms(mode)
        frames_off, _, _ = _stream(seconds, False, mode)
        frames_on, samples, rate = _stream(seconds, True, mode)
        table.rows.append([mode, ms(capture), f"{frames_on} ({frames_off} without IMU)", str(samples),
                           f"{rate:.1f}", str(rate_hz)])
    table.notes.append(f"capture: median of {FRAMES} SimDevice.capture calls (no network), one thread at a time; "
                       f"runs: the device streaming {seconds:.0f} s, frames and IMU consumed in-process.")
    return table


if __name__ == "__main__":
    print(motion_and_imu().text())
