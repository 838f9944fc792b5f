"""Launch several OAK camera nodes, one per device id, each in its own namespace and TF prefix.

    ros2 launch depthai_ros_bridge multi_camera.launch.py cameras:=front=1844301011E4F21200,rear=192.168.1.44
    ros2 launch depthai_ros_bridge multi_camera.launch.py cameras:=14442C10D13EABCE00,14442C1071659ED700
    ros2 launch depthai_ros_bridge multi_camera.launch.py cameras:=cam1=,cam2= device_type:=sim \
        params_file:=<share>/config/sim.yaml

`cameras` is a comma-separated list of `namespace=device_id` (or a bare id: namespaces cam1, cam2 ...).
Each node is `/<namespace>/<name>`, opens its own device and publishes TF frames `<namespace>_...`
(`<namespace>_rgb_camera_optical_frame` ...), so the cameras' frames and /diagnostics entries
stay apart; /tf_static and /diagnostics are shared, as TF and diagnostic aggregators expect.
"""
import importlib.util
import re
from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, OpaqueFunction

from launch import LaunchDescription

_ROS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _single():
    """camera.launch.py's helpers (it sits beside this file, in the source tree and installed)."""
    spec = importlib.util.spec_from_file_location("depthai_ros_bridge_camera_launch",
                                                  Path(__file__).with_name("camera.launch.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_cameras(text: str) -> list[tuple[str, str]]:
    """'front=ID1,rear=ID2' or 'ID1,ID2' -> [(namespace, device id), ...]."""
    cameras = []
    for i, item in enumerate((t.strip() for t in text.split(",") if t.strip()), start=1):
        namespace, sep, device_id = item.partition("=")
        if not sep:
            namespace, device_id = f"cam{i}", item
        if not _ROS_NAME.match(namespace):
            raise ValueError(f"cameras: namespace {namespace!r} is not a ROS name (letters, digits, _)")
        cameras.append((namespace, device_id.strip()))
    if not cameras:
        raise ValueError("cameras: give at least one, e.g. cameras:=front=<MXID>,rear=<IP>")
    names = [n for n, _ in cameras]
    if len(set(names)) != len(names):
        raise ValueError(f"cameras: namespaces must differ, got {', '.join(names)}")
    return cameras


def _launch(context):
    single = _single()
    arg = context.launch_configurations
    nodes = []
    for namespace, device_id in parse_cameras(arg["cameras"]):
        params = single.overrides(arg["device_type"], device_id, arg["autostart"], tf_prefix=namespace)
        nodes.append(single.camera_node(arg["params_file"], arg["name"], namespace, params, arg["log_level"]))
    return nodes


def generate_launch_description():
    single = _single()
    share = get_package_share_directory(single.PACKAGE)
    declared = [a for a in single.arguments(share) if a.name not in ("params_file", "device_id")]
    return LaunchDescription([
        DeclareLaunchArgument("cameras", description="namespace=device_id,... (MXID/serial or IP), "
                                                     "or device ids alone (namespaces cam1, cam2 ...)"),
        DeclareLaunchArgument("params_file", default_value=str(Path(share) / "config" / "oak_d.yaml"),
                              description="Parameter file shared by every camera (share/config/)"),
        *declared,
        DeclareLaunchArgument("name", default_value="oak", description="Node name (in each namespace)"),
        OpaqueFunction(function=_launch),
    ])
