"""Each launch file, loaded against a stand-in for launch/launch_ros: the nodes, their parameters and remappings."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from launch_standin import ROOT, LifecycleNode, effective_parameters, load

from depthai_ros_bridge.core.package_paths import resolve_package_path
from depthai_ros_bridge.core.spec import parse_spec

CAMERA = ROOT / "launch" / "camera.launch.py"
MULTI = ROOT / "launch" / "multi_camera.launch.py"
CONFIG = ROOT / "config"


def _only(nodes):
    assert len(nodes) == 1
    return nodes[0]


def test_camera_defaults_start_the_simulator_preset_with_its_demo_network(tmp_path, monkeypatch):
    node = _only(load(CAMERA))
    assert isinstance(node, LifecycleNode)
    assert (node.package, node.executable, node.fully_qualified_name) == ("depthai_ros_bridge", "camera_node", "/oak")
    assert node.parameters[0] == str(CONFIG / "sim.yaml")
    assert node.remappings == []       # /tf_static and /diagnostics stay global, as TF and aggregators expect
    assert node.ros_arguments == ["--log-level", "info"]
    values = effective_parameters(node)
    assert values["autostart"] is True and values["device.type"] == "sim"
    # The params file's own relative name, resolved by the node against the package from any directory.
    assert values["rgb.nn.model"] == "models/demo-colour-ssd.tar.xz"
    monkeypatch.chdir(tmp_path)
    assert Path(resolve_package_path(values["rgb.nn.model"])).samefile(ROOT / "models" / "demo-colour-ssd.tar.xz")
    spec = parse_spec(values, "oak")
    assert spec.device.type == "sim"


def test_a_params_file_keeps_its_own_network_or_none(tmp_path):
    values = effective_parameters(_only(load(CAMERA, params_file=str(CONFIG / "oak_d.yaml"))))
    assert values.get("rgb.nn.model", "") == ""            # no demo ONNX forced onto a real OAK
    assert values["device.type"] in ("auto", "oak")          # a real device, whatever the preset picks
    parse_spec(values, "oak")
    own = tmp_path / "mine.yaml"
    own.write_text("/**:\n  ros__parameters:\n    rgb:\n      nn: {model: /opt/nets/yolo.tar.xz}\n")
    assert effective_parameters(_only(load(CAMERA, params_file=str(own))))["rgb.nn.model"] == "/opt/nets/yolo.tar.xz"


def test_camera_arguments_override_only_what_they_set():
    node = _only(load(CAMERA, params_file=str(CONFIG / "oak_d.yaml"), device_type="oak",
                      device_id="1844301011E4F21200", autostart="false", log_level="debug",
                      name="front_oak", namespace="robot"))
    values = effective_parameters(node)
    assert node.fully_qualified_name == "/robot/front_oak"
    assert values["device.type"] == "oak"
    assert values["device.id"] == "1844301011E4F21200"       # an all-digit MXID stays a string
    assert values["autostart"] is False
    assert node.ros_arguments == ["--log-level", "debug"]
    assert "tf_prefix" not in values                         # default: derived from the node's name
    assert parse_spec(values, "robot_front_oak").device.id == "1844301011E4F21200"


@pytest.mark.parametrize("argument", [{"device_type": "usb"}, {"log_level": "loud"}])
def test_camera_refuses_bad_arguments_naming_them(argument):
    name = next(iter(argument))
    with pytest.raises(ValueError, match=name):
        load(CAMERA, **argument)


def test_multi_camera_one_node_per_id_in_its_own_namespace_and_tf_prefix():
    nodes = load(MULTI, cameras="front=1844301011E4F21200, rear=192.168.1.44")
    assert [n.fully_qualified_name for n in nodes] == ["/front/oak", "/rear/oak"]
    assert all(isinstance(n, LifecycleNode) and n.remappings == [] for n in nodes)
    front, rear = (effective_parameters(n) for n in nodes)
    assert (front["device.id"], rear["device.id"]) == ("1844301011E4F21200", "192.168.1.44")
    assert (front["tf_prefix"], rear["tf_prefix"]) == ("front", "rear")
    assert nodes[0].parameters[0] == str(CONFIG / "oak_d.yaml")
    specs = [parse_spec(v, "oak") for v in (front, rear)]
    assert specs[0].optical_frame("rgb") == "front_rgb_camera_optical_frame"
    assert specs[1].base_frame == "rear_base_frame"


def test_multi_camera_bare_ids_and_simulated_cameras():
    nodes = load(MULTI, cameras="14442C10D13EABCE00,14442C1071659ED700")
    assert [n.namespace for n in nodes] == ["cam1", "cam2"]
    sims = load(MULTI, cameras="a=,b=", device_type="sim", params_file=str(CONFIG / "sim.yaml"))
    for node, prefix in zip(sims, ("a", "b")):
        values = effective_parameters(node)
        assert values["device.type"] == "sim" and values["tf_prefix"] == prefix and "device.id" not in values


@pytest.mark.parametrize("cameras, problem", [("", "at least one"), ("a=1,a=2", "must differ"),
                                              ("front-left=1", "not a ROS name")])
def test_multi_camera_refuses_bad_camera_lists(cameras, problem):
    with pytest.raises(ValueError, match=problem):
        load(MULTI, cameras=cameras)


def test_multi_camera_needs_the_cameras_argument():
    with pytest.raises(RuntimeError, match="cameras"):
        load(MULTI)


@pytest.mark.skipif(importlib.util.find_spec("launch_ros") is None, reason="launch_ros is not installed here")
def test_real_launch_loads_both_files():   # pragma: no cover - only where ROS launch is installed
    from launch.actions import DeclareLaunchArgument
    for path, required in ((CAMERA, set()), (MULTI, {"cameras"})):
        spec = importlib.util.spec_from_file_location(path.stem.replace(".", "_"), path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        names = {e.name for e in module.generate_launch_description().entities
                 if isinstance(e, DeclareLaunchArgument)}
        assert {"params_file", "device_type", "autostart", "log_level"} | required <= names
