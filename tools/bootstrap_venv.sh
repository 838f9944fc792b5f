#!/usr/bin/env bash
# Create or update the development venv (what `make venv` runs).
#
#   tools/bootstrap_venv.sh [VENV]      (default ./.venv; PYTHON=python3 picks the base)
#
# Steps, each skipped when already done (stamps live inside the venv, so deleting
# the venv resets everything):
#   0. system tools: python3 >= 3.11 with venv/ensurepip and headers, cmake, a
#      C/C++ compiler. Missing ones are installed with apt-get (Debian/Ubuntu);
#      on a machine that has them this is a handful of `command -v` checks.
#   1. python3 -m venv VENV
#   2. pip install -r requirements.txt           stamp: hash of requirements.txt
#   3. tools/build_interfaces.sh (vision_msgs, tf2_msgs, ffmpeg_image_transport_msgs into the venv prefix)
#                                                stamp: hash of interfaces/, the
#                                                build script, requirements.txt
#   4. pip install -e . (this package, editable)  stamp: hash of setup.py/setup.cfg/
#                                                package.xml/pyproject.toml
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
VENV="${1:-.venv}"
case "$VENV" in /*) ;; *) VENV="$REPO_ROOT/$VENV" ;; esac
PYTHON="${PYTHON:-python3}"

log() { printf '[venv] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# A long step says it is alive: a line every HEARTBEAT_S seconds while it runs, then how long
# it took. (Measured on 2 cores: all steps ~4.5 min cold, pip ~3 min of it; ~13 s warm.)
HEARTBEAT_S="${HEARTBEAT_S:-20}"
timed() {  # timed "what" command args...
  local what="$1" start=$SECONDS beat rc=0
  shift
  log "$what ..."
  ( while sleep "$HEARTBEAT_S"; do log "  ... $what: still running ($((SECONDS - start)) s)"; done ) &
  beat=$!
  "$@" || rc=$?
  kill "$beat" 2>/dev/null; wait "$beat" 2>/dev/null || true
  [ "$rc" = 0 ] || die "$what failed (exit $rc)"
  log "  $what: done in $((SECONDS - start)) s"
}
# pip without -q, reduced to one line per package it fetches (its progress bars need a terminal).
pip_progress() {
  "$VPY" -m pip install --disable-pip-version-check --progress-bar off "$@" 2>&1 \
    | while IFS= read -r line; do
        case "$line" in
          Collecting*|Installing\ collected*|Successfully\ installed*) log "  pip: ${line:0:110}" ;;
          *ERROR*|*error:*) printf '%s\n' "$line" >&2 ;;
        esac
      done
}

sha_of() {  # sha256 over the names and contents of the given files/dirs
  local f
  {
    for f in "$@"; do
      [ -e "$f" ] || { echo "absent:$f"; continue; }
      find "$f" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z \
        | xargs -0 sha256sum
    done
  } | sha256sum | cut -d' ' -f1
}
stamp_ok() { [ -f "$VENV/$1" ] && [ "$(cat "$VENV/$1")" = "$2" ]; }

# --- 0. system prerequisites ---------------------------------------------------
apt_install() {
  command -v apt-get >/dev/null || die "missing system packages ($*) and no apt-get: install them by hand"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "missing system packages ($*); run as root or install them"
    sudo="sudo"
  fi
  log "installing system packages: $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

need=()
command -v "$PYTHON" >/dev/null || need+=(python3)
command -v cmake >/dev/null || need+=(cmake)
{ command -v c++ >/dev/null || command -v g++ >/dev/null; } || need+=(g++)
{ command -v cc >/dev/null || command -v gcc >/dev/null; } || need+=(gcc)
command -v make >/dev/null || need+=(make)
[ "${#need[@]}" = 0 ] || apt_install "${need[@]}"

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$PYTHON is $("$PYTHON" -V 2>&1); Python >= 3.11 is required"
pyver="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
need=()
# Debian/Ubuntu ship venv's ensurepip separately (python3.X-venv).
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || need+=("python$pyver-venv")
# rosidl_generator_py compiles a C extension per interface package.
"$PYTHON" -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || need+=("python$pyver-dev")
[ "${#need[@]}" = 0 ] || apt_install "${need[@]}"

# --- 1. the venv ---------------------------------------------------------------
if ! "$VENV/bin/python" -c 'pass' 2>/dev/null; then
  [ ! -e "$VENV" ] || { log "$VENV exists but its python does not run: recreating"; rm -rf "$VENV"; }
  log "creating $VENV with $("$PYTHON" -V 2>&1)"
  "$PYTHON" -m venv "$VENV"
fi
VPY="$VENV/bin/python"

# --- 2. requirements -------------------------------------------------------------
req_hash="$(sha_of requirements.txt)"
if ! stamp_ok .drb-requirements.sha256 "$req_hash"; then
  timed "pip install -r requirements.txt (ROS 2 wheels, depthai, onnxruntime, OpenCV; minutes when cold)" \
    pip_progress -r requirements.txt
  echo "$req_hash" >"$VENV/.drb-requirements.sha256"
fi

# --- 3. interface packages PyPI lacks ------------------------------------------------
if_hash="$(sha_of interfaces tools/build_interfaces.sh tools/cmake requirements.txt)"
if ! stamp_ok .drb-interfaces.sha256 "$if_hash" \
   || [ ! -d "$VENV/share/vision_msgs" ] || [ ! -d "$VENV/share/tf2_msgs" ] \
   || [ ! -d "$VENV/share/ffmpeg_image_transport_msgs" ] \
   || ! grep -q '>>> depthai_ros_bridge ROS environment >>>' "$VENV/bin/activate"; then
  timed "building interface packages (vision_msgs, tf2_msgs, ffmpeg_image_transport_msgs; about a minute)" tools/build_interfaces.sh "$VENV"
  echo "$if_hash" >"$VENV/.drb-interfaces.sha256"
fi

# --- 4. this package, editable -------------------------------------------------------
if [ -f setup.py ] || [ -f pyproject.toml ]; then
  pkg_hash="$(sha_of setup.py setup.cfg pyproject.toml package.xml)"
  if ! stamp_ok .drb-editable.sha256 "$pkg_hash"; then
    # No build isolation: setuptools is pinned in requirements.txt, and this
    # keeps the editable install offline and quick.
    timed "pip install -e . (depthai_ros_bridge, editable)" \
      "$VPY" -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
    echo "$pkg_hash" >"$VENV/.drb-editable.sha256"
  fi
else
  log "warning: no setup.py/pyproject.toml yet; skipping the editable install"
fi

log "ready: . $VENV/bin/activate"
