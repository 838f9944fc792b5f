"""Deploying and removing networks through the node's real services, against the simulator's truth."""
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from rcl_interfaces.srv import SetParametersAtomically
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import Image
from std_msgs.msg import Float32MultiArray
from std_srvs.srv import Trigger
from vision_msgs.msg import Detection2DArray, Detection3DArray, LabelInfo

from depthai_ros_bridge.core.overlay import class_colour
from harness import FAST_SIM, Harness, wait_until

MODELS = Path(__file__).resolve().parents[3] / "models"
SSD_ARCHIVE = MODELS / "demo-colour-ssd.tar.xz"
YOLO_ONNX = MODELS / "demo-colour-yolov6r2.onnx"
LABELS = ["crate", "ball", "barrel", "cone"]
YOLO_CONFIG = json.dumps({"type": "YOLO", "nn_config": {"num_classes": 4, "iou_threshold": 0.5,
                                                        "confidence_threshold": 0.5}})
LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def deploy(h, stream="rgb", **fields):
    params = [Parameter(k, Parameter.Type.BYTE_ARRAY, [bytes([b]) for b in v]) if k == "model_data"
              else Parameter(k, value=v) for k, v in fields.items()]
    request = SetParametersAtomically.Request(parameters=[p.to_parameter_msg() for p in params])
    return h._call(SetParametersAtomically, h.topic(f"{stream}/nn/deploy"), request).result


def remove(h, stream="rgb"):
    return h._call(Trigger, h.topic(f"{stream}/nn/remove"), Trigger.Request())


def _iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _box(det):
    c, sx, sy = det.bbox.center.position, det.bbox.size_x, det.bbox.size_y
    return (c.x - sx / 2, c.y - sy / 2, c.x + sx / 2, c.y + sy / 2)


def _publisher_count(h, topic):
    return len(h.client.get_publishers_info_by_topic(h.topic(topic)))


@pytest.fixture(scope="module")
def active(ros):
    # The bad-model cases live in pytest's temporary directories: allowed here, next to models/.
    h = Harness(**{**FAST_SIM, "stereo.align": "rgb",
                   "nn.allowed_model_dirs": [str(MODELS), tempfile.gettempdir()]})
    assert h.transition("configure") and h.transition("activate")
    yield h
    h.close()


def test_archive_detects_every_object_with_boxes_classes_and_positions_from_truth(active):
    h = active
    result = deploy(h, model=str(SSD_ARCHIVE))
    assert result.successful and "streams kept running" in result.reason, result.reason
    dets = h.subscribe("rgb/nn/detections", Detection2DArray)
    spatial = h.subscribe("rgb/nn/spatial_detections", Detection3DArray)
    labels = h.subscribe("rgb/nn/label_info", LabelInfo, LATCHED)
    images = h.subscribe("rgb/image_raw", Image)
    msg, msg3d = dets.wait(), spatial.wait()
    device = h.node.device
    truth = device.renderer.render(device.rig.rgb, 0.0)                    # static scene
    assert [c.class_name for c in labels.wait().class_map] == LABELS
    assert msg.header.frame_id == f"{h.name}_rgb_camera_optical_frame"
    images.wait()
    wait_until(lambda: any(i.header.stamp == msg.header.stamp for i in images.messages), what="the source frame")

    found = 0
    for obj, gt in zip(truth.objects, truth.boxes):
        matches = [d for d in msg.detections if d.results[0].hypothesis.class_id == obj.label]
        if not matches:
            continue
        found += 1
        assert _iou(_box(matches[0]), (gt.x0, gt.y0, gt.x1, gt.y1)) >= 0.5
        assert matches[0].results[0].hypothesis.score > 0.5
    assert found / len(truth.objects) >= 0.9

    for det in msg3d.detections:
        obj = next(o for o in truth.objects if o.label == det.results[0].hypothesis.class_id)
        gt = truth.boxes[obj.index]
        # truth: the depth of the object's own pixels in the central half of its box
        cx, cy, hw, hh = (gt.x0 + gt.x1) / 2, (gt.y0 + gt.y1) / 2, (gt.x1 - gt.x0) / 4, (gt.y1 - gt.y0) / 4
        region = np.s_[int(cy - hh):int(cy + hh), int(cx - hw):int(cx + hw)]
        true_z = np.median(truth.depth[region][truth.mask[region] == obj.index])
        p = det.bbox.center.position
        assert abs(p.z - true_z) < 0.03 * true_z, (obj.label, p.z, true_z)
        assert 1.0 < p.z < 4.5
        centre = device.rig.rgb.to_camera(obj.centre)
        assert np.linalg.norm([p.x - centre[0], p.y - centre[1]]) < max(obj.size)   # metres, not pixels
        assert 0.05 < det.bbox.size.x < 1.0 and 0.05 < det.bbox.size.y < 1.0
    assert len(msg3d.detections) == len(msg.detections)
    assert h.node.get_parameter("rgb.nn.model").value == str(SSD_ARCHIVE)
    assert h.node.get_parameter("rgb.nn.labels").value == LABELS


def test_overlay_is_drawn_only_for_a_subscriber(active):
    h = active
    assert deploy(h, model=str(SSD_ARCHIVE)).successful
    overlay = h.subscribe("rgb/nn/overlay", Image)
    msg = overlay.wait()
    assert (msg.encoding, msg.width, msg.height) == ("bgr8", 1280, 720)
    pixels = np.frombuffer(bytes(msg.data), np.uint8).reshape(720, 1280, 3)
    drawn = sum(((pixels == class_colour(label)).all(axis=2)).sum() for label in LABELS)
    assert drawn > 500      # the boxes and tags, in their classes' colours


def test_remove_stops_detections_keeps_images_then_another_format_deploys(active):
    h = active
    assert deploy(h, model=str(SSD_ARCHIVE)).successful
    response = remove(h)
    assert response.success, response.message
    assert _publisher_count(h, "rgb/nn/detections") == 0
    images = h.subscribe("rgb/image_raw", Image)
    images.wait(count=images.count + 2)
    again = remove(h)
    assert not again.success and "no network" in again.message
    result = deploy(h, model=str(YOLO_ONNX), nn_config=YOLO_CONFIG, labels=LABELS)
    assert result.successful, result.reason
    dets = h.subscribe("rgb/nn/detections", Detection2DArray)
    dets.wait(count=dets.count + 1)
    assert {d.results[0].hypothesis.class_id for d in dets.messages[-1].detections} == set(LABELS)


def test_model_data_deploys_from_bytes(active):
    h = active
    result = deploy(h, model_data=SSD_ARCHIVE.read_bytes())
    assert result.successful, result.reason
    shown = h.node.get_parameter("rgb.nn.model").value
    assert "/.cache/depthai_ros_bridge/models/" in shown and shown.endswith(".tar.xz")


def test_generic_network_publishes_its_tensors_with_labelled_dims(active):
    h = active
    assert deploy(h, stream="left", model=str(MODELS / "demo-colour-ssd.onnx"),
                  nn_config=json.dumps({"type": "Generic"})).successful
    tensors = h.subscribe("left/nn/tensors", Float32MultiArray)
    msg = tensors.wait()
    assert [d.label for d in msg.layout.dim] == [f"detection_out/{a}" for a in "NCHW"]
    assert [d.size for d in msg.layout.dim] == [1, 1, 100, 7] and len(msg.data) == 700
    assert remove(h, "left").success


def _flowing(h, topic, msg_type):
    collector = h.subscribe(topic, msg_type)
    collector.wait(count=collector.count + 2)


def _bad_models(tmp: Path) -> dict:
    import io
    import tarfile

    def tar(members: dict, name: str) -> Path:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            for member, data in members.items():
                info = tarfile.TarInfo(member)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        (tmp / name).write_bytes(buf.getvalue())
        return tmp / name

    (tmp / "empty.onnx").write_bytes(b"")
    (tmp / "unreadable.onnx").write_bytes(YOLO_ONNX.read_bytes())
    os.chmod(tmp / "unreadable.onnx", 0)
    (tmp / "model.txt").write_text("hello")
    (tmp / "fake.onnx").write_bytes(b"\xfd7zXZ\x00 not onnx")
    (tmp / "truncated.tar.xz").write_bytes(SSD_ARCHIVE.read_bytes()[:200])
    (tmp / "model.blob").write_bytes(b"\x00" * 64)
    return {
        "missing file": {"model": str(tmp / "nope.onnx"), "nn_config": YOLO_CONFIG},
        "unreadable file": {"model": str(tmp / "unreadable.onnx"), "nn_config": YOLO_CONFIG},
        "empty file": {"model": str(tmp / "empty.onnx"), "nn_config": YOLO_CONFIG},
        "wrong extension": {"model": str(tmp / "model.txt"), "nn_config": YOLO_CONFIG},
        "wrong magic": {"model": str(tmp / "fake.onnx"), "nn_config": YOLO_CONFIG},
        "truncated archive": {"model": str(tmp / "truncated.tar.xz")},
        "path traversal": {"model": str(tar({"../evil.json": b"{}", "config.json": b"{}"}, "trav.tar"))},
        "invalid config.json": {"model": str(tar({"config.json": b"{not json"}, "badcfg.tar"))},
        "config.json not an archive config": {"model": str(tar({"config.json": b"{}"}, "nocfg.tar"))},
        "nn_config not JSON": {"model": str(YOLO_ONNX), "nn_config": "{type: YOLO"},
        "unknown type": {"model": str(YOLO_ONNX), "nn_config": json.dumps({"type": "SSD"})},
        "YOLO without num_classes": {"model": str(YOLO_ONNX), "nn_config": json.dumps({"type": "YOLO"})},
        "anchors wrong length": {"model": str(YOLO_ONNX), "nn_config": json.dumps(
            {"type": "YOLO", "nn_config": {"num_classes": 4, "anchors": [10, 13, 16]}})},
        "threshold above 1": {"model": str(YOLO_ONNX), "nn_config": json.dumps(
            {"type": "YOLO", "nn_config": {"num_classes": 4, "iou_threshold": 1.5}})},
        "negative threads": {"model": str(YOLO_ONNX), "nn_config": json.dumps(
            {"type": "YOLO", "num_inference_threads": -1, "nn_config": {"num_classes": 4}})},
        "outputs don't match type": {"model": str(MODELS / "demo-colour-ssd.onnx"), "nn_config": json.dumps(
            {"type": "YOLO", "nn_config": {"num_classes": 4}})},
        ".blob on the simulator": {"model": str(tmp / "model.blob"), "nn_config": YOLO_CONFIG},
        "model and model_data": {"model": str(YOLO_ONNX), "model_data": b"\x08\x01", "nn_config": YOLO_CONFIG},
        "neither model nor model_data": {"nn_config": YOLO_CONFIG},
    }


REASONS = {"missing file": "does not exist", "unreadable file": "cannot be opened", "empty file": "is empty",
           "wrong extension": "unsupported file type", "wrong magic": "the content is not one",
           "truncated archive": "truncated", "path traversal": "outside the archive",
           "invalid config.json": "config.json is not valid JSON", "config.json not an archive config": "config.json",
           "nn_config not JSON": "not valid JSON", "unknown type": "nn_config.type",
           "YOLO without num_classes": "num_classes is required", "anchors wrong length": "anchors",
           "threshold above 1": "iou_threshold must be in [0, 1]",
           "negative threads": "num_inference_threads must be an integer in [1, 8]",
           "outputs don't match type": "YOLO", ".blob on the simulator": "runs ONNX models",
           "model and model_data": "not both", "neither model nor model_data": "no model"}


def test_every_bad_deploy_is_refused_with_its_reason_and_changes_nothing(active, tmp_path):
    h = active
    assert deploy(h, model=str(SSD_ARCHIVE)).successful
    running = h.node.get_parameter("rgb.nn.model").value
    bad = _bad_models(tmp_path)
    if os.geteuid() == 0:      # root reads any file: an unreadable one can't be made
        bad.pop("unreadable file")
    for case, fields in bad.items():
        result = deploy(h, **fields)
        assert not result.successful, case
        assert REASONS[case] in result.reason, (case, result.reason)
        assert h.node.get_parameter("rgb.nn.model").value == running, case
    _flowing(h, "rgb/nn/detections", Detection2DArray)
    _flowing(h, "left/image_raw", Image)


def test_oversized_archive_member_is_refused_before_it_is_read(active, tmp_path):
    import tarfile
    header = tarfile.TarInfo("model.onnx")
    header.size = 300 * 1024 * 1024            # claimed in the header; the data is never read
    (tmp_path / "huge.tar").write_bytes(header.tobuf())
    result = deploy(active, model=str(tmp_path / "huge.tar"))
    assert not result.successful and "nn.max_model_bytes" in result.reason, result.reason


def test_a_disabled_stream_refuses_deploys_naming_its_parameter(ros):
    h = Harness(**{**FAST_SIM, "left.enabled": False, "right.enabled": False, "stereo.enabled": False})
    try:
        result = deploy(h, model=str(SSD_ARCHIVE))          # services answer in every state
        assert not result.successful and "node is unconfigured" in result.reason and "configure" in result.reason
        assert h.transition("configure")
        result = deploy(h, stream="left", model=str(SSD_ARCHIVE))
        assert not result.successful and "left.enabled is false" in result.reason
        assert deploy(h, model=str(SSD_ARCHIVE)).successful
        services = {name for name, _ in h.node.get_service_names_and_types_by_node(h.name, "/")}
        assert h.topic("depth/nn/deploy") not in services
    finally:
        h.close()


def test_concurrent_deploys_on_one_stream_are_serialised(active):
    h = active
    results = [None] * 4
    models = [str(SSD_ARCHIVE), str(MODELS / "demo-colour-yolov5.tar.xz")] * 2

    def call(i):
        results[i] = deploy(h, model=models[i])
    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.successful for r in results), [r.reason for r in results]
    assert h.node.get_parameter("rgb.nn.model").value in models
    _flowing(h, "rgb/nn/detections", Detection2DArray)


def test_network_given_by_parameters_is_deployed_at_configure(ros):
    h = Harness(**{**FAST_SIM, "rgb.nn.model": str(YOLO_ONNX), "rgb.nn.config": YOLO_CONFIG,
                   "rgb.nn.labels": LABELS})
    try:
        assert h.transition("configure") and h.transition("activate")
        msg = h.subscribe("rgb/nn/detections", Detection2DArray).wait()
        assert {d.results[0].hypothesis.class_id for d in msg.detections} == set(LABELS)
    finally:
        h.close()


def test_bad_network_parameter_fails_configure_naming_it(ros):
    h = Harness(**{**FAST_SIM, "rgb.nn.model": str(MODELS / "nonexistent.onnx"), "rgb.nn.config": YOLO_CONFIG})
    try:
        assert not h.transition("configure")
        assert "rgb.nn.model" in h.node.last_error and "does not exist" in h.node.last_error
    finally:
        h.close()


def test_cli_deploys_and_removes(active):
    h = active
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "depthai_ros_bridge.ros.nn_cli", "--node", f"/{h.name}"]
    out = subprocess.run(cmd + ["deploy", "right", str(SSD_ARCHIVE)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and "deployed" in out.stdout, out.stdout + out.stderr
    status = subprocess.run(cmd + ["status"], env=env, capture_output=True, text=True, timeout=120)
    assert f"right: {SSD_ARCHIVE}" in status.stdout
    out = subprocess.run(cmd + ["remove", "right"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    out = subprocess.run(cmd + ["remove", "right"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "no network" in out.stdout


def test_tracker_gives_each_moving_object_a_stable_id_and_status(ros):
    h = Harness(**{**FAST_SIM, "sim.motion_speed": 1.0, "rgb.nn.tracker.enabled": True,
                   "rgb.nn.model": str(SSD_ARCHIVE)})
    try:
        tracks = h.subscribe("rgb/nn/tracks", Detection2DArray)
        assert h.transition("configure") and h.transition("activate")
        tracks.wait(count=8)
        history = {}
        for msg in list(tracks.messages):
            for det in msg.detections:
                label, status = det.results[0].hypothesis.class_id, det.results[1].hypothesis.class_id
                history.setdefault(label, []).append((det.id, status))
        assert set(history) == set(LABELS)
        for label, seen in history.items():
            assert len({track_id for track_id, _ in seen}) == 1, (label, seen)    # one id per object
            assert seen[-1][1] == "status:TRACKED", (label, seen)
    finally:
        h.close()
