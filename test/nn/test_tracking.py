"""depthai's ObjectTracker, run on the host, tracks the simulated scene's objects.

Frames come from the simulator (a moving scene seen by the OAK-D's colour camera);
detections either from the demo SSD detector (the real path: onnxruntime +
depthai's DetectionParser, boxes carrying the frame's ImgTransformation with
intrinsics) or from the renderer's ground-truth visible-pixel boxes (no
transformation: normalised to the frame). The scene has one object per class, so an
object's identity is its label. Tests of what happens after the tracker's fixed
lifespan (120 missed frames) use synthetic boxes, which need no rendering.
"""
from __future__ import annotations

import datetime
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("DEPTHAI_TELEMETRY", "0")

import depthai as dai  # noqa: E402

from depthai_ros_bridge.device.frames import make_frame  # noqa: E402
from depthai_ros_bridge.nn.runtime import OnnxDetector  # noqa: E402
from depthai_ros_bridge.nn.tracking import HostTracker, Track, TrackerError, tracks_from_tracklets  # noqa: E402
from depthai_ros_bridge.sim.render import Renderer  # noqa: E402
from depthai_ros_bridge.sim.rig import oakd_rig  # noqa: E402
from depthai_ros_bridge.sim.scene import Scene  # noqa: E402

MODEL = Path(__file__).resolve().parents[2] / "models" / "demo-colour-ssd.tar.xz"
N_FRAMES = 30
FPS = 30.0
W, H = 1280, 720
LIFESPAN = 120      # frames a TRACKED object stays LOST before it is REMOVED (depthai's default)


@dataclass(repr=False)
class Clip:
    frames: list[dai.ImgFrame]
    detected: list[dai.ImgDetections]        # demo SSD, with the frame's transformation + K
    truth: list[dict[int, tuple[float, float, float, float]]]   # label -> normalised GT box
    labels: tuple[int, ...]


@pytest.fixture(scope="module")
def clip() -> Clip:
    cam = oakd_rig((W, H), (640, 400)).rgb
    k = [[cam.fx, 0.0, cam.cx], [0.0, cam.fy, cam.cy], [0.0, 0.0, 1.0]]
    # motion_speed 20: boxes move up to ~14 px a frame, consecutive-frame IoU down to ~0.8
    renderer = Renderer(Scene(7, motion_speed=20.0))
    frames, detected, truth = [], [], []
    with OnnxDetector(MODEL) as detector:
        for i in range(N_FRAMES):
            res = renderer.render(cam, i / FPS)
            frames.append(make_frame(res.image, dai.ImgFrame.Type.BGR888i, 1000 + i, i / FPS))
            detected.append(detector.detect(res.image, 1000 + i, datetime.timedelta(seconds=i / FPS), k))
            truth.append({o.class_index: (b.x0 / W, b.y0 / H, b.x1 / W, b.y1 / H)
                          for o, b in zip(res.objects, res.boxes) if b is not None})
    labels = tuple(sorted(truth[0]))
    assert len(labels) == 4 and all(sorted(t) == list(labels) for t in truth)
    return Clip(frames, detected, truth, labels)


def make_det(label: int, confidence: float, box, name: str = "") -> dai.ImgDetection:
    d = dai.ImgDetection()
    d.label, d.confidence, d.labelName = label, confidence, name
    d.xmin, d.ymin, d.xmax, d.ymax = (float(v) for v in box)
    return d


def truth_dets(clip: Clip, i: int, drop=(), confidence=None) -> dai.ImgDetections:
    """Ground-truth detections of frame i (no transformation), without labels in ``drop``;
    ``confidence`` maps label -> confidence (default 0.9)."""
    out = dai.ImgDetections()
    out.detections = [make_det(k, (confidence or {}).get(k, 0.9), box)
                      for k, box in clip.truth[i].items() if k not in drop]
    out.setSequenceNum(clip.frames[i].getSequenceNum())
    out.setTimestamp(clip.frames[i].getTimestamp())
    return out


def edited(dets: dai.ImgDetections, drop=(), confidence=None) -> dai.ImgDetections:
    """A copy of detector output without labels in ``drop``, confidences replaced per label."""
    out = dai.ImgDetections()
    out.detections = [make_det(d.label, (confidence or {}).get(d.label, d.confidence),
                               (d.xmin, d.ymin, d.xmax, d.ymax), d.labelName)
                      for d in dets.detections if d.label not in drop]
    out.setTransformation(dets.getTransformation())
    out.setSequenceNum(dets.getSequenceNum())
    out.setTimestamp(dets.getTimestamp())
    return out


def plain(tracker: HostTracker, frame, detections) -> list[Track]:
    return tracks_from_tracklets(tracker.track(frame, detections))


def synthetic(i: int, labels=(0, 1, 2, 3), drop=()) -> dai.ImgDetections:
    """Frame i of four well separated boxes drifting right, normalised to the frame."""
    out = dai.ImgDetections()
    out.detections = [make_det(k, 0.9, (0.05 + 0.22 * k + 0.0005 * i, 0.3, 0.2 + 0.22 * k + 0.0005 * i, 0.6))
                      for k in labels if k not in drop]
    out.setSequenceNum(i)
    out.setTimestamp(datetime.timedelta(seconds=i / FPS))
    return out


def run_synthetic(tracker: HostTracker, n_frames: int, drop_for) -> list[dict[int, Track]]:
    """Track `n_frames` synthetic frames, without the labels `drop_for(i)`; per frame, label -> track."""
    return [{t.label: t for t in plain(tracker, (W, H), synthetic(i, drop=drop_for(i)))}
            for i in range(n_frames)]


def run(tracker: HostTracker, clip: Clip, dets_for) -> list[dict[int, Track]]:
    """Track every frame; per frame, label -> its (single) track."""
    history = []
    for i, frame in enumerate(clip.frames):
        tracks = tracks_from_tracklets(tracker.track(frame, dets_for(i)))
        by_label = {t.label: t for t in tracks}
        assert len(by_label) == len(tracks), f"frame {i}: two tracks share a label: {tracks}"
        history.append(by_label)
    return history


def test_each_detected_object_keeps_one_id_and_goes_new_then_tracked(clip, helpers):
    with HostTracker(max_tracklets=20, confidence_threshold=0.5) as tracker:
        results = [tracker.track(f, d) for f, d in zip(clip.frames, clip.detected)]
    ids = {}
    for i, (frame, result) in enumerate(zip(clip.frames, results)):
        assert result.getSequenceNum() == frame.getSequenceNum()
        assert result.getTimestamp() == frame.getTimestamp()
        t = result.getTransformation()
        assert t.getSize() == (W, H)
        np.testing.assert_allclose(t.getSourceIntrinsicMatrix(),
                                   clip.detected[i].getTransformation().getSourceIntrinsicMatrix())
        tracks = tracks_from_tracklets(result)
        assert sorted(tr.label for tr in tracks) == list(clip.labels)
        detected = {d.label: d for d in clip.detected[i].detections}
        for tr in tracks:
            ids.setdefault(tr.label, set()).add(tr.id)
            # birth threshold 3: NEW on the first two frames, TRACKED from the third on
            assert tr.status == ("NEW" if i < 2 else "TRACKED"), (i, tr)
            assert tr.age == i + 1
            assert helpers.iou(tr.box_norm, clip.truth[i][tr.label]) > 0.7, (i, tr)
            d = detected[tr.label]
            # the ROI is the matched detection's box, in the frame (same size here)
            np.testing.assert_allclose(tr.box_norm, (d.xmin, d.ymin, d.xmax, d.ymax), atol=2e-3)
            assert tr.confidence == pytest.approx(d.confidence)
            assert tr.label_name == d.labelName != ""
            assert tr.spatial_mm is None
    assert all(len(s) == 1 for s in ids.values()), ids
    assert len({next(iter(s)) for s in ids.values()}) == len(clip.labels)


def test_ground_truth_detections_without_transformation_are_normalised_to_the_frame(clip):
    with HostTracker() as tracker:
        history = run(tracker, clip, lambda i: truth_dets(clip, i))
    ids = {k: {h[k].id for h in history} for k in clip.labels}
    assert all(len(s) == 1 for s in ids.values()), ids
    for i, h in enumerate(history):
        for k, tr in h.items():
            np.testing.assert_allclose(tr.box_norm, clip.truth[i][k], atol=1e-3)


def test_frame_as_size_takes_sequence_number_and_time_from_the_detections(clip):
    with HostTracker() as tracker:
        result = tracker.track((W, H), clip.detected[3])
    assert result.getSequenceNum() == clip.detected[3].getSequenceNum()
    assert result.getTimestamp() == clip.detected[3].getTimestamp()
    assert len(result.tracklets) == len(clip.labels)


def test_object_whose_detections_stop_is_lost_then_removed():
    gone, stop = 1, 10
    with HostTracker() as tracker:
        history = run_synthetic(tracker, stop + LIFESPAN + 3, lambda i: (gone,) if i >= stop else ())
    last = history[stop - 1][gone]
    assert last.status == "TRACKED"
    for i in range(stop, stop + LIFESPAN):          # LOST for the lifespan, box frozen
        tr = history[i][gone]
        assert (tr.id, tr.status, tr.box_norm) == (last.id, "LOST", last.box_norm), (i, tr)
    assert history[stop + LIFESPAN][gone].status == "REMOVED"   # reported once ...
    assert history[stop + LIFESPAN][gone].id == last.id
    assert all(gone not in h for h in history[stop + LIFESPAN + 1:])   # ... then dropped
    for k in (0, 2, 3):                             # the others are unaffected
        assert {h[k].id for h in history} == {history[0][k].id}
        assert all(h[k].status == "TRACKED" for h in history[2:])


def test_lost_object_seen_again_in_time_keeps_its_id(clip):
    gone = clip.labels[2]
    missing = range(10, 13)
    with HostTracker() as tracker:
        history = run(tracker, clip, lambda i: edited(clip.detected[i], drop=(gone,) if i in missing else ()))
    assert [history[i][gone].status for i in missing] == ["LOST"] * 3
    assert {h[gone].id for h in history} == {history[0][gone].id}
    assert all(h[gone].status == "TRACKED" for h in history[13:])


def test_new_object_missed_once_is_removed_at_once_and_comes_back_with_a_new_id(clip):
    blinker = clip.labels[0]
    with HostTracker() as tracker:     # birth threshold 3: still NEW on frame 1
        history = run(tracker, clip, lambda i: edited(clip.detected[i], drop=(blinker,) if i == 2 else ()))
    first = history[0][blinker].id
    assert history[1][blinker].status == "NEW"
    assert (history[2][blinker].id, history[2][blinker].status) == (first, "REMOVED")
    assert history[3][blinker].status == "NEW" and history[3][blinker].id != first
    assert history[5][blinker].status == "TRACKED"


def test_max_tracklets_caps_the_count_and_a_removed_tracklet_frees_its_slot(clip):
    with HostTracker(max_tracklets=2) as tracker:
        history = run(tracker, clip, lambda i: clip.detected[i])
    assert all(len(h) == 2 for h in history)
    kept = set(history[0])
    assert all(set(h) == kept for h in history)                       # no churn
    assert all(len({h[k].id for h in history}) == 1 for k in kept)


def test_a_removed_tracklet_frees_its_slot_for_an_object_left_out():
    with HostTracker(max_tracklets=3) as tracker:
        first = plain(tracker, (W, H), synthetic(0))
        assert len(first) == 3
        untracked = ({0, 1, 2, 3} - {t.label for t in first}).pop()
        gone = first[0].label
        history = [{t.label: t.status for t in first}]
        for i in range(1, LIFESPAN + 10):
            tracks = plain(tracker, (W, H), synthetic(i, drop=(gone,) if i >= 3 else ()))
            assert len([t for t in tracks if t.status != "REMOVED"]) <= 3
            history.append({t.label: t.status for t in tracks})
    # LOST on frames 3 .. LIFESPAN + 2; REMOVED on the next, which frees the slot for the
    # object left out so far, on that very frame
    removed = 3 + LIFESPAN
    assert [h.get(gone) for h in history[3:removed + 2]] == ["LOST"] * LIFESPAN + ["REMOVED", None]
    assert all(untracked not in h for h in history[:removed])
    assert [history[i][untracked] for i in range(removed, removed + 3)] == ["NEW", "NEW", "TRACKED"]


def test_detections_below_the_tracker_threshold_are_not_tracked(clip):
    low, edge, fading = clip.labels[0], clip.labels[1], clip.labels[2]

    def dets(i):
        conf = {low: 0.49, edge: 0.5}
        if i >= 8:
            conf[fading] = 0.3
        return edited(clip.detected[i], confidence=conf)

    with HostTracker(confidence_threshold=0.5) as tracker:
        history = run(tracker, clip, dets)
    assert all(low not in h for h in history)
    assert all(h[edge].status == "TRACKED" for h in history[2:])        # >= threshold is tracked
    assert history[7][fading].status == "TRACKED"
    assert history[8][fading].status == "LOST"                          # below it: as if absent
    before = next(d.confidence for d in clip.detected[7].detections if d.label == fading)
    assert history[8][fading].confidence == pytest.approx(before)      # the last matched one

    with HostTracker(confidence_threshold=0.0) as tracker:              # 0: everything
        assert len(tracker.track(clip.frames[0], dets(0)).tracklets) == len(clip.labels)


def test_an_object_back_after_removal_gets_a_new_id_never_used_before():
    gone, back = 0, 4 + LIFESPAN + 2

    def dropped(i):     # missing from frame 4: LOST for the lifespan, then REMOVED; back after that
        return (gone,) if 4 <= i < back else ()

    with HostTracker() as tracker:
        history = run_synthetic(tracker, back + 3, dropped)
    before = {h[gone].id for h in history[:4 + LIFESPAN + 1]}
    after = {h[gone].id for h in history[back:]}
    assert len(before) == len(after) == 1
    assert [history[i][gone].status for i in (4, 4 + LIFESPAN, back)] == ["LOST", "REMOVED", "NEW"]
    others = {history[0][k].id for k in (1, 2, 3)}
    assert sorted(others | before) == [0, 1, 2, 3]
    assert after == {4}                 # UNIQUE_ID: never reused


def test_spatial_detections_carry_their_coordinates(clip):
    sd = dai.SpatialImgDetections()
    items = []
    for k, box in clip.truth[0].items():
        d = dai.SpatialImgDetection()
        d.label, d.confidence = k, 0.9
        d.xmin, d.ymin, d.xmax, d.ymax = box
        d.spatialCoordinates = dai.Point3f(100.0 * k, -50.0, 2500.0 + k)
        items.append(d)
    sd.detections = items
    with HostTracker() as tracker:
        tracks = plain(tracker, clip.frames[0], sd)
    assert {t.label: t.spatial_mm for t in tracks} == {k: (100.0 * k, -50.0, 2500.0 + k) for k in clip.truth[0]}


def test_bad_inputs_are_rejected_before_reaching_the_tracker(clip):
    f0, d0 = clip.frames[0], clip.detected[0]
    with HostTracker() as tracker:
        nan = edited(d0)
        nan.detections = [make_det(1, 0.9, (math.nan, 0.1, 0.3, 0.4))]
        with pytest.raises(ValueError, match="non-finite"):
            tracker.track(f0, nan)
        pixels = edited(d0)
        pixels.detections = [make_det(1, 0.9, (64, 40, 192, 160))]
        with pytest.raises(ValueError, match="not normalised"):
            tracker.track(f0, pixels)
        with pytest.raises(TypeError, match="detections"):
            tracker.track(f0, dai.NNData())
        with pytest.raises(TypeError, match="frame"):
            tracker.track(np.zeros((H, W, 3), np.uint8), d0)
        # detections made on another image size, the frame saying nothing about it
        other = edited(d0)
        other.setTransformation(dai.ImgTransformation(640, 360))
        with pytest.raises(ValueError, match="source size"):
            tracker.track(f0, other)
        # intrinsics on one side only: depthai would remap the boxes off the frame
        no_k = make_frame(np.zeros((H, W, 3), np.uint8), dai.ImgFrame.Type.BGR888i, 0, 0.0)
        no_k.setTransformation(dai.ImgTransformation(W, H))
        with pytest.raises(ValueError, match="intrinsics"):
            tracker.track(no_k, d0)
        # none of that reached the node: the first real frame starts the tracks
        assert [t.status for t in plain(tracker, f0, d0)] == ["NEW"] * len(clip.labels)
        with pytest.raises(ValueError, match="frame size"):
            tracker.track((640, 360), truth_dets(clip, 1))
        assert tracker.usable
        tracks = plain(tracker, clip.frames[1], clip.detected[1])
        assert [t.age for t in tracks] == [2] * len(clip.labels)
    for bad in ({"max_tracklets": 0}, {"max_tracklets": 1001}, {"max_tracklets": True},
                {"confidence_threshold": 1.5}, {"confidence_threshold": -0.1}, {"timeout_s": 0}):
        with pytest.raises(ValueError):
            HostTracker(**bad)


def test_closed_or_stopped_tracker_raises_instead_of_hanging(clip):
    tracker = HostTracker()
    tracker.track(clip.frames[0], clip.detected[0])
    tracker.close()
    tracker.close()                                    # idempotent
    with pytest.raises(TrackerError, match="closed"):
        tracker.track(clip.frames[1], clip.detected[1])

    with HostTracker(timeout_s=1.0) as tracker:
        tracker._pipeline.stop()                       # the node dies under it
        with pytest.raises(TrackerError, match="stopped|in time"):
            tracker.track(clip.frames[0], clip.detected[0])
        assert not tracker.usable
        with pytest.raises(TrackerError, match="unusable"):
            tracker.track(clip.frames[1], clip.detected[1])


def test_tracks_from_tracklets_is_a_plain_conversion():
    t = dai.Tracklet()
    t.id, t.label, t.age = 7, 2, 4
    t.status = dai.Tracklet.TrackingStatus.LOST
    t.roi = dai.Rect(0.1, 0.2, 0.3, 0.4)
    src = make_det(2, 0.75, (0.1, 0.2, 0.4, 0.6), "barrel")
    t.srcImgDetection = src
    u = dai.Tracklet()
    u.id, u.status = 3, dai.Tracklet.TrackingStatus.NEW
    msg = dai.Tracklets()
    msg.tracklets = [t, u]
    tracks = tracks_from_tracklets(msg)
    assert [tr.id for tr in tracks] == [3, 7]                 # sorted by id
    tr = tracks[1]
    assert (tr.id, tr.status, tr.label, tr.age, tr.label_name, tr.spatial_mm) == (7, "LOST", 2, 4, "barrel", None)
    assert tr.box_norm == pytest.approx((0.1, 0.2, 0.4, 0.6))
    assert tr.confidence == pytest.approx(0.75)
    assert tracks_from_tracklets([t]) == [tr]
