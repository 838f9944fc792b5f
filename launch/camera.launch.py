"""Launch the OAK camera node; it configures and activates itself (autostart).

    ros2 launch depthai_ros_bridge camera.launch.py params_file:=/path/to.yaml name:=oak namespace:=robot
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode


def generate_launch_description():
    share = get_package_share_directory("depthai_ros_bridge")
    default_params = os.path.join(share, "config", "sim.yaml")
    demo_model = os.path.join(share, "models", "demo-colour-ssd.tar.xz")
    return LaunchDescription([
        DeclareLaunchArgument("params_file", default_value=default_params,
                              description="Parameter file (see config/: sim.yaml, oak_d.yaml, oak_1.yaml)"),
        DeclareLaunchArgument("name", default_value="oak", description="Node name"),
        DeclareLaunchArgument("namespace", default_value="", description="Node namespace"),
        LifecycleNode(
            package="depthai_ros_bridge", executable="camera_node",
            name=LaunchConfiguration("name"), namespace=LaunchConfiguration("namespace"),
            # sim.yaml names the demo model relative to the source tree; installed, it lives in share/.
            parameters=[LaunchConfiguration("params_file"), {"autostart": True, "rgb.nn.model": demo_model}],
            output="screen",
        ),
    ])
