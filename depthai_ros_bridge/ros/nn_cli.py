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


def deploy_request(model: str, config: str, labels: list[str], resize_mode: str):
    """`model`: a path on this machine (sent resolved), or `sha256:<hex>` of an upload."""
    params = [Parameter("model", value=model if model.startswith("sha256:") else str(Path(model).resolve()))]
    if config:
        params.append(Parameter("nn_config", value=Path(config[1:]).read_text() if config.startswith("@") else config))
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

    rclpy.init()
    node = rclpy.create_node("oak_nn_cli")
    try:
        base = args.node.rstrip("/")
        if args.command == "deploy":
            model, keep = upload(node, base, args.model) if args.upload else (args.model, None)
            result = _call(node, SetParametersAtomically, f"{base}/{args.stream}/nn/deploy",
                           deploy_request(model, args.config, args.labels, args.resize_mode)).result
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
