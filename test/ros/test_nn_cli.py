"""oak_nn: mistakes in what was typed are one line on stderr, exit status 2, never a traceback, before ROS starts."""
import pytest

from depthai_ros_bridge.ros import nn_cli


@pytest.mark.parametrize("argv, message", [
    (["deploy", "rgb", "net.onnx", "--config", "@{tmp}/missing.json"],
     "oak_nn: --config @{tmp}/missing.json: no such file"),
    (["deploy", "rgb", "net.onnx", "--config", "{{'type': 1}}"], "oak_nn: --config: not JSON: Expecting property name"),
    (["deploy", "rgb", "net.onnx", "--config", "[1, 2]"], "oak_nn: --config: must be a JSON object"),
    (["deploy", "rgb", "{tmp}/missing.onnx", "--upload"], "oak_nn: --upload {tmp}/missing.onnx: no such file"),
])
def test_local_mistakes_are_one_line(tmp_path, capsys, monkeypatch, argv, message):
    def no_ros(*_a, **_k):
        raise AssertionError("ROS started for a mistake that needs none")
    monkeypatch.setattr(nn_cli.rclpy, "init", no_ros)
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert nn_cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith(message.format(tmp=tmp_path)), err


def test_config_from_a_file_is_sent_as_its_text(tmp_path):
    path = tmp_path / "nn_config.json"
    path.write_text('{"type": "YOLO", "classes": 3}')
    assert nn_cli.config_text(f"@{path}") == '{"type": "YOLO", "classes": 3}'
    request = nn_cli.deploy_request(str(tmp_path / "net.onnx"), nn_cli.config_text(f"@{path}"), ["a"], "")
    names = {p.name: p.value for p in request.parameters}
    assert names["nn_config"].string_value == '{"type": "YOLO", "classes": 3}'
    assert list(names["labels"].string_array_value) == ["a"]
