"""Camera control and IR parameters: ranges, messages naming the parameter, specs."""
import pytest

from depthai_ros_bridge.core.controls import (
    CONTROL_PARAMETERS,
    CameraControlSpec,
    IRSpec,
    control_field,
    fixed_focus_problem,
    ir_with_change,
    with_change,
)
from depthai_ros_bridge.core.spec import PARAMETERS, ConfigError, check_value, parse_spec


@pytest.mark.parametrize("name, value, words", [
    ("rgb.exposure.iso", 50, "below the minimum 100"),
    ("left.exposure.iso", 3200, "above the maximum 1600"),
    ("rgb.exposure.time_us", 0, "below the minimum 1"),
    ("right.exposure.time_us", 40000, "above the maximum 33000"),
    ("rgb.exposure.compensation", 10, "above the maximum 9"),
    ("rgb.white_balance.kelvin", 900, "below the minimum 1000"),
    ("rgb.focus.mode", "infinity", "not one of continuous_picture, continuous_video, auto, macro, edof, manual"),
    ("rgb.focus.position", 256, "above the maximum 255"),
    ("ir.dot_projector_intensity", 1.5, "above the maximum 1.0"),
    ("ir.flood_intensity", -0.1, "below the minimum 0.0"),
    ("rgb.exposure.auto", "yes", "must be a boolean"),
    ("sim.scene", "forest", "not one of room, plain_wall"),
])
def test_bad_values_are_refused_naming_the_parameter(name, value, words):
    assert words in check_value(name, value)
    with pytest.raises(ConfigError) as e:
        parse_spec({name: value})
    assert name in e.value.problems and words in str(e.value)


def test_controls_are_live_and_declared_with_their_ranges():
    for name, rule in CONTROL_PARAMETERS.items():
        assert PARAMETERS[name] is rule
        assert rule.runtime == (not name.startswith("sim."))
    assert PARAMETERS["rgb.white_balance.kelvin"].min == 1000 and PARAMETERS["rgb.white_balance.kelvin"].max == 12000
    assert "left.focus.mode" not in PARAMETERS          # the monos are fixed focus


def test_spec_carries_the_controls():
    spec = parse_spec({"rgb.exposure.auto": False, "rgb.exposure.time_us": 8000, "rgb.focus.mode": "manual",
                       "rgb.focus.position": 120, "left.exposure.iso": 800, "ir.flood_intensity": 0.5})
    assert spec.controls["rgb"] == CameraControlSpec(auto_exposure=False, exposure_time_us=8000,
                                                     focus_mode="manual", focus_position=120)
    assert spec.controls["left"].iso == 800
    assert spec.ir == IRSpec(0.0, 0.5) and spec.ir.on


def test_with_stereo_the_right_exposure_follows_the_left():
    with pytest.raises(ConfigError) as e:
        parse_spec({"right.exposure.iso": 800})
    assert "set left.exposure.iso" in e.value.problems["right.exposure.iso"]
    assert parse_spec({"right.exposure.iso": 800, "left.exposure.iso": 800}).controls["right"].iso == 800
    assert parse_spec({"right.exposure.iso": 800, "stereo.enabled": False}).controls["right"].iso == 800


def test_changes_map_to_fields():
    controls = {c: CameraControlSpec() for c in ("rgb", "left", "right")}
    assert with_change(controls, "rgb.focus.position", 42) == ("rgb", CameraControlSpec(focus_position=42))
    assert with_change(controls, "right.exposure.auto", False)[1].auto_exposure is False
    assert control_field("left.focus.mode") is None and control_field("stereo.enabled") is None
    with pytest.raises(ValueError, match="ir.flood_intensity is not a camera control"):
        with_change(controls, "ir.flood_intensity", 1.0)
    assert ir_with_change(IRSpec(), "ir.dot_projector_intensity", 1) == IRSpec(1.0, 0.0)


def test_fixed_focus_refusal_names_the_sensor():
    why = fixed_focus_problem("rgb.focus.mode", "manual", "OV9782")
    assert "OV9782" in why and "fixed-focus" in why and "rgb.focus.mode" in why
    assert fixed_focus_problem("rgb.focus.mode", "continuous_picture", "OV9782") is None
    assert fixed_focus_problem("rgb.exposure.iso", 400, "OV9782") is None
