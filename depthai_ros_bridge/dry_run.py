"""Check a configuration against an OAK without the OAK: what the node would build and publish.

    python -m depthai_ros_bridge.dry_run --params-file FILE [-p name:=value ...] \\
        --calibration CALIB.json --cameras CAMERAS.json [--link usb3|usb2|poe]

prints JSON on stdout: `pipeline` (DepthAI nodes, settings, links), `topics` (each image topic's
frame_id and camera_info), `tf` (static transforms), `bandwidth_mbps` (estimated raw frame load,
megabytes per second) -- or exits with status 2 and the configure error the node would give on
stderr. It runs the node's own code (device/oak: plan, calibration, graph; core/camera_info:
CameraInfo and TF values), not a copy. ROS-free: no rclpy, no message packages.

CALIB.json: `dai.Device().readCalibration().eepromToJsonFile("calib.json")`.
CAMERAS.json: the list `Device.getConnectedCameraFeatures()` reports (see README, "Real OAK").
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

import yaml

from .core.camera_info import static_transforms, stream_camera_info
from .core.spec import CAMERA_STREAMS, ConfigError, PipelineSpec, parse_spec

MAX_FILE_BYTES = 4 * 1024 * 1024     # an EEPROM JSON is ~20 kB; a params file a few kB
MAX_CAMERAS = 16
LINKS = ("usb3", "usb2", "poe")


class DryRunError(Exception):
    """What the node would refuse (or what is wrong with the inputs): printed, exit status 2."""


def _read(path: str, what: str) -> str:
    p = Path(path)
    if not p.is_file():
        raise DryRunError(f"{what} {path!r} is not a readable file")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise DryRunError(f"{what} {path!r} is over {MAX_FILE_BYTES} bytes")
    return p.read_text(encoding="utf-8")


def flatten(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def load_parameters(params_file: str | None, overrides: list[str], node_name: str) -> dict:
    """A ROS 2 parameters file's values for `node_name` ("/**" first, then the node's own section),
    then each -p name:=value (value read as YAML, as `ros2 run ... -p` does)."""
    values: dict = {}
    if params_file:
        try:
            doc = yaml.safe_load(_read(params_file, "--params-file")) or {}
        except yaml.YAMLError as e:
            raise DryRunError(f"--params-file {params_file!r} is not YAML: {e}") from None
        if not isinstance(doc, dict):
            raise DryRunError(f"--params-file {params_file!r}: expected '<node>: {{ros__parameters: ...}}'")
        for section in ("/**", node_name, f"/{node_name}"):
            params = (doc.get(section) or {}).get("ros__parameters") if isinstance(doc.get(section), dict) else None
            if isinstance(params, dict):
                values.update(flatten(params))
    for item in overrides:
        name, sep, text = item.partition(":=")
        if not sep or not name:
            raise DryRunError(f"-p {item!r}: expected name:=value")
        try:
            values[name] = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise DryRunError(f"-p {item!r}: the value is not YAML: {e}") from None
    return values


def load_cameras(path: str):
    from .device.oak.sensors import ConnectedCamera
    try:
        entries = json.loads(_read(path, "--cameras"))
    except json.JSONDecodeError as e:
        raise DryRunError(f"--cameras {path!r} is not JSON: {e}") from None
    if not isinstance(entries, list) or not 0 < len(entries) <= MAX_CAMERAS:
        raise DryRunError(f"--cameras {path!r}: expected a list of 1..{MAX_CAMERAS} camera objects")
    try:
        cameras = [ConnectedCamera.from_json(e, i) for i, e in enumerate(entries)]
    except ValueError as e:
        raise DryRunError(f"--cameras {path!r}: {e}") from None
    sockets = [c.socket for c in cameras]
    if len(set(sockets)) != len(sockets):
        raise DryRunError(f"--cameras {path!r}: a socket is listed twice ({', '.join(sockets)})")
    return cameras


def load_calibration(path: str):
    import depthai as dai
    try:
        json.loads(_read(path, "--calibration"))
    except json.JSONDecodeError as e:
        raise DryRunError(f"--calibration {path!r} is not JSON: {e}") from None
    try:
        return dai.CalibrationHandler(str(path))
    except Exception as e:  # noqa: BLE001 - depthai raises plain RuntimeErrors
        raise DryRunError(f"--calibration {path!r} is not a depthai calibration (eepromToJsonFile): {e}") from None


def topics(spec: PipelineSpec, cameras: dict, baseline_m: float | None) -> dict:
    """Each image topic: its frame_id and camera_info, as the node publishes them."""
    out = {}
    for stream in CAMERA_STREAMS + ("stereo",):
        if spec.enabled(stream):
            out[f"~/{stream}/image_raw"] = {"frame_id": spec.optical_frame(stream),
                                            "camera_info": stream_camera_info(stream, cameras, baseline_m).as_dict()}
    return out


def dry_run(values: dict, calibration_path: str, cameras_path: str, link: str | None = None,
            node_name: str = "oak", imu_model: str = "NONE") -> dict:
    """What the node would build and publish; DryRunError with the configure error it would give.
    `imu_model`: what the device's getConnectedIMU() reports (BMI270, BNO086, NONE)."""
    from .core.imu import covariances, imu_transform
    from .device.base import DeviceError
    from .device.oak.calibration import camera_models, stereo_geometry
    from .device.oak.controls import OakControlRules
    from .device.oak.graph import Graph, build_pipeline
    from .device.oak.imu import check_imu, imu_info
    from .device.oak.networks import startup_networks
    from .device.oak.plan import plan_pipeline
    from .device.oak.sensors import LINK_MBPS, link_kind

    try:
        spec = parse_spec(values, node_name)
    except ConfigError as e:       # the node's words (ros/node.py on_configure)
        raise DryRunError(f"configure failed: invalid parameters: {e}") from None
    connected = load_cameras(cameras_path)
    calib = load_calibration(calibration_path)
    try:
        plan = plan_pipeline(spec, connected)
        cameras = camera_models(calib, spec, plan)
        stereo = stereo_geometry(calib, spec, cameras) if spec.enabled("stereo") else None
        model = check_imu(spec, imu_model)
        imu, imu_warning = imu_info(calib, spec, model) if model is not None else (None, None)
        # Focus settings on a fixed-focus colour lens (CAMERAS.json "autofocus"); IR is not known here.
        rgb = next((c for c in connected if c.socket == "CAM_A"), None)
        rules = OakControlRules("device", True, rgb.sensor if rgb else None, bool(rgb and rgb.autofocus),
                                spec.enabled("stereo"))
        refused = rules.configure_problems(spec.controls, spec.ir)
        if refused:
            raise DeviceError("; ".join(f"{k}: {v}" for k, v in refused.items()))
    except DeviceError as e:
        raise DryRunError(f"configure failed: {e}") from None
    with tempfile.TemporaryDirectory(prefix="oak-dry-run-") as workdir:
        networks, problems = startup_networks(spec, plan, Path(workdir))
        if problems:
            param, why = next(iter(problems.items()))
            raise DryRunError(f"configure failed: {param}: {why}")
        graph = Graph(rgb_autofocus=bool(rgb and rgb.autofocus))
        build_pipeline(None, plan, spec.stereo, spec.stereo.confidence_threshold, networks, graph, spec, imu=imu)
    link = link or link_kind(spec)
    mbps, warning = plan.bandwidth(link)
    published = topics(spec, cameras, stereo.baseline_m if stereo else None)
    tf = [t.as_dict() for t in static_transforms(spec, cameras)]
    if imu is not None:
        accel_var, gyro_var = covariances(imu.noise, imu.rate_hz)
        published["~/imu/data"] = {"frame_id": spec.imu_frame, "model": imu.model, "rate_hz": imu.rate_hz,
                                   "linear_acceleration_variance": accel_var, "angular_velocity_variance": gyro_var}
        tf.append(imu_transform(spec.base_frame, spec.imu_frame, imu).as_dict())
    return {
        "device": {"cameras": [c.as_dict() for c in connected], "link": link, "link_mbps": LINK_MBPS[link]},
        "pipeline": graph.describe(),
        "topics": published,
        "tf": tf,
        "stereo": None if stereo is None else {"focal_px": stereo.focal_px, "baseline_m": stereo.baseline_m,
                                               "max_disparity": stereo.max_disparity},
        "bandwidth_mbps": round(mbps, 1),
        "warnings": [w for w in (warning, imu_warning) if w],
    }


@contextlib.contextmanager
def _json_stdout():
    """A stream for the JSON only: depthai's C++ logger writes its warnings (e.g. "USB protocol
    not available") to file descriptor 1, so while the dry run works fd 1 goes to stderr and
    the JSON to a copy of the real stdout. A replaced sys.stdout (a test's capture) is used as is."""
    if sys.stdout is not sys.__stdout__:
        yield sys.stdout
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with os.fdopen(os.dup(saved), "w") as out:
            yield out
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oak_dry_run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--params-file", help="ROS 2 parameters YAML, as given to the node")
    parser.add_argument("-p", dest="overrides", action="append", default=[], metavar="NAME:=VALUE",
                        help="a parameter over the file's (repeatable)")
    parser.add_argument("--calibration", required=True, help="the device's calibration (eepromToJsonFile)")
    parser.add_argument("--cameras", required=True, help="the device's connected cameras (JSON list)")
    parser.add_argument("--link", choices=LINKS, help="the link to estimate for (default: poe if device.id is an "
                                                      "IP, usb2 with device.usb2_mode, else usb3)")
    parser.add_argument("--node-name", default="oak", help="the node's name (parameter sections, tf_prefix)")
    parser.add_argument("--imu", default="NONE", metavar="MODEL",
                        help="the device's IMU as getConnectedIMU() names it: BMI270, BNO086 or NONE (default)")
    args = parser.parse_args(argv)
    with _json_stdout() as out:
        try:
            values = load_parameters(args.params_file, args.overrides, args.node_name)
            result = dry_run(values, args.calibration, args.cameras, args.link, args.node_name, args.imu)
        except DryRunError as e:
            print(str(e), file=sys.stderr)
            return 2
        json.dump(result, out, indent=2)
        out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
