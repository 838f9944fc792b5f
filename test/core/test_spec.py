import pytest

from depthai_ros_bridge.core.spec import PARAMETERS, ConfigError, check_value, parse_spec


def test_defaults_parse_into_a_full_spec():
    spec = parse_spec({}, node_name="cam")
    assert spec.device.type == "auto"
    assert spec.base_frame == "cam_base_frame"
    assert (spec.streams["rgb"].width, spec.streams["rgb"].height) == (1920, 1080)
    assert (spec.streams["left"].width, spec.streams["left"].height) == (640, 400)
    assert spec.optical_frame("rgb") == "cam_rgb_camera_optical_frame"
    assert spec.optical_frame("stereo") == "cam_right_camera_optical_frame"
    assert spec.body_frame("left") == "cam_left_camera_frame"


def test_depth_aligned_to_rgb_is_in_the_rgb_optical_frame():
    spec = parse_spec({"stereo.align": "rgb", "rgb.frame_id": "front_cam"})
    assert spec.optical_frame("stereo") == "front_cam"


def test_integer_is_accepted_for_a_float_parameter():
    assert parse_spec({"rgb.fps": 15}).streams["rgb"].fps == 15.0


@pytest.mark.parametrize("values, parameter, message", [
    ({"rbg.fps": 30.0}, "rbg.fps", "unknown stream 'rbg'"),
    ({"rgb.resolution": "9k"}, "rgb.resolution", "not one of 720p, 1080p, 4k"),
    ({"left.resolution": "1080p"}, "left.resolution", "not one of 400p, 720p, 800p"),
    ({"rgb.fps": 0.0}, "rgb.fps", "must be > 0"),
    ({"rgb.fps": -5.0}, "rgb.fps", "must be > 0"),
    ({"left.enabled": False}, "stereo.enabled", "depth needs both mono streams"),
    ({"rgb.fps": "fast"}, "rgb.fps", "must be a number, got a string"),
    ({"stereo.lr_check": 1}, "stereo.lr_check", "must be a boolean"),
    ({"stereo.confidence_threshold": 300}, "stereo.confidence_threshold", "above the maximum 255"),
    ({"device.type": "usb"}, "device.type", "not one of auto, oak, sim"),
    ({"stereo.median_filter": "7x7"}, "stereo.median_filter", "not available with stereo.subpixel"),
    ({"right.fps": 15.0}, "right.fps", "must equal left.fps"),
    ({"stereo.depth_encoding": "mono16"}, "stereo.depth_encoding", "16UC1, 32FC1"),
])
def test_invalid_values_name_the_parameter_and_what_is_allowed(values, parameter, message):
    with pytest.raises(ConfigError, match=message) as err:
        parse_spec(values)
    assert parameter in err.value.problems


def test_all_problems_are_reported_together():
    with pytest.raises(ConfigError) as err:
        parse_spec({"rgb.fps": "x", "left.resolution": "1p"})
    assert set(err.value.problems) == {"rgb.fps", "left.resolution"}


def test_fps_zero_is_refused_whether_or_not_the_stream_is_enabled():
    # A rate of 0 Hz is never meaningful: refused when set, before anyone knows what configure will see.
    assert check_value("rgb.fps", 0.0) == "must be > 0.0, got 0.0"
    with pytest.raises(ConfigError, match="rgb.fps"):
        parse_spec({"rgb.enabled": False, "rgb.fps": 0.0})
    assert not parse_spec({"rgb.enabled": False}).enabled("rgb")


def test_every_parameter_default_is_valid():
    for name, rule in PARAMETERS.items():
        assert check_value(name, rule.default) is None, name
