from glob import glob

from setuptools import find_packages, setup

package_name = "depthai_ros_bridge"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(include=[package_name, f"{package_name}.*"]),
    package_data={f"{package_name}.ros": ["fastdds_large_frames.xml"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{package_name}"]),
        (f"share/{package_name}", ["package.xml"]),
        (f"share/{package_name}/launch", glob("launch/*.py")),
        (f"share/{package_name}/config", glob("config/*.yaml")),
        (f"share/{package_name}/config/rviz", glob("config/rviz/*.rviz")),
        (f"share/{package_name}/models", glob("models/*.onnx") + glob("models/*.tar.xz")),
    ],
    install_requires=["setuptools"],
    zip_safe=False,     # the Fast DDS profile is read from the package directory
    maintainer="depthai_ros_bridge developers",
    maintainer_email="dev@depthai-ros-bridge.org",
    description="ROS 2 lifecycle node for Luxonis OAK cameras, with a simulated OAK-D.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={
        "console_scripts": [
            "camera_node = depthai_ros_bridge.ros.main:main",
            "oak_nn = depthai_ros_bridge.ros.nn_cli:main",
            "oak_snapshot = depthai_ros_bridge.ros.snapshot:main",
            "oak_dry_run = depthai_ros_bridge.dry_run:main",
        ],
    },
)
