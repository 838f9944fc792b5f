"""A running network is one object swapped whole; what the node shows is what runs, and only the node
itself bypasses parameter validation."""
import threading
import time

import pytest
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import CameraInfo
from vision_msgs.msg import Detection2DArray, LabelInfo

from harness import FAST_SIM, Harness, stamp_of, wait_until
from test_nn import SSD_ARCHIVE, deploy, remove

LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
IN_FLIGHT_S = 0.25   # a message published before a reply may arrive after it


@pytest.fixture
def active(ros):
    h = Harness(**{**FAST_SIM, "sim.motion_speed": 1.0})
    assert h.transition("configure") and h.transition("activate")
    yield h
    h.close()


def test_deploy_remove_50_times_while_streaming_never_mixes_networks(active):
    """Judged by when messages arrive, not by their stamps: a loaded simulator stamps a frame set at
    its exposure tick and may finish capturing it (with whatever network then runs) much later."""
    h = active
    arrivals = []             # (received at, label prefixes of one message)
    lock = threading.Lock()

    def on_detections(msg):
        with lock:
            arrivals.append((time.time(), {d.results[0].hypothesis.class_id[0] for d in msg.detections}))
    h.client.create_subscription(Detection2DArray, h.topic("rgb/nn/detections"), on_detections, 100)
    frames = h.subscribe("rgb/camera_info", CameraInfo)
    windows = []            # (called at, answered at, label prefix running after it; None = removed)
    for i in range(50):
        prefix = "ab"[i // 2 % 2] if i % 2 == 0 else None
        before = time.time()
        if prefix is None:
            assert remove(h).success
        else:
            result = deploy(h, model=str(SSD_ARCHIVE), labels=[f"{prefix}{k}" for k in range(4)])
            assert result.successful, result.reason
        windows.append((before, time.time(), prefix))
        frames.wait(frames.count + 6)           # a few frames with this network settled
    assert h.node.frame_errors == 0
    checked = 0
    with lock:
        received = list(arrivals)
    for t, prefixes in received:
        if not prefixes:
            continue
        assert len(prefixes) == 1, f"one message mixes networks: {prefixes}"
        # What runs once a call is answered: the reply is sent after the swap (or, for a remove,
        # after the result publishers are gone); IN_FLIGHT_S covers messages already on the wire.
        settled = [w for w in windows if w[1] + IN_FLIGHT_S < t]
        in_flux = any(w[0] <= t <= w[1] + IN_FLIGHT_S for w in windows)
        if settled and not in_flux:
            assert settled[-1][2] is not None, f"detections received at {t:.3f}, after a remove at {settled[-1][1]:.3f}"
            assert prefixes == {settled[-1][2]}, f"received at {t:.3f}: {prefixes}, running {settled[-1][2]}"
            checked += 1
    assert checked > 20


def test_an_uploaded_network_is_deployed_again_by_cleanup_and_configure(active):
    h = active
    labels = ["u0", "u1", "u2", "u3"]
    result = deploy(h, model_data=SSD_ARCHIVE.read_bytes(), labels=labels)
    assert result.successful, result.reason
    shown = h.node.get_parameter("rgb.nn.model").value
    assert shown.endswith(".tar.xz") and "/.cache/depthai_ros_bridge/models/" in shown
    assert open(shown, "rb").read() == SSD_ARCHIVE.read_bytes()
    assert h.transition("deactivate") and h.transition("cleanup")
    assert h.transition("configure") and h.transition("activate")
    msg = h.subscribe("rgb/nn/detections", Detection2DArray).wait()
    wait_until(lambda: any(d.results[0].hypothesis.class_id in labels
                           for m in h.collectors[h.topic("rgb/nn/detections")].messages for d in m.detections),
               what="detections of the uploaded network after reconfiguring")
    assert msg is not None and h.node.get_parameter("rgb.nn.model").value == shown


def test_a_client_setting_an_invalid_value_during_deploys_is_refused(active):
    h = active
    stop = threading.Event()

    def deploys():
        while not stop.is_set():
            deploy(h, model=str(SSD_ARCHIVE))
    worker = threading.Thread(target=deploys)
    worker.start()
    try:
        refusals = []
        for _ in range(60):
            (result,) = h.set_parameters(**{"rgb.fps": 4.0})
            refusals.append(not result.successful)
            (result,) = h.set_parameters(**{"rgb.nn.spatial.depth_max_m": -1.0})
            refusals.append(not result.successful)
    finally:
        stop.set()
        worker.join()
    assert all(refusals)
    assert h.node.get_parameter("rgb.fps").value == FAST_SIM["rgb.fps"]


def test_label_info_is_stamped_by_the_node_clock(ros):
    h = Harness(**{**FAST_SIM, "use_sim_time": True})      # no /clock: the node's time stays 0
    try:
        assert h.transition("configure") and h.transition("activate")
        assert deploy(h, model=str(SSD_ARCHIVE)).successful
        msg = h.subscribe("rgb/nn/label_info", LabelInfo, LATCHED).wait()
        assert stamp_of(msg) == (0, 0) and [c.class_name for c in msg.class_map] == ["crate", "ball", "barrel", "cone"]
    finally:
        h.close()


def test_cli_upload_sends_the_bytes_on_the_upload_topic_and_deploys_them(active):
    import os
    import subprocess
    import sys
    h = active
    cmd = [sys.executable, "-m", "depthai_ros_bridge.ros.nn_cli", "--node", f"/{h.name}",
           "deploy", "left", str(SSD_ARCHIVE), "--upload"]
    out = subprocess.run(cmd, env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "deployed" in out.stdout, out.stdout + out.stderr
    shown = h.node.get_parameter("left.nn.model").value
    assert "/.cache/depthai_ros_bridge/models/" in shown and open(shown, "rb").read() == SSD_ARCHIVE.read_bytes()
    h.subscribe("left/nn/detections", Detection2DArray).wait()
