"""Every lifecycle transition, driven through the node's real lifecycle services."""
import threading

import pytest
from lifecycle_msgs.msg import TransitionEvent
from rclpy.qos import QoSProfile
from sensor_msgs.msg import Image

from harness import FAST_SIM, wait_until


def _sim_threads():
    return [t for t in threading.enumerate() if t.name == "sim-oak"]


def _our_threads():
    """Threads other than the executor's worker pool, which fills up lazily."""
    return [t for t in threading.enumerate() if not t.name.startswith("ThreadPoolExecutor")]


def _image_publishers(h):
    return [name for name, _ in h.node.get_publisher_names_and_types_by_node(h.name, "/")
            if name.endswith("image_raw")]


def test_full_cycle_in_order_and_configure_again(make_harness):
    h = make_harness(**FAST_SIM)
    events = h.subscribe("transition_event", TransitionEvent, QoSProfile(depth=20))
    assert h.state() == "unconfigured"
    assert h.transition("configure") and h.state() == "inactive"
    assert h.transition("activate") and h.state() == "active"
    h.subscribe("rgb/image_raw", Image).wait()
    assert h.transition("deactivate") and h.state() == "inactive"
    assert h.transition("cleanup") and h.state() == "unconfigured"
    assert h.transition("configure") and h.state() == "inactive"
    assert h.transition("shutdown") and h.state() == "finalized"
    events.wait(count=12)
    goals = [e.goal_state.label for e in events.messages]
    assert goals[:4] == ["configuring", "inactive", "activating", "active"]
    assert goals[-2:] == ["shuttingdown", "finalized"]


@pytest.mark.parametrize("transition", ["activate", "deactivate", "cleanup"])
def test_out_of_order_transitions_are_rejected(make_harness, transition):
    h = make_harness(**FAST_SIM)
    assert not h.transition(transition)
    assert h.state() == "unconfigured"
    assert h.node.device is None


@pytest.mark.parametrize("reached", [[], ["configure"], ["configure", "activate"]])
def test_shutdown_from_each_state_releases_the_device(make_harness, reached):
    h = make_harness(**FAST_SIM)
    for label in reached:
        assert h.transition(label)
    assert h.transition("shutdown")
    assert h.state() == "finalized"
    assert h.node.device is None and not _sim_threads()
    assert _image_publishers(h) == []


def test_repeated_configure_cleanup_leaks_no_threads_or_publishers(make_harness):
    h = make_harness(**FAST_SIM)
    baseline = None
    for cycle in range(6):
        assert h.transition("configure")
        assert len(_sim_threads()) == 1
        assert h.transition("activate")
        assert h.transition("deactivate")
        assert h.transition("cleanup")
        assert not _sim_threads() and _image_publishers(h) == []
        baseline = baseline or len(_our_threads())
        assert len(_our_threads()) == baseline, f"cycle {cycle}: {_our_threads()}"


def test_publishing_happens_only_while_active(make_harness):
    h = make_harness(**FAST_SIM)
    images = h.subscribe("left/image_raw", Image)
    assert h.transition("configure")
    assert h.transition("activate")
    images.wait(count=2)
    assert h.transition("deactivate")
    count = images.count
    # The device keeps capturing while inactive; wait for several more captures, then check none went out.
    captured = h.node.device.status()["frames captured"]
    wait_until(lambda: int(h.node.device.status()["frames captured"]) >= int(captured) + 3)
    assert images.count <= count + 1   # at most one already in flight


def test_device_failure_while_active_goes_through_error_to_unconfigured(make_harness):
    h = make_harness(**FAST_SIM)
    assert h.transition("configure") and h.transition("activate")
    h.node.device_failed(RuntimeError("USB link lost"))
    wait_until(lambda: h.state() == "unconfigured", what="error processing")
    assert h.node.device is None and not _sim_threads()
    assert h.transition("configure") and h.transition("activate")
    h.subscribe("rgb/image_raw", Image).wait()


def test_cleanup_releases_the_device_even_when_destroying_outputs_fails(make_harness):
    h = make_harness(**FAST_SIM)
    assert h.transition("configure")
    outputs, device = h.node.outputs, h.node.device
    destroy = outputs.destroy

    def failing_destroy():
        destroy()
        raise RuntimeError("simulated failure while destroying publishers")

    outputs.destroy = failing_destroy
    assert h.transition("cleanup") and h.state() == "unconfigured"
    assert h.node.device is None and not _sim_threads()
    assert h.transition("configure") and h.state() == "inactive"      # nothing lost: it configures again
    assert h.node.device is not device
