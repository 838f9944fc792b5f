#!/usr/bin/env bash
# Build the ROS 2 interface packages that PyPI lacks (interfaces/vision_msgs,
# interfaces/tf2_msgs, interfaces/ffmpeg_image_transport_msgs) with the rosidl/ament wheels installed in a venv and the
# system CMake + C/C++ compiler, and install them into that venv's own prefix.
#
#   tools/build_interfaces.sh [VENV]        (default: $VIRTUAL_ENV, else ./.venv)
#
# Layout after install (the same layout the ros-* wheels use):
#   VENV/lib/pythonX.Y/site-packages/<pkg>/   Python message classes + C extensions
#   VENV/lib/lib<pkg>__rosidl_*.so             C/C++ generator and typesupport libraries
#   VENV/share/<pkg>/, VENV/include/<pkg>/     CMake config, .msg/.idl/.json, headers
#   VENV/share/ament_index/resource_index/     ament index entries (rclpy/rosidl find
#                                              typesupports through it)
# Build trees live in VENV/ros_ws/build/<pkg>, so deleting the venv removes everything.
#
# It also writes a marked block into VENV/bin/activate (replaced, never duplicated)
# that puts the prefix on AMENT_PREFIX_PATH, CMAKE_PREFIX_PATH and LD_LIBRARY_PATH.
#
# Traps handled here (see also tools/cmake/fix_wheel_include_dirs.cmake):
#  * AMENT_PREFIX_PATH and CMAKE_PREFIX_PATH must name the venv prefix: the
#    rosidl generators and typesupports are discovered through the ament index.
#    They are set to exactly the venv for the build, so a ROS install that happens
#    to be sourced in the calling shell cannot leak into it.
#  * The wheels' exported CMake targets carry the include dirs of the manylinux
#    container that built them (/opt/python/cp3XX-cp3XX/include/python3.X and its
#    numpy include dir). CMake refuses non-existent include dirs of imported
#    targets, so the build re-points them at this Python's and numpy's include
#    dirs via -DCMAKE_PROJECT_INCLUDE=tools/cmake/fix_wheel_include_dirs.cmake.
#    Nothing pip installed is edited, so a reinstall of a wheel cannot undo it.
#  * Python.h must exist (Debian: python3-dev) because rosidl_generator_py
#    compiles a C extension per package.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-${VIRTUAL_ENV:-$REPO_ROOT/.venv}}"
VENV="$(cd "$VENV" && pwd)"
PY="$VENV/bin/python"
PACKAGES=(vision_msgs tf2_msgs ffmpeg_image_transport_msgs)
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

log() { printf '[build_interfaces] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -x "$PY" ] || die "no Python at $PY (create the venv first: make venv)"
command -v cmake >/dev/null || die "cmake not found (apt-get install cmake)"
command -v c++ >/dev/null || command -v g++ >/dev/null || die "no C++ compiler (apt-get install g++)"

# The ros_wheels_bootstrapper .pth re-execs every venv Python once to extend
# LD_LIBRARY_PATH; marking it done keeps these short helper calls cheap.
py() { _ROS_WHEELS_BOOTSTRAP_COMPLETE=1 "$PY" "$@"; }

PY_INCLUDE="$(py -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
[ -f "$PY_INCLUDE/Python.h" ] || die "Python.h not found in $PY_INCLUDE (apt-get install python3-dev)"
NUMPY_INCLUDE="$(py -c 'import numpy; print(numpy.get_include())')" \
  || die "numpy is not installed in $VENV"
py -c 'import rosidl_generator_py, rosidl_adapter, catkin_pkg' 2>/dev/null \
  || die "rosidl build wheels missing in $VENV (pip install -r requirements.txt)"

export AMENT_PREFIX_PATH="$VENV"
export CMAKE_PREFIX_PATH="$VENV"
# Building must not depend on, or be steered by, a ROS environment of the caller.
unset COLCON_PREFIX_PATH ROS_DISTRO ROS_VERSION PYTHONPATH || true

# Configure each package, then build them concurrently (much of a rosidl build is
# single-threaded code generation, so two builds share 2 cores better than one
# build with -j2 after the other), then install.
# CMAKE_BUILD_TYPE defaults to empty (no optimisation): the generated message
# code is small and an optimised build takes ~1.5x as long.
pids=()
for pkg in "${PACKAGES[@]}"; do
  src="$REPO_ROOT/interfaces/$pkg"
  bld="$VENV/ros_ws/build/$pkg"
  [ -f "$src/CMakeLists.txt" ] || die "missing $src/CMakeLists.txt"
  mkdir -p "$bld"
  log "configuring $pkg"
  cmake -S "$src" -B "$bld" \
    -DCMAKE_INSTALL_PREFIX="$VENV" \
    -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-}" \
    -DBUILD_TESTING=OFF \
    -DPython3_EXECUTABLE="$PY" \
    -DPython3_FIND_VIRTUALENV=ONLY \
    -DCMAKE_PROJECT_INCLUDE="$REPO_ROOT/tools/cmake/fix_wheel_include_dirs.cmake" \
    -DDRB_PYTHON_INCLUDE_DIR="$PY_INCLUDE" \
    -DDRB_NUMPY_INCLUDE_DIR="$NUMPY_INCLUDE" \
    >"$bld.configure.log" 2>&1 \
    || { tail -n 40 "$bld.configure.log" >&2; die "configure of $pkg failed (log: $bld.configure.log)"; }
done
for pkg in "${PACKAGES[@]}"; do
  bld="$VENV/ros_ws/build/$pkg"
  log "building $pkg (-j$JOBS)"
  cmake --build "$bld" -j "$JOBS" >"$bld.build.log" 2>&1 &
  pids+=("$!")
done
failed=0
for i in "${!PACKAGES[@]}"; do
  if ! wait "${pids[$i]}"; then
    bld="$VENV/ros_ws/build/${PACKAGES[$i]}"
    tail -n 40 "$bld.build.log" >&2
    log "error: build of ${PACKAGES[$i]} failed (log: $bld.build.log)"
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1
for pkg in "${PACKAGES[@]}"; do
  bld="$VENV/ros_ws/build/$pkg"
  cmake --install "$bld" >"$bld.install.log" 2>&1 \
    || { tail -n 40 "$bld.install.log" >&2; die "install of $pkg failed (log: $bld.install.log)"; }
done

# --- activate hook ----------------------------------------------------------
# Replace (never append a second copy of) the marked block in bin/activate.
py - "$VENV/bin/activate" <<'PYEOF'
import re, sys
path = sys.argv[1]
begin = "# >>> depthai_ros_bridge ROS environment >>>"
end = "# <<< depthai_ros_bridge ROS environment <<<"
block = r'''
# Added by tools/build_interfaces.sh; rewritten (not duplicated) on every build.
# vision_msgs, tf2_msgs and ffmpeg_image_transport_msgs were built from interfaces/ and installed into this
# venv's own prefix, next to the ros-* wheels: Python already finds them on
# sys.path (VENV/lib/pythonX.Y/site-packages). Their C libraries and the ament
# index need the variables below. The previous values come back on `deactivate`
# (bash/zsh).
if [ -z "${_DRB_ROS_ENV:-}" ]; then
    _DRB_ROS_ENV=1
    _DRB_OLD_AMENT_PREFIX_PATH="${AMENT_PREFIX_PATH:-}"
    _DRB_OLD_CMAKE_PREFIX_PATH="${CMAKE_PREFIX_PATH:-}"
    _DRB_OLD_LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"
    export AMENT_PREFIX_PATH="$VIRTUAL_ENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
    export CMAKE_PREFIX_PATH="$VIRTUAL_ENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
    export LD_LIBRARY_PATH="$VIRTUAL_ENV/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    # Keep DDS discovery on loopback and DepthAI telemetry off unless the user
    # chose otherwise (set ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET to reach robots).
    _DRB_SET_RANGE=
    if [ -z "${ROS_AUTOMATIC_DISCOVERY_RANGE:-}" ]; then
        export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
        _DRB_SET_RANGE=1
    fi
    _DRB_SET_TELEMETRY=
    if [ -z "${DEPTHAI_TELEMETRY:-}" ]; then
        export DEPTHAI_TELEMETRY=0
        _DRB_SET_TELEMETRY=1
    fi
fi

_drb_ros_env_off () {
    [ -n "${_DRB_ROS_ENV:-}" ] || return 0
    for _drb_v in AMENT_PREFIX_PATH CMAKE_PREFIX_PATH LD_LIBRARY_PATH; do
        eval "_drb_old=\${_DRB_OLD_${_drb_v}:-}"
        if [ -n "$_drb_old" ]; then
            eval "export ${_drb_v}=\"\$_drb_old\""
        else
            unset "$_drb_v"
        fi
        unset "_DRB_OLD_${_drb_v}"
    done
    [ -z "${_DRB_SET_RANGE:-}" ] || unset ROS_AUTOMATIC_DISCOVERY_RANGE
    [ -z "${_DRB_SET_TELEMETRY:-}" ] || unset DEPTHAI_TELEMETRY
    unset _DRB_ROS_ENV _DRB_SET_RANGE _DRB_SET_TELEMETRY _drb_v _drb_old
}

# Chain our cleanup in front of venv's own deactivate (bash and zsh).
if [ -n "${BASH_VERSION:-}${ZSH_VERSION:-}" ] && typeset -f deactivate >/dev/null 2>&1; then
    eval "$(typeset -f deactivate | sed '1s/^deactivate/_drb_venv_deactivate/')"
    deactivate () {
        _drb_ros_env_off
        _drb_venv_deactivate "$@"
        if [ ! "${1:-}" = "nondestructive" ]; then
            unset -f _drb_venv_deactivate _drb_ros_env_off
        fi
    }
fi
'''
text = open(path).read()
text = re.sub(r"\n?" + re.escape(begin) + r".*?" + re.escape(end) + r"\n?", "\n", text, flags=re.S)
text = text.rstrip("\n") + "\n\n" + begin + block + end + "\n"
open(path, "w").write(text)
PYEOF

# --- smoke check --------------------------------------------------------------
for pkg in "${PACKAGES[@]}"; do
  AMENT_PREFIX_PATH="$VENV" LD_LIBRARY_PATH="$VENV/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$PY" -c "import $pkg.msg" || die "built $pkg does not import"
done
log "installed ${PACKAGES[*]} into $VENV"
