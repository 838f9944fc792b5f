#!/usr/bin/env bash
# Build depthai_ros_bridge the way ROS users do: a colcon workspace with the
# package under src/, `colcon build`, then check the install layout that
# `ros2 run depthai_ros_bridge camera_node` relies on. Run inside the venv
# (make colcon-check); colcon-common-extensions comes from requirements.txt.
#
#   tools/colcon_check.sh [WORKSPACE]   (default: a fresh temp dir, removed after)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v colcon >/dev/null || { echo "colcon not found: run inside the venv (make colcon-check)" >&2; exit 1; }

if [ $# -ge 1 ]; then
  WS="$1"; mkdir -p "$WS"
else
  WS="$(mktemp -d -t drb-colcon-XXXXXX)"
  trap 'rm -rf "$WS"' EXIT
fi
mkdir -p "$WS/src"
ln -sfn "$REPO_ROOT" "$WS/src/depthai_ros_bridge"
cd "$WS"
# --packages-select: the repo also holds interfaces/*/package.xml, which are
# built by tools/build_interfaces.sh, not here.
colcon --log-base "$WS/log" build --packages-select depthai_ros_bridge \
  --build-base "$WS/build" --install-base "$WS/install" --event-handlers console_cohesion+

inst="$WS/install/depthai_ros_bridge"
fail=0
for f in lib/depthai_ros_bridge/camera_node \
         share/depthai_ros_bridge/package.xml \
         share/ament_index/resource_index/packages/depthai_ros_bridge; do
  if [ -e "$inst/$f" ]; then echo "ok: $f"; else echo "MISSING: $f" >&2; fail=1; fi
done
[ -x "$inst/lib/depthai_ros_bridge/camera_node" ] || { echo "camera_node is not executable" >&2; fail=1; }
exit "$fail"
