"""`~/<camera>/nn/deploy` and `~/<camera>/nn/remove`: made once, living as long as the node.

Any participant on the domain can call them, so a request is untrusted: its shape (field names,
parameter types, sizes) is checked before anything reads it, every failure is answered with a
short reason, and no exception leaves a callback. They are never destroyed while a request may
be in flight (a response sent to a destroyed service kills the executor thread): when the node
is not configured, they answer with the node's state instead.

Each camera's services have their own mutually exclusive callback group: one request at a time
per stream, while other streams' services and the lifecycle services keep their own threads.
"""
from __future__ import annotations

from rcl_interfaces.msg import ParameterType, SetParametersResult
from rcl_interfaces.srv import SetParametersAtomically
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from std_srvs.srv import Trigger

from ..core.spec import CAMERA_STREAMS
from ..nn.deployment import DeployError
from .uploads import DIGEST, UploadReceiver

# Field -> the one parameter type it may have.
REQUEST_TYPES = {"model": ParameterType.PARAMETER_STRING, "model_data": ParameterType.PARAMETER_BYTE_ARRAY,
                 "nn_config": ParameterType.PARAMETER_STRING, "labels": ParameterType.PARAMETER_STRING_ARRAY,
                 "resize_mode": ParameterType.PARAMETER_STRING}
_TYPE_NAMES = {ParameterType.PARAMETER_STRING: "string", ParameterType.PARAMETER_BYTE_ARRAY: "byte array",
               ParameterType.PARAMETER_STRING_ARRAY: "string array"}
# rclpy has already turned a byte[] into one Python object per byte when the callback runs (see
# README, Reliability): inline bytes are for small models; large ones go through the upload topic.
MAX_INLINE_MODEL_BYTES = 4 * 1024 * 1024
MAX_STRING_BYTES = 64 * 1024
MAX_REPLY_CHARS = 1000
UPLOAD_WAIT_S = 30.0


def request_values(parameters) -> dict:
    """The deploy request's fields as Python values, after checking each one's name, type and size."""
    if len(parameters) > len(REQUEST_TYPES):
        raise DeployError(f"a deploy request has at most {len(REQUEST_TYPES)} fields, got {len(parameters)}")
    values: dict = {}
    for p in parameters:
        name = p.name
        if name not in REQUEST_TYPES:
            raise DeployError(f"unknown field {name[:64]!r}; allowed: "
                              + ", ".join(f"{k} ({_TYPE_NAMES[t]})" for k, t in REQUEST_TYPES.items()))
        if name in values:
            raise DeployError(f"field {name} is given twice")
        want = REQUEST_TYPES[name]
        if p.value.type != want:
            raise DeployError(f"{name} must be a {_TYPE_NAMES[want]} parameter (type {want}), "
                              f"got type {p.value.type}")
        if want == ParameterType.PARAMETER_STRING:
            if len(p.value.string_value) > MAX_STRING_BYTES:
                raise DeployError(f"{name} is longer than {MAX_STRING_BYTES} characters")
            values[name] = p.value.string_value
        elif want == ParameterType.PARAMETER_STRING_ARRAY:
            values[name] = list(p.value.string_array_value)
        else:
            data = p.value.byte_array_value
            if len(data) > MAX_INLINE_MODEL_BYTES:
                raise DeployError(f"model_data is {len(data)} bytes, over the {MAX_INLINE_MODEL_BYTES} byte limit "
                                  "of inline uploads; upload large models with `oak_nn deploy --upload`")
            values[name] = b"".join(data)
    return values


def _pause(seconds: float) -> str:
    return (f"streams paused {seconds:.1f} s (a real OAK restarts its pipeline for a network change)"
            if seconds > 0 else "streams kept running")


def short(reason: str) -> str:
    return reason if len(reason) <= MAX_REPLY_CHARS else reason[:MAX_REPLY_CHARS - 3] + "..."


class NNServices:
    def __init__(self, node):
        self._node = node
        self._services = []
        self.uploads = UploadReceiver(node, MutuallyExclusiveCallbackGroup())
        for stream in CAMERA_STREAMS:
            group = MutuallyExclusiveCallbackGroup()
            self._services += [
                node.create_service(SetParametersAtomically, f"~/{stream}/nn/deploy",
                                    lambda req, resp, s=stream: self._on_deploy(s, req, resp), callback_group=group),
                node.create_service(Trigger, f"~/{stream}/nn/remove",
                                    lambda req, resp, s=stream: self._on_remove(s, req, resp), callback_group=group)]

    def _on_deploy(self, stream: str, request, response):
        try:
            values = request_values(request.parameters)
            upload = DIGEST.match(values.get("model", ""))
            if upload is not None:      # uploaded on ~/nn/upload: deploy the stored file
                values["model"] = str(self.uploads.wait(upload.group(1), UPLOAD_WAIT_S))
            nn = self._node.configured_nn(stream)
            deployment = nn.deploy(values)
            response.result = SetParametersResult(
                successful=True, reason=short(f"{deployment.config.type} network {deployment.source} running on "
                                              f"{stream}; {_pause(nn.last_pause_s)}"))
        except DeployError as e:
            response.result = SetParametersResult(successful=False, reason=short(str(e)))
        except Exception as e:  # noqa: BLE001 - nothing a request does may reach the executor
            self._node.get_logger().error(f"{stream}: deploy request failed unexpectedly: {e!r}")
            response.result = SetParametersResult(successful=False,
                                                  reason=f"deploy failed: internal error ({type(e).__name__})")
        return response

    def _on_remove(self, stream: str, request, response):
        try:
            nn = self._node.configured_nn(stream)
            nn.remove()
            response.success, response.message = True, f"network removed from {stream}; {_pause(nn.last_pause_s)}"
        except DeployError as e:
            response.success, response.message = False, short(str(e))
        except Exception as e:  # noqa: BLE001
            self._node.get_logger().error(f"{stream}: remove request failed unexpectedly: {e!r}")
            response.success, response.message = False, f"remove failed: internal error ({type(e).__name__})"
        return response
