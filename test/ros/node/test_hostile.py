"""Requests any participant on the domain can send: each gets a reason, none kills the node, none
exhausts its memory, none echoes a file, none starves the lifecycle services."""
import gzip
import io
import os
import tarfile
import threading
from pathlib import Path

import pytest
from lifecycle_msgs.srv import GetState
from rcl_interfaces.msg import Parameter as ParameterMsg
from rcl_interfaces.msg import ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters, SetParametersAtomically
from vision_msgs.msg import Detection2DArray

from harness import FAST_SIM, Harness, wait_until
from test_nn import MODELS, SSD_ARCHIVE, deploy

CAP_MB = 64


def _peak_rss_mb_since_reset() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak_rss() -> float:
    Path("/proc/self/clear_refs").write_text("5")        # VmHWM := VmRSS (Linux >= 4.0)
    return _peak_rss_mb_since_reset()


@pytest.fixture(scope="module")
def allowed(tmp_path_factory) -> Path:
    """A directory of its own the node may read models from (never all of /tmp: a checkout may live there)."""
    return tmp_path_factory.mktemp("allowed_models")


@pytest.fixture(scope="module")
def node(ros, allowed):
    h = Harness(**{**FAST_SIM, "nn.max_model_bytes": CAP_MB * 1024 * 1024,
                   "nn.allowed_model_dirs": [str(MODELS), str(allowed)]})
    assert h.transition("configure") and h.transition("activate")
    assert deploy(h, model=str(SSD_ARCHIVE)).successful
    yield h
    h.close()


def _alive(h):
    detections = h.subscribe("rgb/nn/detections", Detection2DArray)
    detections.wait(detections.count + 2)
    assert h.node.get_parameter("rgb.nn.model").value == str(SSD_ARCHIVE)


def _raw(h, srv_type, service, params):
    return h._call(srv_type, h.topic(service), srv_type.Request(parameters=params))


def test_unknown_parameter_types_get_a_reason_everywhere(node):
    bad = [ParameterMsg(name="model", value=ParameterValue(type=42))]
    assert "model must be a string parameter" in _raw(node, SetParametersAtomically, "rgb/nn/deploy", bad).result.reason
    bad = [ParameterMsg(name="rgb.fps", value=ParameterValue(type=42))]
    (result,) = _raw(node, SetParameters, "set_parameters", bad).results
    assert not result.successful and "unknown parameter type 42" in result.reason
    result = _raw(node, SetParametersAtomically, "set_parameters_atomically", bad).result
    assert not result.successful and "unknown parameter type 42" in result.reason
    _alive(node)


@pytest.mark.parametrize("params, reason", [
    ({"rgb.max_fps": float("nan")}, "finite"),
    ({"stereo.depth_limit_m": float("nan")}, "finite"),
    ({"rgb.nn.spatial.depth_max_m": float("inf")}, "finite"),
    ({"rgb.nn.labels": ["x"] * 1001}, "at most 1000 entries"),
    ({"rgb.nn.labels": ["x" * 300]}, "at most 1000 entries of at most 256 characters"),
])
def test_non_finite_and_unbounded_values_are_refused(node, params, reason):
    (result,) = node.set_parameters(**params)
    assert not result.successful and reason in result.reason


@pytest.mark.parametrize("fields, reason", [
    ({"labels": "abcd"}, "labels must be a string array"),
    ({"labels": [f"c{i}" for i in range(2000)]}, "over the limit of 1000"),
    ({"nn_config": '{"type": "MobileNet", "nn_config": {"confidence_threshold": NaN}}'}, "NaN"),
    ({"nn_config": '{"type": "MobileNet", "num_inference_threads": 1e30}'}, "num_inference_threads"),
])
def test_loose_request_fields_are_refused(node, fields, reason):
    if "labels" in fields and isinstance(fields["labels"], str):
        request = [ParameterMsg(name="model", value=ParameterValue(type=ParameterType.PARAMETER_STRING,
                                                                   string_value=str(MODELS / "demo-colour-ssd.onnx"))),
                   ParameterMsg(name="labels", value=ParameterValue(type=ParameterType.PARAMETER_STRING,
                                                                    string_value=fields["labels"]))]
        result = _raw(node, SetParametersAtomically, "rgb/nn/deploy", request).result
    else:
        result = deploy(node, model=str(MODELS / "demo-colour-ssd.onnx"), **fields)
    assert not result.successful and reason in result.reason, result.reason
    assert node.node.get_parameter("rgb.nn.model").value == str(SSD_ARCHIVE)


def test_files_outside_the_allowed_dirs_are_never_read_or_echoed(node, allowed):
    for path in ("/etc/passwd", str(MODELS / ".." / "README.md"), "/etc/../etc/hostname"):
        result = deploy(node, model=path, nn_config='{"type": "Generic"}')
        assert not result.successful and "outside the allowed model directories" in result.reason
        assert "nn.allowed_model_dirs" in result.reason and "root:" not in result.reason
    link = allowed / "escape.onnx"
    link.symlink_to("/etc/passwd")
    result = deploy(node, model=str(link), nn_config='{"type": "Generic"}')
    assert not result.successful and "outside the allowed model directories" in result.reason


def test_archive_contents_are_never_listed_and_replies_stay_short(node, allowed):
    tmp_path = allowed
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for i in range(900):
            info = tarfile.TarInfo(f"home/user/.ssh/id_rsa_{i}")
            info.size = 4
            tar.addfile(info, io.BytesIO(b"KEY!"))
    (tmp_path / "backup.tar").write_bytes(buf.getvalue())
    result = deploy(node, model=str(tmp_path / "backup.tar"))
    assert not result.successful and "id_rsa" not in result.reason and "KEY!" not in result.reason
    assert len(result.reason) <= 1000


def test_a_fifo_is_refused_at_once_and_blocks_nothing(node, allowed):
    tmp_path = allowed
    fifo = tmp_path / "model.onnx"
    os.mkfifo(fifo)
    result = deploy(node, model=str(fifo), nn_config='{"type": "Generic"}')
    assert not result.successful and "not a regular file" in result.reason
    assert deploy(node, stream="left", model=str(SSD_ARCHIVE)).successful


def test_an_archive_bomb_is_refused_within_twice_the_cap_and_lifecycle_services_answer_meanwhile(node, allowed):
    tmp_path = allowed
    bomb = tmp_path / "bomb.tar.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        zeros = bytes(1024 * 1024)
        for i in range(3):
            info = tarfile.TarInfo(f"model{i}.onnx")
            info.size = 100 * 1024 * 1024
            tar.addfile(info, io.BytesIO(zeros * 100))
    assert bomb.stat().st_size < 2 * 1024 * 1024
    before = _reset_peak_rss()
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(result=deploy(node, model=str(bomb))))
    worker.start()
    states = []
    while worker.is_alive() and len(states) < 50:          # the lifecycle service answers during the deploy
        states.append(node._call(GetState, node.topic("get_state"), GetState.Request()).current_state.label)
    worker.join()
    assert states and set(states) == {"active"}
    result = outcome["result"]
    assert not result.successful and "nn.max_model_bytes" in result.reason, result.reason
    assert _peak_rss_mb_since_reset() - before < 2 * CAP_MB
    _alive(node)


def test_inline_bytes_over_their_cap_are_refused_pointing_at_uploads(node):
    result = deploy(node, model_data=b"\x08" + bytes(5 * 1024 * 1024))
    assert not result.successful and "--upload" in result.reason
    _alive(node)


def test_a_params_file_with_infinite_fps_fails_configure_naming_it_and_can_be_fixed(ros):
    h = Harness(**{**FAST_SIM, "rgb.fps": float("inf")})
    try:
        assert not h.transition("configure") and "rgb.fps" in h.node.last_error
        assert h.set_parameters(**{"rgb.fps": 10.0})[0].successful
        assert h.transition("configure") and h.transition("activate")
        wait_until(lambda: h.node.outputs.received["rgb"].count > 2, what="frames after fixing rgb.fps")
    finally:
        h.close()
