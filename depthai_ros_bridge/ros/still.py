"""`~/rgb/capture_still` (std_srvs/Trigger): Gen1's request_jpeg, one JPEG of the colour camera at
its full still resolution on `~/rgb/still/compressed` with `~/rgb/still/camera_info`.

The service lives as long as the node and answers in every state (anyone on the domain may call
it; no exception leaves the callback): it says why there is no still (node not active, colour
stream disabled, a capture already in progress, the device failed). The device takes the still
on its own thread, so the streams keep flowing; the reply waits for it (bounded) to give its
size and stamp. Its callback group is reentrant so a second request during a capture is
answered at once ("in progress") rather than queued behind the first.
"""
from __future__ import annotations

import threading

from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage
from std_srvs.srv import Trigger

from . import messages as conv
from .entities import answer_trigger, lifecycle_publisher
from .video import jpeg_msg, seconds_of

SERVICE = "~/rgb/capture_still"
IMAGE_TOPIC, INFO_TOPIC = "~/rgb/still/compressed", "~/rgb/still/camera_info"
# A late subscriber still gets the last still (the Gen1 jpegout was a one-shot stream too).
LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL, reliability=ReliabilityPolicy.RELIABLE)
CAPTURE_TIMEOUT_S = 30.0      # the simulator renders 12 MP in ~5 s on 2 cores (streams running); an OAK: under 1 s


class StillPublishers:
    """The still topics of a configured node with the colour stream on (made and destroyed with Outputs)."""

    def __init__(self, node, frame_id: str, clock_offset: float):
        self._node, self._frame_id, self._clock_offset = node, frame_id, clock_offset
        self._image = lifecycle_publisher(node, CompressedImage, IMAGE_TOPIC, LATCHED)
        self._info = lifecycle_publisher(node, CameraInfo, INFO_TOPIC, LATCHED)

    def publish(self, still) -> tuple[int, int, float]:
        """Publish a device Still; (width, height, ROS stamp in seconds)."""
        frame = still.frame
        exact = getattr(still, "timestamp", None)     # the colour frame's, finer than the frame's microseconds
        seconds = (seconds_of(frame) if exact is None else exact) + self._clock_offset
        hdr = conv.header(self._frame_id, seconds)
        self._image.publish(jpeg_msg(frame, hdr, colour=True))
        self._info.publish(conv.camera_info_msg(still.camera, hdr))
        return frame.getWidth(), frame.getHeight(), seconds

    def destroy(self) -> None:
        for pub in (self._image, self._info):
            self._node.destroy_lifecycle_publisher(pub)


class StillService:
    def __init__(self, node):
        self._node = node
        self._service = node.create_service(Trigger, SERVICE, self._on_request,
                                            callback_group=ReentrantCallbackGroup())

    def _on_request(self, request, response):
        return answer_trigger(self._node, "capture", self._capture, response)

    def _capture(self) -> tuple[bool, str]:
        node = self._node
        with node._state_lock:          # noqa: SLF001 - the device and outputs as the node releases them
            outputs, device, active = node.outputs, node.device, node.is_active
        if not active or outputs is None or device is None:
            return False, f"no still: the node is not active (state: {node.lifecycle_state})"
        stills = getattr(outputs, "stills", None)
        if stills is None:
            return False, "no still: the colour stream is disabled (rgb.enabled is false)"
        done = threading.Event()
        result: list = []

        def on_done(still) -> None:      # on the device's still thread
            try:
                result.append(still if isinstance(still, Exception) else stills.publish(still))
            except Exception as e:  # noqa: BLE001 - e.g. the node released its topics meanwhile
                result.append(e)
            done.set()

        try:
            device.capture_still(on_done)
        except Exception as e:  # noqa: BLE001 - DeviceError: disabled, not streaming, in progress
            return False, f"no still: {e}"
        if not done.wait(CAPTURE_TIMEOUT_S):
            return False, f"no still: the device gave none within {CAPTURE_TIMEOUT_S:g} s"
        if isinstance(result[0], Exception):
            return False, f"no still: {result[0]}"
        width, height, seconds = result[0]
        return True, f"{width}x{height} JPEG published on {IMAGE_TOPIC[2:]}, stamp {seconds:.9f}"
