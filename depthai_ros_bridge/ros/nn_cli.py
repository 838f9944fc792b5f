"""Deploy, remove and inspect networks on a running camera node without typing service requests.

    python -m depthai_ros_bridge.ros.nn_cli deploy rgb models/demo-colour-ssd.tar.xz
    python -m depthai_ros_bridge.ros.nn_cli deploy rgb net.onnx --config '{"type": "YOLO", ...}' --labels a b
    python -m depthai_ros_bridge.ros.nn_cli deploy rgb net.onnx --config @nn_config.json --upload
    python -m depthai_ros_bridge.ros.nn_cli remove rgb
    python -m depthai_ros_bridge.ros.nn_cli status
"""
from __future__ import annotations

import argparse
import array
import hashlib
import json
import sys
import time
from pathlib import Path

import rclpy
from rcl_interfaces.srv import GetParameters, SetParametersAtomically
from rclpy.parameter import Parameter, parameter_value_to_python
from std_msgs.msg import MultiArrayDimension, UInt8MultiArray
from std_srvs.srv import Trigger

from ..core.spec import CAMERA_STREAMS

TIMEOUT_S = 60.0


def _call(node, srv_type, name: str, request):
    client = node.create_client(srv_type, name)
    if not client.wait_for_service(timeout_sec=10.0):
        raise SystemExit(f"service {name} is not available: is the node running and configured?")
    future = client.call_async(request)
    rclpy.spin_until_future_complete(node, future, timeout_sec=TIMEOUT_S)
    if not future.done():
        raise SystemExit(f"no answer from {name} in {TIMEOUT_S:.0f} s")
    return future.result()


def upload(node, base: str, path: str):
    """Publish the file on the node's upload topic; (its `sha256:<hex>` name, the publisher to keep
    until the deploy is answered: a reliable sample is resent only while its writer exists)."""
    from .uploads import QOS

    data = array.array("B", Path(path).read_bytes())
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    pub = node.create_publisher(UInt8MultiArray, f"{base}/nn/upload", QOS)
    deadline = time.monotonic() + 10.0
    while pub.get_subscription_count() == 0:
        if time.monotonic() > deadline:
            raise SystemExit(f"nobody subscribes to {base}/nn/upload: is the node running?")
        rclpy.spin_once(node, timeout_sec=0.1)
    msg = UInt8MultiArray()
    msg.layout.dim = [MultiArrayDimension(label=digest, size=len(data), stride=len(data))]
    msg.data = data
    pub.publish(msg)
    return digest, pub


class CliError(Exception):
    """A problem with what was typed: printed as one line, exit status 2."""


def config_text(config: str) -> str:
    """`--config`: JSON text, or `@file` read here; checked to be a JSON object before anything is sent."""
    text = config
    if config.startswith("@"):
        try:
            text = Path(config[1:]).expanduser().read_text()
        except FileNotFoundError:
            raise CliError(f"--config {config}: no such file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise CliError(f"--config {config}: cannot read it ({e.__class__.__name__})") from None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as e:
        raise CliError(f"--config: not JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    if not isinstance(parsed, dict):
        raise CliError('--config: must be a JSON object, e.g. \'{"type": "YOLO", "classes": 80}\'')
    return text


def check_local_model(model: str, upload: bool) -> None:
    if upload and not Path(model).expanduser().is_file():
        raise CliError(f"--upload {model}: no such file")


def deploy_request(model: str, config: str, labels: list[str], resize_mode: str):
    """`model`: a path on this machine (sent resolved), or `sha256:<hex>` of an upload; `config`: JSON text."""
    params = [Parameter("model", value=model if model.startswith("sha256:") else str(Path(model).resolve()))]
    if config:
        params.append(Parameter("nn_config", value=config))
    if labels:
        params.append(Parameter("labels", value=labels))
    if resize_mode:
        params.append(Parameter("resize_mode", value=resize_mode))
    return SetParametersAtomically.Request(parameters=[p.to_parameter_msg() for p in params])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oak_nn", description=__doc__.split("\n")[0])
    parser.add_argument("--node", default="/oak", help="the camera node (default /oak)")
    sub = parser.add_subparsers(dest="command", required=True)
    deploy = sub.add_parser("deploy", help="deploy a network on a stream")
    deploy.add_argument("stream", choices=CAMERA_STREAMS)
    deploy.add_argument("model", help=".onnx, .blob or NN archive (.tar.xz/.tar.gz/.tar)")
    deploy.add_argument("--config", default="", help="Robopipe nn_config JSON, or @file")
    deploy.add_argument("--labels", nargs="*", default=[])
    deploy.add_argument("--resize-mode", default="", choices=["", "letterbox", "crop", "stretch"])
    deploy.add_argument("--upload", action="store_true", help="send the file's bytes (node on another machine)")
    remove = sub.add_parser("remove", help="remove a stream's network")
    remove.add_argument("stream", choices=CAMERA_STREAMS)
    sub.add_parser("status", help="what runs on each stream")
    args = parser.parse_args(argv)
    try:    # what was typed is checked before ROS starts: one line, never a traceback
        config = config_text(args.config) if args.command == "deploy" and args.config else ""
        if args.command == "deploy":
            check_local_model(args.model, args.upload)
    except CliError as e:
        print(f"oak_nn: {e}", file=sys.stderr)
        return 2
    try:
        return _run(args, config)
    except SystemExit as e:        # _call/upload: the node is not there or does not answer
        if isinstance(e.code, str):
            print(f"oak_nn: {e.code}", file=sys.stderr)
            return 1
        raise
    except KeyboardInterrupt:
        return 130
    except OSError as e:
        print(f"oak_nn: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1


def _run(args, config: str) -> int:
    rclpy.init()
    node = rclpy.create_node("oak_nn_cli")
    try:
        base = args.node.rstrip("/")
        if args.command == "deploy":
            model, keep = upload(node, base, args.model) if args.upload else (args.model, None)
            result = _call(node, SetParametersAtomically, f"{base}/{args.stream}/nn/deploy",
                           deploy_request(model, config, args.labels, args.resize_mode)).result
            del keep
            print(("deployed: " if result.successful else "deploy failed: ") + result.reason)
            return 0 if result.successful else 1
        if args.command == "remove":
            response = _call(node, Trigger, f"{base}/{args.stream}/nn/remove", Trigger.Request())
            print(("removed: " if response.success else "remove failed: ") + response.message)
            return 0 if response.success else 1
        names = [f"{s}.nn.{key}" for s in CAMERA_STREAMS for key in ("model", "config", "labels")]
        values = _call(node, GetParameters, f"{base}/get_parameters", GetParameters.Request(names=names)).values
        shown = dict(zip(names, (parameter_value_to_python(v) for v in values)))
        for s in CAMERA_STREAMS:
            model = shown.get(f"{s}.nn.model")
            print(f"{s}: " + (f"{model}  config={shown[f'{s}.nn.config']}  labels={shown[f'{s}.nn.labels']}"
                             if model else "no network"))
        return 0
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    sys.exit(main())
