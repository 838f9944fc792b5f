"""~/rgb/trigger_autofocus (std_srvs/Trigger, Gen1's request_af_trigger): answers in every state."""
from __future__ import annotations

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from std_srvs.srv import Trigger

from .entities import answer_trigger

MAX_REPLY_CHARS = 512


class AutofocusService:
    def __init__(self, node):
        self._node = node
        self._service = node.create_service(Trigger, "~/rgb/trigger_autofocus", self._on_trigger,
                                            callback_group=MutuallyExclusiveCallbackGroup())

    def _on_trigger(self, request, response):
        return answer_trigger(self._node, "autofocus trigger", self._trigger, response, MAX_REPLY_CHARS)

    def _trigger(self) -> tuple[bool, str]:
        node = self._node
        device, spec = node.device, node.spec
        if device is None or spec is None:
            return False, f"the node is {node.lifecycle_state}: configure it first (the camera is not running)"
        if not spec.enabled("rgb"):
            return False, "the colour stream is disabled (rgb.enabled is false)"
        return device.trigger_autofocus()
