"""config/rviz/oak.rviz: valid YAML for rviz2, and every topic and frame it names exists on the node it is for."""
from __future__ import annotations

import threading
from pathlib import Path

import rclpy
import yaml
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter

from depthai_ros_bridge.ros.node import CameraNode
from harness import FAST_SIM, wait_until

ROOT = Path(__file__).resolve().parents[3]
RVIZ = ROOT / "config" / "rviz" / "oak.rviz"
TYPES = {"rviz_default_plugins/Image": "sensor_msgs/msg/Image",
         "rviz_default_plugins/PointCloud2": "sensor_msgs/msg/PointCloud2"}


def _displays():
    config = yaml.safe_load(RVIZ.read_text())
    manager = config["Visualization Manager"]
    return manager, manager["Displays"]


def test_rviz_config_is_yaml_with_the_displays_people_need():
    manager, displays = _displays()
    classes = [d["Class"] for d in displays]
    for needed in ("rviz_default_plugins/TF", "rviz_default_plugins/PointCloud2", "rviz_default_plugins/Image"):
        assert needed in classes
    assert all(c.startswith("rviz_default_plugins/") for c in classes)       # nothing that needs a plugin
    assert manager["Global Options"]["Fixed Frame"] == "oak_base_frame"
    names = [d["Name"] for d in displays]
    assert len(set(names)) == len(names)


def test_every_topic_and_frame_it_names_exists_on_the_node(ros):
    _, displays = _displays()
    wanted = {d["Topic"]["Value"]: TYPES[d["Class"]] for d in displays if "Topic" in d}
    assert {"/oak/rgb/nn/overlay", "/oak/stereo/points", "/oak/stereo/image_raw"} <= set(wanted)
    params = {**FAST_SIM, "stereo.align": "rgb", "rgb.nn.model": str(ROOT / "models" / "demo-colour-ssd.tar.xz")}
    node = CameraNode("oak", parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    client = rclpy.create_node("rviz_config_client")
    executor = MultiThreadedExecutor(num_threads=4)
    for n in (node, client):
        executor.add_node(n)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        node.trigger_configure()
        assert node.lifecycle_state == "inactive", node.last_error
        assert node.spec.base_frame == "oak_base_frame"

        def published() -> dict:
            return {name: types[0] for name, types in client.get_topic_names_and_types()}
        wait_until(lambda: set(wanted) <= set(published()), what=f"the node's topics {sorted(wanted)}")
        found = published()
        for topic, msg_type in wanted.items():
            assert found[topic] == msg_type, topic
    finally:
        if node.device is not None:
            node.trigger_shutdown()
        executor.shutdown()
        thread.join(timeout=10.0)
        node.destroy_node()
        client.destroy_node()
