"""Requests from the domain are shape-checked before anything reads them (no DDS needed)."""
import pytest
from rcl_interfaces.msg import Parameter as ParameterMsg
from rcl_interfaces.msg import ParameterType, ParameterValue

from depthai_ros_bridge.nn.deployment import DeployError
from depthai_ros_bridge.ros.nn_services import MAX_INLINE_MODEL_BYTES, MAX_REPLY_CHARS, request_values, short
from depthai_ros_bridge.ros.request_guard import request_problem


def _param(name, type_, **value):
    return ParameterMsg(name=name, value=ParameterValue(type=type_, **value))


def test_a_well_formed_deploy_request_gives_its_values():
    values = request_values([
        _param("model", ParameterType.PARAMETER_STRING, string_value="models/net.tar.xz"),
        _param("labels", ParameterType.PARAMETER_STRING_ARRAY, string_array_value=["a", "b"]),
        _param("model_data", ParameterType.PARAMETER_BYTE_ARRAY, byte_array_value=[b"\x08", b"\x01"]),
    ])
    assert values == {"model": "models/net.tar.xz", "labels": ["a", "b"], "model_data": b"\x08\x01"}


@pytest.mark.parametrize("params, message", [
    ([_param("model", 42)], "model must be a string parameter"),
    ([_param("labels", ParameterType.PARAMETER_STRING, string_value="abcd")], "labels must be a string array"),
    ([_param("model_data", ParameterType.PARAMETER_STRING, string_value="x")], "model_data must be a byte array"),
    ([_param("weights", ParameterType.PARAMETER_STRING, string_value="x")], "unknown field 'weights'"),
    ([_param("model", ParameterType.PARAMETER_STRING, string_value="a")] * 2, "given twice"),
    ([_param("model", ParameterType.PARAMETER_STRING, string_value="a" * 70000)], "longer than"),
    ([_param(f"f{i}", ParameterType.PARAMETER_STRING) for i in range(6)], "at most 5 fields"),
])
def test_a_malformed_deploy_request_is_refused_naming_the_field(params, message):
    with pytest.raises(DeployError, match=message):
        request_values(params)


def test_inline_model_bytes_are_capped():
    data = [b"\x00"] * (MAX_INLINE_MODEL_BYTES + 1)
    with pytest.raises(DeployError, match="over the .* byte limit"):
        request_values([_param("model_data", ParameterType.PARAMETER_BYTE_ARRAY, byte_array_value=data)])


def test_replies_are_short():
    assert len(short("x" * 5000)) == MAX_REPLY_CHARS and short("ok") == "ok"


def test_set_parameters_requests_with_an_unknown_type_are_named():
    assert "rgb.fps: unknown parameter type 42" in request_problem([_param("rgb.fps", 42)])
    assert request_problem([_param("rgb.fps", ParameterType.PARAMETER_DOUBLE, double_value=10.0)]) == ""
    assert "at most" in request_problem([_param("x", 1)] * 1001)
