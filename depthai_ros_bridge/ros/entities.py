"""Publishers the node creates and destroys while its executor spins."""
from __future__ import annotations

from rclpy.event_handler import PublisherEventCallbacks

# By default rclpy gives every publisher QoS-event handlers, which executors wait on. One
# destroyed while another executor thread builds its wait set kills that thread with
# InvalidHandle (rclpy adds a waitable it failed to enter to the wait set anyway), and the
# node stops answering services. Without handlers a publisher is in no wait set. Lost: the
# publisher-side warning about an incompatible subscriber (the subscriber still logs its own).
_NO_EVENT_HANDLERS = PublisherEventCallbacks(use_default_callbacks=False)


def lifecycle_publisher(node, msg_type, topic: str, qos):
    return node.create_lifecycle_publisher(msg_type, topic, qos, event_callbacks=_NO_EVENT_HANDLERS)


def answer_trigger(node, what: str, act, response, limit: int = 512):
    """A std_srvs/Trigger response from `act() -> (success, message)`: an unexpected exception becomes
    a failed reply naming its type (logged), never an exception in the executor; messages are cut."""
    try:
        response.success, response.message = act()
    except Exception as e:  # noqa: BLE001 - nothing a request does may reach the executor
        node.get_logger().error(f"{what} failed unexpectedly: {e!r}")
        response.success, response.message = False, f"{what} failed: internal error ({type(e).__name__})"
    response.message = response.message[:limit]
    return response
