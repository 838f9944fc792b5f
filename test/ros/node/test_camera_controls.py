"""Exposure, white balance, focus and IR set live over DDS, seen in the published images and on
/diagnostics; ~/rgb/trigger_autofocus in every state; refusals naming the parameter and the device."""
import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import QoSProfile
from sensor_msgs.msg import Image
from std_srvs.srv import Trigger

from harness import FAST_SIM, image_array, wait_until


def _trigger(h):
    return h._call(Trigger, h.topic("rgb/trigger_autofocus"), Trigger.Request())


def _device_values(h, diagnostics) -> dict:
    for msg in reversed(diagnostics.messages):
        for status in msg.status:
            if status.name == f"{h.node.frame_prefix}: device":
                return {kv.key: kv.value for kv in status.values}
    return {}


def test_manual_exposure_set_live_halves_the_published_image_and_shows_on_diagnostics(make_harness):
    h = make_harness(**{**FAST_SIM, "rgb.exposure.auto": False, "rgb.exposure.iso": 400,
                        "rgb.exposure.time_us": 5000})
    rgb = h.subscribe("rgb/image_raw", Image)
    diagnostics = h.subscribe("/diagnostics", DiagnosticArray, QoSProfile(depth=10))
    assert h.transition("configure") and h.transition("activate")
    before = float(image_array(rgb.wait(count=2)).mean())
    assert all(r.successful for r in h.set_parameters(**{"rgb.exposure.time_us": 2500}))
    wait_until(lambda: float(image_array(rgb.messages[-1]).mean()) < 0.75 * before, what="a darker frame")
    after = float(image_array(rgb.messages[-1]).mean())
    assert abs(after / before - 0.5) < 0.05 * 0.5          # halved, within 5 % (the static scene)
    wait_until(lambda: _device_values(h, diagnostics).get("rgb exposure") == "2500 us, ISO 400 (manual)",
               what="the exposure on /diagnostics")
    values = _device_values(h, diagnostics)
    assert values["rgb white balance"] == "5500 K (auto)" and "continuous_picture" in values["rgb lens position"]


def test_dot_projector_switched_on_live_fills_the_plain_walls_depth(make_harness):
    h = make_harness(**{**FAST_SIM, "rgb.enabled": False, "sim.scene": "plain_wall", "sim.model": "oak-d-pro"})
    depth = h.subscribe("stereo/image_raw", Image)
    assert h.transition("configure") and h.transition("activate")

    def valid(msg) -> float:
        return float((image_array(msg) > 0).mean())

    assert valid(depth.wait(count=2)) < 0.2
    assert all(r.successful for r in h.set_parameters(**{"ir.dot_projector_intensity": 1.0}))
    wait_until(lambda: valid(depth.messages[-1]) > 0.8, what="depth on the wall with the dots")
    wall = image_array(depth.messages[-1])
    assert abs(float(np.median(wall[wall > 0])) - 2000.0) < 60.0      # the wall is 2 m ahead (16UC1 mm)


def test_refusals_name_the_parameter_and_the_device(make_harness):
    h = make_harness(**FAST_SIM)
    result, = h.set_parameters(**{"rgb.exposure.iso": 3200})
    assert not result.successful and result.reason.startswith("rgb.exposure.iso:") and "1600" in result.reason
    assert h.transition("configure")
    result, = h.set_parameters(**{"ir.flood_intensity": 0.5})
    assert not result.successful and "ir.flood_intensity" in result.reason and "OAK-D (simulated)" in result.reason
    result, = h.set_parameters(**{"right.exposure.time_us": 1000})
    assert not result.successful and "set left.exposure.time_us" in result.reason
    result, = h.set_parameters(**{"rgb.focus.mode": "zoom"})
    assert not result.successful and "rgb.focus.mode" in result.reason and "continuous_picture" in result.reason
    assert h.node.get_parameter("rgb.focus.mode").value == "continuous_picture"


def test_trigger_autofocus_answers_in_every_state(make_harness):
    h = make_harness(**FAST_SIM)
    reply = _trigger(h)
    assert not reply.success and "unconfigured" in reply.message
    assert h.transition("configure") and h.transition("activate")
    reply = _trigger(h)
    assert reply.success and "continuous_picture" in reply.message
    assert all(r.successful for r in h.set_parameters(**{"rgb.focus.mode": "manual", "rgb.focus.position": 200}))
    reply = _trigger(h)
    assert not reply.success and "rgb.focus.mode is manual" in reply.message
    assert all(r.successful for r in h.set_parameters(**{"rgb.focus.mode": "auto"}))
    assert _trigger(h).success
    assert h.transition("deactivate") and h.transition("cleanup")
    assert not _trigger(h).success
