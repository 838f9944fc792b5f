"""Camera controls on a real OAK, read back from the frames' own metadata (what the camera's 3A
applied): manual exposure/ISO, white balance, lens position; the IR emitters on an OAK-D Pro.

Skipped unless DepthAI finds a device. Point the camera at a still, evenly lit scene.
"""
from __future__ import annotations

import threading
import time

import depthai as dai
import pytest

if not dai.Device.getAllAvailableDevices():
    pytest.skip("no OAK found by dai.Device.getAllAvailableDevices(): these tests need a device",
                allow_module_level=True)

from depthai_ros_bridge.core.controls import CameraControlSpec, IRSpec
from depthai_ros_bridge.core.spec import parse_spec
from depthai_ros_bridge.device.frames import frame_array
from depthai_ros_bridge.device.oak import OakDevice


class Latest:
    def __init__(self):
        self.frames, self._cond = {}, threading.Condition()

    def on_frames(self, frames):
        with self._cond:
            self.frames.update(frames.frames)
            self._cond.notify_all()

    def wait_for(self, key: str, accept, timeout: float = 5.0):
        """The first frame of `key` that `accept` takes, within the timeout (else the last one seen)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while time.monotonic() < deadline:
                frame = self.frames.get(key)
                if frame is not None and accept(frame):
                    return frame
                self._cond.wait(0.1)
            return self.frames.get(key)


@pytest.fixture(scope="module")
def running():
    device = OakDevice(parse_spec({"device.type": "oak", "stereo.enabled": False, "rgb.resolution": "1080p"}))
    latest = Latest()
    device.start(latest.on_frames, lambda e: None)
    assert latest.wait_for("rgb", lambda f: True, 15.0) is not None
    yield device, latest
    device.close()


def _exposure(frame) -> tuple[float, int]:
    return frame.getExposureTime().total_seconds() * 1e6, frame.getSensitivity()


def test_manual_exposure_is_applied_and_halving_it_halves_the_image(running, report):
    device, latest = running
    means = []
    for time_us in (8000, 4000):
        device.set_camera_control("rgb", CameraControlSpec(auto_exposure=False, exposure_time_us=time_us, iso=400))
        frame = latest.wait_for("rgb", lambda f, t=time_us: abs(_exposure(f)[0] - t) < 0.05 * t)
        got_time, got_iso = _exposure(frame)
        report(f"asked {time_us} us ISO 400, frame says {got_time:.0f} us ISO {got_iso}")
        assert abs(got_time - time_us) < 0.05 * time_us and abs(got_iso - 400) <= 40
        time.sleep(0.3)          # a few frames at the new exposure
        means.append(float(frame_array(latest.frames["rgb"]).mean()))
    report(f"image means {means[0]:.1f} -> {means[1]:.1f}")
    assert 0.35 < means[1] / means[0] < 0.65        # the ISP's tone curve is not quite linear


def test_white_balance_and_lens_position_are_applied(running, report):
    device, latest = running
    device.set_camera_control("rgb", CameraControlSpec(auto_white_balance=False, kelvin=3200, focus_mode="manual",
                                                       focus_position=150))
    frame = latest.wait_for("rgb", lambda f: abs(f.getColorTemperature() - 3200) < 200)
    report(f"colour temperature {frame.getColorTemperature()} K, lens position {frame.getLensPosition()}")
    assert abs(frame.getColorTemperature() - 3200) < 200
    if device.controls.rgb_autofocus:
        frame = latest.wait_for("rgb", lambda f: f.getLensPosition() == 150)
        assert frame.getLensPosition() == 150
        assert device.trigger_autofocus()[0] is False          # manual: no trigger
        device.set_camera_control("rgb", CameraControlSpec(focus_mode="auto"))
        assert device.trigger_autofocus()[0]


def test_ir_emitters_on_a_pro_or_refused_naming_the_device(running, report):
    device, _ = running
    if not device.controls.rules.has_ir:
        why = device.control_problem("ir.dot_projector_intensity", 0.5)
        report(why)
        assert device.info.name in why
        return
    device.set_ir(IRSpec(dot_projector=0.5, flood=0.2))
    report(str(device.status().get("IR dot projector / flood")))
    assert device.ir == IRSpec(0.5, 0.2)
    device.set_ir(IRSpec())
