"""Launch one OAK camera node; with autostart (the default) it configures and activates itself.

    ros2 launch depthai_ros_bridge camera.launch.py                        # simulated OAK-D (config/sim.yaml)
    ros2 launch depthai_ros_bridge camera.launch.py params_file:=<share>/config/oak_d.yaml device_id:=<MXID or IP>
    ros2 launch depthai_ros_bridge camera.launch.py name:=oak namespace:=robot autostart:=false log_level:=debug

The params file decides everything it names, network included: the launch file adds only what its
arguments set (autostart always; device.type and device.id when given). sim.yaml names the demo
network as `models/...`, which the node resolves against the package (source tree or share/).
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch_ros.actions import LifecycleNode
from launch_ros.parameter_descriptions import ParameterValue

from launch import LaunchDescription

PACKAGE = "depthai_ros_bridge"
TRUE = ("true", "1", "yes", "on")
DEVICE_TYPES = ("", "auto", "oak", "sim")
LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")


def overrides(device_type: str, device_id: str, autostart: str, tf_prefix: str = "") -> dict:
    """Parameters the launch arguments set on top of the params file; empty arguments leave it alone."""
    if device_type not in DEVICE_TYPES:
        raise ValueError(f"device_type: {device_type!r} is not one of auto, oak, sim")
    params = {"autostart": autostart.strip().lower() in TRUE}
    if device_type:
        params["device.type"] = device_type
    if device_id:
        # a string whatever it looks like: an all-digit MXID must not become an integer
        params["device.id"] = ParameterValue(device_id, value_type=str)
    if tf_prefix:
        params["tf_prefix"] = tf_prefix
    return params


def camera_node(params_file: str, name: str, namespace: str, params: dict, log_level: str) -> LifecycleNode:
    if log_level not in LOG_LEVELS:
        raise ValueError(f"log_level: {log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    return LifecycleNode(
        package=PACKAGE, executable="camera_node", name=name, namespace=namespace,
        parameters=[params_file, params],       # later entries win: only what the arguments set
        ros_arguments=["--log-level", f"{log_level}"],
        output="screen",
    )


def _launch(context):
    arg = context.launch_configurations
    params = overrides(arg["device_type"], arg["device_id"], arg["autostart"])
    return [camera_node(arg["params_file"], arg["name"], arg["namespace"], params, arg["log_level"])]


def arguments(share: str) -> list:
    return [
        DeclareLaunchArgument("params_file", default_value=os.path.join(share, "config", "sim.yaml"),
                              description="Parameter file (share/config/: sim.yaml, oak_d.yaml, oak_1.yaml)"),
        DeclareLaunchArgument("device_type", default_value="",
                              description="auto | oak | sim; empty = the params file's device.type"),
        DeclareLaunchArgument("device_id", default_value="",
                              description="MXID/serial or IP of the OAK; empty = the params file's (first found)"),
        DeclareLaunchArgument("autostart", default_value="true",
                              description="Configure and activate at start-up (false: drive it with ros2 lifecycle)"),
        DeclareLaunchArgument("log_level", default_value="info", description=" | ".join(LOG_LEVELS)),
    ]


def generate_launch_description():
    share = get_package_share_directory(PACKAGE)
    return LaunchDescription(arguments(share) + [
        DeclareLaunchArgument("name", default_value="oak", description="Node name"),
        DeclareLaunchArgument("namespace", default_value="", description="Node namespace"),
        OpaqueFunction(function=_launch),
    ])
