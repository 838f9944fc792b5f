"""What a new user trips over first: two cameras in namespaces, a typo in a params file, labels' type, fps 0 on set."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import Image
from tf2_msgs.msg import TFMessage

from depthai_ros_bridge.core.tf_frames import default_tf_prefix
from depthai_ros_bridge.ros.node import CameraNode
from depthai_ros_bridge.ros.params import unknown_override_warnings
from harness import FAST_SIM, Collector, wait_until

RGB_ONLY = {**FAST_SIM, "left.enabled": False, "right.enabled": False, "stereo.enabled": False}


class Nodes:
    """Camera nodes and a client node on one executor thread."""

    def __init__(self, client_name: str):
        import rclpy
        self.client = rclpy.create_node(client_name)
        self.executor = MultiThreadedExecutor(num_threads=4)
        self.executor.add_node(self.client)
        self.cameras: list[CameraNode] = []
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()

    def camera(self, name="oak", namespace="", **params) -> CameraNode:
        node = CameraNode(name, namespace=namespace,
                          parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
        self.executor.add_node(node)
        self.cameras.append(node)
        return node

    def subscribe(self, topic, msg_type, qos=None) -> Collector:
        qos = qos or QoSProfile(depth=20)
        collector = Collector(keep=200)
        self.client.create_subscription(msg_type, topic, collector, qos)
        return collector

    def close(self):
        for node in self.cameras:
            if node.device is not None:
                node.trigger_shutdown()
        self.executor.shutdown()
        self._thread.join(timeout=10.0)
        for node in self.cameras:
            node.destroy_node()
        self.client.destroy_node()


@pytest.fixture
def nodes(ros, request):
    made = Nodes(f"first_hour_client_{request.node.name.replace('[', '_').replace(']', '')}")
    yield made
    made.close()


def test_default_tf_prefix_is_namespace_and_name():
    assert default_tf_prefix("/cam1/oak") == "cam1_oak"
    assert default_tf_prefix("/oak") == "oak"
    assert default_tf_prefix("/robot/front/oak") == "robot_front_oak"


def test_two_cameras_in_namespaces_publish_their_own_frames_and_diagnostics(nodes):
    latched = QoSProfile(depth=5, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    tf = nodes.subscribe("/tf_static", TFMessage, latched)
    diagnostics = nodes.subscribe("/diagnostics", DiagnosticArray)
    images = {ns: nodes.subscribe(f"/{ns}/oak/rgb/image_raw", Image) for ns in ("cam1", "cam2")}
    cameras = {ns: nodes.camera("oak", ns, **RGB_ONLY) for ns in ("cam1", "cam2")}
    for node in cameras.values():
        node.trigger_configure()
        node.trigger_activate()
        assert node.lifecycle_state == "active"
    for ns, collector in images.items():
        assert collector.wait().header.frame_id == f"{ns}_oak_rgb_camera_optical_frame"
    # /tf_static is latched per publisher: one message from each camera.
    wait_until(lambda: len(tf.messages) >= 2, what="both cameras' static TF")
    by_parent = {m.transforms[0].header.frame_id: {t.child_frame_id for t in m.transforms} for m in tf.messages}
    assert set(by_parent) == {"cam1_oak_base_frame", "cam2_oak_base_frame"}
    assert "cam1_oak_rgb_camera_optical_frame" in by_parent["cam1_oak_base_frame"]
    assert not by_parent["cam1_oak_base_frame"] & by_parent["cam2_oak_base_frame"]

    def names():
        return {s.name for m in diagnostics.messages for s in m.status}
    wait_until(lambda: {"cam1_oak: device", "cam2_oak: device"} <= names(), what="both cameras' diagnostics")
    assert not any(n.startswith("oak:") for n in names())


def test_a_typo_in_a_params_file_is_ignored_with_a_warning_and_configure_works(nodes):
    node = nodes.camera("oak_typo", "", **RGB_ONLY, **{"rgb.fsp": 10.0, "rbg.fps": 5.0})
    warnings = unknown_override_warnings(node)
    assert len(warnings) == 2
    fsp = next(w for w in warnings if w.startswith("rgb.fsp:"))
    assert "ignored" in fsp and "did you mean rgb.fps?" in fsp and "/oak_typo" in fsp
    node.trigger_configure()
    assert node.lifecycle_state == "inactive", node.last_error


def test_labels_are_a_string_array_and_fps_zero_is_refused_when_set(nodes):
    node = nodes.camera("oak_types", "", **RGB_ONLY)
    for stream in ("rgb", "left", "right"):
        assert node.get_parameter(f"{stream}.nn.labels").type_ == Parameter.Type.STRING_ARRAY
    result = node.set_parameters([Parameter("rgb.fps", value=0.0)])[0]
    assert not result.successful and result.reason.startswith("rgb.fps: must be > 0")
    assert node.get_parameter("rgb.fps").value == FAST_SIM["rgb.fps"]
    described = node.describe_parameter("rgb.fps").additional_constraints
    assert "Range: (0.0, inf]" in described
    assert node.set_parameters([Parameter("rgb.fps", value=12.0)])[0].successful


def test_disparity_carries_the_right_cameras_frame_and_colours_span_the_scene(nodes):
    """stereo.align rgb: depth is in the rgb frame, disparity stays in right-camera pixels and says so."""
    from sensor_msgs.msg import CameraInfo
    from stereo_msgs.msg import DisparityImage

    from depthai_ros_bridge.core.colour import colorize_scene
    from harness import image_array, stamp_of
    ns = "/oak_disparity"
    subs = {"disparity": nodes.subscribe(f"{ns}/stereo/disparity", DisparityImage),
            "color": nodes.subscribe(f"{ns}/stereo/disparity_color", Image),
            "right_info": nodes.subscribe(f"{ns}/right/camera_info", CameraInfo),
            "stereo_info": nodes.subscribe(f"{ns}/stereo/camera_info", CameraInfo)}
    node = nodes.camera("oak_disparity", "", **{**FAST_SIM, "stereo.align": "rgb"})
    node.trigger_configure()
    node.trigger_activate()
    right, stereo = subs["right_info"].wait(), subs["stereo_info"].wait()
    assert stereo.header.frame_id == "oak_disparity_rgb_camera_optical_frame"      # depth: aligned to rgb
    disparity = subs["disparity"].wait()
    assert disparity.header.frame_id == right.header.frame_id == "oak_disparity_right_camera_optical_frame"
    assert (disparity.image.width, disparity.image.height) == (right.width, right.height) == (640, 400)
    assert disparity.f == pytest.approx(right.p[0])
    # The colour image of the same frame is the frame's own range through JET: near red, far blue.
    wait_until(lambda: any(stamp_of(c) == stamp_of(d) for c in subs["color"].messages
                           for d in subs["disparity"].messages), what="a disparity and its colour image")
    color, disparity = next((c, d) for c in subs["color"].messages for d in subs["disparity"].messages
                            if stamp_of(c) == stamp_of(d))
    assert color.header.frame_id == disparity.header.frame_id
    units = np.rint(image_array(disparity.image) / disparity.delta_d).astype(np.uint16)
    expected, span = colorize_scene(units)
    got = image_array(color)
    assert span is not None and np.mean(np.abs(got.astype(int) - expected.astype(int)) <= 1) > 0.99
    valid = units > 0
    reds = (got[..., 2] > 200) & (got[..., 0] < 60) & valid
    blues = (got[..., 0] > 120) & (got[..., 2] < 60) & valid
    assert reds.mean() > 0.01 and blues.mean() > 0.01     # the scene spans the map, not one flat blue


def test_the_readmes_yolov5_deploy_with_anchors_works(nodes):
    """README's `oak_nn deploy … demo-colour-yolov5.onnx … anchors …` command, as oak_nn sends it."""
    import re
    import shlex

    from rcl_interfaces.srv import SetParametersAtomically
    from vision_msgs.msg import Detection2DArray

    from depthai_ros_bridge.ros import nn_cli
    root = Path(__file__).resolve().parents[3]
    readme = (root / "README.md").read_text()
    command = re.search(r"^oak_nn deploy rgb models/demo-colour-yolov5\.onnx.*?'\n(?=oak_nn|```)", readme,
                        re.M | re.S).group(0)
    argv = shlex.split(command.replace("\\\n", " "))[1:]
    args = {"labels": argv[argv.index("--labels") + 1:argv.index("--config")],
            "config": argv[argv.index("--config") + 1]}
    node = nodes.camera("oak_yolov5", "", **RGB_ONLY)
    detections = nodes.subscribe("/oak_yolov5/rgb/nn/detections", Detection2DArray)
    node.trigger_configure()
    node.trigger_activate()
    request = nn_cli.deploy_request(str(root / argv[2]), nn_cli.config_text(args["config"]), args["labels"], "")
    client = nodes.client.create_client(SetParametersAtomically, "/oak_yolov5/rgb/nn/deploy")
    assert client.wait_for_service(timeout_sec=30.0)
    done = threading.Event()
    future = client.call_async(request)
    future.add_done_callback(lambda _: done.set())
    assert done.wait(60.0)
    result = future.result().result
    assert result.successful, result.reason
    wait_until(lambda: any({r.results[0].hypothesis.class_id for r in m.detections} >= {"crate", "ball"}
                           for m in detections.messages), what="YOLOv5 detections of the demo scene")
