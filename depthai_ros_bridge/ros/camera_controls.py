"""~/rgb/trigger_autofocus (std_srvs/Trigger, Gen1's request_af_trigger): answers in every state."""
from __future__ import annotations

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from std_srvs.srv import Trigger

MAX_REPLY_CHARS = 512


class AutofocusService:
    def __init__(self, node):
        self._node = node
        self._service = node.create_service(Trigger, "~/rgb/trigger_autofocus", self._on_trigger,
                                            callback_group=MutuallyExclusiveCallbackGroup())

    def _on_trigger(self, request, response):
        try:
            response.success, response.message = self._trigger()
        except Exception as e:  # noqa: BLE001 - nothing a request does may reach the executor
            self._node.get_logger().error(f"trigger_autofocus failed unexpectedly: {e!r}")
            response.success, response.message = False, f"autofocus trigger failed: internal error ({type(e).__name__})"
        response.message = response.message[:MAX_REPLY_CHARS]
        return response

    def _trigger(self) -> tuple[bool, str]:
        node = self._node
        device, spec = node.device, node.spec
        if device is None or spec is None:
            return False, f"the node is {node.lifecycle_state}: configure it first (the camera is not running)"
        if not spec.enabled("rgb"):
            return False, "the colour stream is disabled (rgb.enabled is false)"
        return device.trigger_autofocus()
