"""Parameters: invalid values fail configure and name the parameter; runtime ones apply live."""
import numpy as np
import pytest
from sensor_msgs.msg import Image

from harness import FAST_SIM


@pytest.mark.parametrize("bad, parameter", [
    ({"rgb.resolution": "9k"}, "rgb.resolution"),          # unsupported resolution
    ({"left.fps": 0.0, "right.fps": 0.0}, "left.fps"),     # fps <= 0
    ({"left.enabled": False}, "stereo.enabled"),           # depth without both mono streams
    ({"rgb.fps": "fast"}, "rgb.fps"),                      # wrong type
    ({"device.type": "usb"}, "device.type"),
])
def test_invalid_parameter_fails_configure_naming_it_then_good_values_configure(make_harness, bad, parameter):
    h = make_harness(**{**FAST_SIM, **bad})
    assert not h.transition("configure")
    assert h.state() == "unconfigured" and h.node.device is None
    assert parameter in h.node.last_error
    fixes = {name: value for name, value in FAST_SIM.items() if name in bad}
    fixes.update({name: True for name in bad if name.endswith(".enabled")})
    if parameter == "rgb.resolution":
        fixes["rgb.resolution"] = "720p"
    if parameter == "device.type":
        fixes["device.type"] = "sim"
    assert all(r.successful for r in h.set_parameters(**fixes))   # unknown names: test_first_hour.py
    assert h.transition("configure") and h.state() == "inactive"


def test_wrong_value_is_refused_when_set_at_runtime(make_harness):
    h = make_harness(**FAST_SIM)
    result, = h.set_parameters(**{"stereo.confidence_threshold": 400})
    assert not result.successful and "stereo.confidence_threshold" in result.reason and "255" in result.reason


def test_oak_device_without_hardware_fails_configure_saying_what_was_searched(make_harness):
    h = make_harness(**{**FAST_SIM, "device.type": "auto"})
    assert not h.transition("configure")
    assert "no OAK found" in h.node.last_error and "searched" in h.node.last_error


def test_rebuild_parameter_is_read_only_while_configured(make_harness):
    h = make_harness(**FAST_SIM)
    assert h.transition("configure")
    result, = h.set_parameters(**{"rgb.resolution": "1080p"})
    assert not result.successful and "Read-only while configured" in result.reason
    assert h.transition("cleanup")
    result, = h.set_parameters(**{"rgb.resolution": "1080p"})
    assert result.successful


def test_confidence_threshold_applies_live(make_harness):
    h = make_harness(**{**FAST_SIM, "stereo.confidence_threshold": 255})
    depth = h.subscribe("stereo/image_raw", Image)
    assert h.transition("configure") and h.transition("activate")

    def valid_fraction(msg):
        return (np.frombuffer(bytes(msg.data), np.uint16) > 0).mean()

    permissive = valid_fraction(depth.wait())
    result, = h.set_parameters(**{"stereo.confidence_threshold": 30})
    assert result.successful
    seen = depth.count
    strict = valid_fraction(depth.wait(count=seen + 2))    # a frame captured after the change
    assert strict < permissive - 0.2


def test_depth_limit_and_metres_encoding(make_harness):
    h = make_harness(**{**FAST_SIM, "stereo.depth_encoding": "32FC1", "stereo.depth_limit_m": 3.0})
    depth = h.subscribe("stereo/image_raw", Image)
    assert h.transition("configure") and h.transition("activate")
    msg = depth.wait()
    assert msg.encoding == "32FC1" and msg.step == msg.width * 4
    metres = np.frombuffer(bytes(msg.data), np.float32)
    finite = metres[np.isfinite(metres)]
    assert finite.size > 0.2 * metres.size and finite.max() <= 3.0 and finite.min() > 0.3
    assert np.isnan(metres).any()   # no data beyond the limit is NaN (REP-118)


def test_max_fps_limits_a_stream_by_its_timestamps(make_harness):
    h = make_harness(**{**FAST_SIM, "left.max_fps": 5.0})
    left = h.subscribe("left/image_raw", Image)
    assert h.transition("configure") and h.transition("activate")
    left.wait(count=4)
    stamps = [m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in left.messages]
    assert min(np.diff(stamps)) >= 0.19    # 10 fps capture, at most 5 Hz published
