"""sim.fault on a SimDevice, no ROS: each fault seen in the frames it emits and in on_error."""
from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from depthai_ros_bridge.core.faults import Disconnect
from depthai_ros_bridge.core.spec import parse_spec
from depthai_ros_bridge.device.base import DeviceError, DeviceLost
from depthai_ros_bridge.device.frames import CorruptFrame, frame_array, frame_is_intact
from depthai_ros_bridge.device.sim import SimDevice
from depthai_ros_bridge.nn.deployment import build_deployment
from depthai_ros_bridge.nn.model_store import ModelStore

MODELS = Path(__file__).resolve().parents[2] / "models"
WAIT = 30.0
_seeds = iter(range(9000, 10000))     # each test its own device id: the disconnect registry is process-wide


def spec(**extra):
    values = {"device.type": "sim", "rgb.resolution": "720p", "rgb.fps": 10.0, "left.fps": 10.0,
              "right.fps": 10.0, "sim.seed": next(_seeds), **extra}
    return parse_spec(values)


class Recorder:
    """What a device hands the node: frame sets and errors, waited on with timeouts."""

    def __init__(self, consume_s: float = 0.0):
        self.cond = threading.Condition()
        self.sets, self.errors = [], []
        self.consume_s = consume_s

    def on_frames(self, frames):
        if self.consume_s:
            time.sleep(self.consume_s)      # a slow subscriber
        with self.cond:
            self.sets.append(frames)
            self.cond.notify_all()

    def on_error(self, error):
        with self.cond:
            self.errors.append(error)
            self.cond.notify_all()

    def wait(self, predicate, what: str, timeout: float = WAIT):
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self), timeout), f"timed out waiting for {what}"

    def after(self, seq: int, key: str):
        with self.cond:
            return [s for s in self.sets if s.seq > seq and key in s.frames]


@pytest.fixture
def device_and_recorder():
    made = []

    def make(consume_s: float = 0.0, **extra):
        device, rec = SimDevice(spec(**extra)), Recorder(consume_s)
        made.append(device)
        device.start(rec.on_frames, rec.on_error)
        rec.wait(lambda r: len(r.sets) >= 2, "the first frame sets")
        return device, rec
    yield make
    for device in made:
        device.close()


def last_seq(rec: Recorder) -> int:
    with rec.cond:
        return rec.sets[-1].seq


def test_disconnect_stops_every_stream_reports_x_link_and_hides_the_device(device_and_recorder):
    device, rec = device_and_recorder()
    device.inject("disconnect:1.5")
    rec.wait(lambda r: r.errors, "on_error")
    error = rec.errors[0]
    assert isinstance(error, DeviceLost) and isinstance(error, DeviceError) and "X_LINK" in str(error)
    count = len(rec.sets)
    with pytest.raises(DeviceError, match="device not found"):
        SimDevice(device._spec)                          # same sim.seed: not found while disconnected
    assert len(rec.sets) <= count + 1                    # nothing after the frame set in flight
    assert len(rec.errors) == 1
    deadline = time.monotonic() + WAIT
    while True:                                          # found again once the seconds have passed
        try:
            SimDevice(device._spec).close()
            break
        except DeviceError:
            assert time.monotonic() < deadline, "the device never came back"
            threading.Event().wait(0.2)


def test_a_disconnect_before_start_fails_start():
    device = SimDevice(spec())
    try:
        device.inject(Disconnect(0.2))
        with pytest.raises(DeviceLost):
            device.start(lambda f: None, lambda e: None)
    finally:
        device.close()


@pytest.mark.parametrize("stream, keys", [("rgb", ["rgb"]), ("stereo", ["depth", "disparity"])])
def test_a_stall_silences_one_stream_then_it_resumes(device_and_recorder, stream, keys):
    device, rec = device_and_recorder()
    injected = time.monotonic()
    device.inject(f"stall:{stream}:1.5")
    end = last_seq(rec) + 1

    def captured_within(r, t0, t1):     # frame sets whose capture started in [t0, t1] (tick stamps)
        return [s for s in r.sets if t0 <= s.timestamp <= t1]
    rec.wait(lambda r: any(s.timestamp > injected + 0.5 for s in r.sets), "frames of the other streams")
    silent = captured_within(rec, injected, injected + 0.5)
    assert len(silent) >= 2
    assert all(k not in s.frames for s in silent for k in keys)
    assert all("left" in s.frames and "right" in s.frames for s in silent)
    rec.wait(lambda r: r.after(end, keys[0]) and r.after(end, keys[0])[-1].timestamp > injected + 1.5,
             f"{stream} resuming after its stall")
    assert not rec.errors


def test_drop_removes_exactly_the_next_frames_of_a_stream(device_and_recorder):
    device, rec = device_and_recorder()
    device.inject("drop:left:3")
    start = last_seq(rec)
    rec.wait(lambda r: len(r.after(start, "right")) >= 8, "eight more frame sets")
    flags = "".join("1" if "left" in s.frames else "0" for s in rec.after(start, "right")[:8])
    # (up to two sets were captured before the fault: the one being handed over and one waiting)
    assert re.fullmatch(r"1{0,2}0001+", flags), flags
    assert device.status()["frames dropped (sim.fault)"] == "3"
    assert not rec.errors


def test_corrupt_frames_are_truncated_and_detected(device_and_recorder):
    device, rec = device_and_recorder()
    device.inject("corrupt:rgb:2")
    start = last_seq(rec)
    rec.wait(lambda r: len(r.after(start, "rgb")) >= 6, "six more rgb frames")
    frames = [s.frames["rgb"] for s in rec.after(start, "rgb")[:6]]
    flags = "".join("1" if frame_is_intact(f) else "0" for f in frames)
    assert re.fullmatch(r"1{0,2}001+", flags), flags
    broken, good = frames[flags.index("0")], frames[-1]
    assert (broken.getWidth(), broken.getHeight()) == (1280, 720)
    assert len(broken.getData()) == 1280 * 720 * 3 // 2          # half of what the size says
    with pytest.raises(CorruptFrame):
        frame_array(broken)
    assert frame_array(good).shape == (720, 1280, 3)
    assert device.status()["frames corrupted (sim.fault)"] == "2"


def test_stereo_corruption_breaks_depth_and_disparity_together(device_and_recorder):
    device, rec = device_and_recorder()
    device.inject("corrupt:stereo:1")
    start = last_seq(rec)
    rec.wait(lambda r: len(r.after(start, "depth")) >= 4, "four more depth frames")
    sets = rec.after(start, "depth")[:4]
    flags = "".join("1" if frame_is_intact(s.frames["depth"]) else "0" for s in sets)
    assert re.fullmatch(r"1{0,2}01+", flags), flags
    first = sets[flags.index("0")]
    assert not frame_is_intact(first.frames["disparity"]) and frame_is_intact(first.frames["left"])


def test_a_crash_in_the_device_thread_is_reported_through_on_error(device_and_recorder):
    device, rec = device_and_recorder()
    device.inject("crash")
    rec.wait(lambda r: r.errors, "on_error")
    assert isinstance(rec.errors[0], DeviceError) and "simulated crash" in str(rec.errors[0])
    count = len(rec.sets)
    device.close()                                       # stops cleanly after the failure
    assert len(rec.sets) <= count + 1 and len(rec.errors) == 1


def test_slow_nn_makes_each_inference_longer(device_and_recorder, tmp_path):
    device, rec = device_and_recorder(**{"left.enabled": False, "right.enabled": False, "stereo.enabled": False})
    store = ModelStore([MODELS], tmp_path / "cache")
    device.deploy("rgb", build_deployment("rgb", {"model": "demo-colour-ssd.tar.xz"}, tmp_path, store=store),
                  tmp_path)
    rec.wait(lambda r: any("rgb" in s.nn for s in r.sets), "a detection result")
    device.inject("slow_nn:400")
    start = last_seq(rec)
    rec.wait(lambda r: len(r.after(start + 1, "rgb")) >= 3, "three slow frames")
    slow = rec.after(start + 1, "rgb")[:3]
    # At 10 fps a 400 ms inference makes the capture skip ticks: consecutive sets >= 4 ticks apart.
    assert all(b.seq - a.seq >= 4 for a, b in zip(slow, slow[1:])), [s.seq for s in slow]
    assert all("rgb" in s.nn for s in slow)
    device.inject("slow_nn:0")
    start = last_seq(rec)
    rec.wait(lambda r: len(r.after(start, "rgb")) >= 6, "frames after the slow-down ends")
    fast = rec.after(start, "rgb")[:6]
    assert any(b.seq - a.seq < 4 for a, b in zip(fast, fast[1:]))     # no longer 400 ms per frame
    assert all("rgb" in s.nn for s in fast)


def test_a_slow_consumer_drops_the_oldest_waiting_set_and_never_queues(device_and_recorder):
    mono_off = {"left.enabled": False, "right.enabled": False, "stereo.enabled": False}
    device, rec = device_and_recorder(consume_s=0.35, **mono_off)
    rec.wait(lambda r: len(r.sets) >= 6, "six frame sets through a slow consumer")
    dropped = int(device.status()["frames dropped (publisher busy)"])
    captured = int(device.status()["frames captured"])
    assert dropped > 0
    seqs = [s.seq for s in rec.sets]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)     # in order, newest wins
    assert captured - len(rec.sets) - dropped <= 3     # at most: one being published, one waiting, one put next


def test_a_failing_consumer_is_reported_not_silent(device_and_recorder):
    device = SimDevice(spec())
    rec = Recorder()

    def explode(frames):
        raise ValueError("subscriber bug")
    try:
        device.start(explode, rec.on_error)
        rec.wait(lambda r: r.errors, "on_error")
        assert "publishing frame set" in str(rec.errors[0]) and "subscriber bug" in str(rec.errors[0])
    finally:
        device.close()


def test_a_malformed_fault_is_refused_naming_the_forms(device_and_recorder):
    device, rec = device_and_recorder()
    with pytest.raises(ValueError, match="allowed forms: disconnect:<seconds>"):
        device.inject("stall:depth:1")
    assert not rec.errors
