"""oak_snapshot against a running node: the PNG, its panels' sizes, and boxes that are the detections of that frame."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import rclpy
from vision_msgs.msg import Detection2DArray

from depthai_ros_bridge.core.overlay import class_colour
from depthai_ros_bridge.ros import snapshot
from harness import FAST_SIM, Harness, stamp_of, wait_until

MODEL = Path(__file__).resolve().parents[3] / "models" / "demo-colour-ssd.tar.xz"


@pytest.fixture(scope="module")
def camera(ros):
    h = Harness(**FAST_SIM, **{"rgb.nn.model": str(MODEL)})
    detections = h.subscribe("rgb/nn/detections", Detection2DArray)
    assert h.transition("configure") and h.transition("activate")
    wait_until(lambda: any(m.detections for m in detections.messages), what="detections of the demo network")
    yield h, detections
    h.close()


def test_snapshot_png_has_every_panel_and_the_frames_own_detections(camera, tmp_path):
    h, received = camera
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        shot = snapshot.capture(f"/{h.name}", tmp_path / "oak.png", seconds=1.0, timeout=30.0, context=context)
    finally:
        rclpy.try_shutdown(context=context)
    png = cv2.imread(str(shot.path), cv2.IMREAD_COLOR)
    assert png is not None
    # Native sizes: colour 1280x720 on top; depth (640x400 + scale bar), left, right (640x400) below.
    assert shot.layout["rgb"] == (0, 0, 1280, 720)
    assert shot.layout["depth"] == (0, 720, 640, 400 + snapshot.SCALE_BAR_H)
    assert shot.layout["left"] == (640, 720, 640, 400)
    assert shot.layout["right"] == (1280, 720, 640, 400)
    assert png.shape[1] == 1920 and png.shape[0] == shot.layout["caption"][1] + shot.layout["caption"][3]
    assert shot.rates["rgb/image_raw"] > 0
    # The boxes drawn are exactly the detections the node published for that frame.
    published = next(m for m in received.messages if stamp_of(m) == shot.stamp)
    assert len(shot.detections) == len(published.detections) > 0
    for drawn, sent in zip(shot.detections, published.detections):
        c = sent.bbox.center.position
        assert drawn.label == sent.results[0].hypothesis.class_id
        assert drawn.box == pytest.approx((c.x - sent.bbox.size_x / 2, c.y - sent.bbox.size_y / 2,
                                           c.x + sent.bbox.size_x / 2, c.y + sent.bbox.size_y / 2))
        x0, y0, x1, y1 = (int(round(v)) for v in drawn.box)
        x0, x1 = max(x0, 0), min(x1, 1279)
        mid = (max(y0, 0) + min(y1, 719)) // 2
        edge = png[mid, x0:x0 + 3] if x0 >= 0 else png[mid, :3]
        assert (edge == class_colour(drawn.label)).all(axis=1).any(), (drawn, edge)
    # Depth panel: colourised (not grey), the scale bar under it.
    x, y, w, hgt = shot.layout["depth"]
    depth = png[y:y + hgt - snapshot.SCALE_BAR_H, x:x + w]
    assert np.mean(np.ptp(depth.astype(int), axis=2) > 50) > 0.3


def test_snapshot_cli_says_what_is_wrong_in_one_line(ros, tmp_path, capsys):
    assert snapshot.main(["--node", "/nobody_here", "-o", str(tmp_path / "x.png"), "--timeout", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("oak_snapshot: no node /nobody_here")
