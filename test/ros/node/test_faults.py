"""Faults injected into the simulated device (`sim.fault`) are seen, reported and recovered from."""
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from sensor_msgs.msg import CameraInfo, Image
from vision_msgs.msg import Detection2DArray

from depthai_ros_bridge.device import sim as sim_device
from harness import FAST_SIM, Harness, wait_until
from test_nn import LABELS, SSD_ARCHIVE

pytestmark = pytest.mark.slow


def _start(**params) -> Harness:
    h = Harness(**{**FAST_SIM, "rgb.nn.model": str(SSD_ARCHIVE), "device.stall_timeout_s": 0.6, **params})
    assert h.transition("configure") and h.transition("activate")
    return h


def _inject(h, fault: str):
    (result,) = h.set_parameters(**{"sim.fault": fault})
    return result


def _resumes(h, topic="rgb/camera_info", msg_type=CameraInfo):
    frames = h.subscribe(topic, msg_type)
    frames.wait(frames.count + 3)


def _statuses(h):
    diagnostics = h.subscribe("/diagnostics", DiagnosticArray)
    diagnostics.wait(diagnostics.count + 1)
    return {s.name: s for m in diagnostics.messages[-3:] for s in m.status if s.name.startswith(h.node.frame_prefix)}


@pytest.fixture
def node(ros):
    made = []

    def make(**params):
        made.append(_start(**params))
        return made[-1]
    yield make
    for h in made:
        h.close()
    # A disconnect outlives its node: the next test's simulated device must be findable again.
    wait_until(lambda: sim_device._still_vanished(f"SIM{FAST_SIM.get('sim.seed', 0):010d}") <= 0,
               what="the simulated device back after the disconnect")


def test_a_disconnect_ends_in_recovery_with_the_network_that_ran(node):
    h = node()
    detections = h.subscribe("rgb/nn/detections", Detection2DArray)
    detections.wait()
    assert _inject(h, "disconnect:1.5").successful
    wait_until(lambda: h.node.supervisor.recovering, what="recovery started")
    wait_until(lambda: not h.node.supervisor.recovering and h.state() == "active", what="active again")
    assert h.node.supervisor.attempts >= 1
    assert h.node.get_parameter("rgb.nn.model").value == str(SSD_ARCHIVE)
    assert h.node.get_parameter("sim.fault").value == ""          # shown as no fault once applied
    count = detections.count
    msg = detections.wait(count + 2)
    assert {d.results[0].hypothesis.class_id for d in msg.detections} <= set(LABELS)


def test_a_stalled_stream_is_an_error_naming_it_then_the_device_restarts(node):
    h = node()
    _resumes(h)
    assert _inject(h, "stall:rgb:30").successful
    wait_until(lambda: "rgb" in h.node.supervisor.stalled, what="rgb reported stalled")
    status = _statuses(h).get(f"{h.node.frame_prefix}: rgb")
    if status is not None and "rgb" in h.node.supervisor.stalled:
        assert status.level == DiagnosticStatus.ERROR and "no frame" in status.message
    wait_until(lambda: h.node.supervisor.attempts >= 1 and h.state() == "active", what="restarted")
    _resumes(h)


def test_corrupt_frames_are_dropped_and_counted_never_published(node):
    h = node()
    images = h.subscribe("rgb/image_raw", Image)
    images.wait()
    assert _inject(h, "corrupt:rgb:3").successful
    wait_until(lambda: h.node.outputs.corrupt["rgb"] == 3, what="three corrupt frames counted")
    images.wait(images.count + 3)
    assert all((m.width, m.height, len(m.data)) == (1280, 720, 1280 * 720 * 3) for m in images.messages)
    assert h.state() == "active" and h.node.frame_errors == 0


def test_a_crash_in_the_device_thread_recovers(node):
    h = node()
    _resumes(h)
    assert _inject(h, "crash").successful
    wait_until(lambda: h.node.supervisor.attempts >= 1 and h.state() == "active", what="recovered from the crash")
    _resumes(h)


def test_dropped_frames_and_a_slow_network_keep_the_node_streaming(node):
    h = node(**{"device.stall_timeout_s": 5.0})
    detections = h.subscribe("rgb/nn/detections", Detection2DArray)
    detections.wait()
    assert _inject(h, "drop:rgb:5").successful and _inject(h, "slow_nn:200").successful
    detections.wait(detections.count + 3)
    assert _inject(h, "slow_nn:0").successful
    assert h.state() == "active" and h.node.supervisor.attempts == 0


def test_malformed_faults_are_refused_naming_the_forms(node):
    h = node()
    result = _inject(h, "explode:now")
    assert not result.successful and "sim.fault" in result.reason and "disconnect:<seconds>" in result.reason


def test_without_reconnect_a_lost_device_leaves_the_node_unconfigured(node):
    h = node(**{"device.reconnect": False})
    assert _inject(h, "disconnect:0.5").successful
    wait_until(lambda: h.state() == "unconfigured", what="unconfigured after the loss")
    assert not h.node.supervisor.recovering
