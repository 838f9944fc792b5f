"""The constructed demo networks detect the scene's classes from pixels."""
from __future__ import annotations

import numpy as np
import onnx
import pytest

import demo_models
from depthai_ros_bridge.sim.classes import CLASSES

KINDS = demo_models.MODEL_KINDS


def _match(dets, gt, helpers):
    """Best detection per ground-truth label: {label: (iou, confidence)}; and false positives."""
    found, false_pos = {}, []
    for k, conf, box in sorted(dets, key=lambda d: -d[1]):
        if k in gt and k not in found:
            found[k] = (helpers.iou(box, gt[k]), conf)
        else:
            false_pos.append((k, conf, box))
    return found, false_pos


def test_generation_is_deterministic(tmp_path):
    first = demo_models.generate(tmp_path / "a", compressions=("xz", "gz", ""))
    second = demo_models.generate(tmp_path / "b", compressions=("xz", "gz", ""))
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_cli_writes_models_and_archives(tmp_path):
    assert demo_models.main([str(tmp_path), "--kinds", "ssd", "--compression", "xz", "gz"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "demo-colour-ssd.onnx", "demo-colour-ssd.tar.gz", "demo-colour-ssd.tar.xz"]


@pytest.mark.parametrize("kind", KINDS)
def test_model_io_matches_spec(kind, model_dir, sessions):
    spec, sess = sessions[kind]
    model = onnx.load(str(model_dir / f"{spec.name}.onnx"))
    onnx.checker.check_model(model, full_check=True)
    (inp,) = sess.get_inputs()
    assert (inp.name, inp.type, inp.shape) == (
        "images", "tensor(uint8)", [1, 3, spec.input_height, spec.input_width])
    outs = sess.get_outputs()
    assert [o.name for o in outs] == list(spec.output_names)
    assert [tuple(o.shape) for o in outs] == list(spec.output_shapes)
    assert all(o.type == "tensor(float)" for o in outs)
    assert (model_dir / f"{spec.name}.onnx").stat().st_size < 200_000


def test_output_shapes_of_the_shipped_specs():
    assert demo_models.default_spec("ssd").output_shapes == ((1, 1, 100, 7),)
    assert demo_models.default_spec("yolov5").output_shapes == (
        (1, 27, 52, 52), (1, 27, 26, 26), (1, 27, 13, 13))
    assert demo_models.default_spec("yolov6r2").output_shapes == (
        (1, 9, 52, 52), (1, 9, 26, 26), (1, 9, 13, 13))


@pytest.mark.parametrize("kind", KINDS)
def test_detects_every_class_with_tight_boxes(kind, sessions, helpers):
    ious = []
    for seed in range(8):
        scene = helpers.draw_scene(seed, 960, 540, size_range=(45, 160))
        found, false_pos = _match(helpers.detections_px(sessions, kind, scene.image), scene.boxes, helpers)
        assert set(found) == set(scene.boxes), f"seed {seed}: missed {set(scene.boxes) - set(found)}"
        assert not false_pos, f"seed {seed}: false positives {false_pos}"
        for k, (iou, conf) in found.items():
            assert iou >= 0.5, f"seed {seed} {CLASSES[k].label}: IoU {iou:.2f}"
            assert conf >= 0.5, f"seed {seed} {CLASSES[k].label}: confidence {conf:.2f}"
            ious.append(iou)
    assert np.mean(ious) >= 0.8


@pytest.mark.parametrize("kind", KINDS)
def test_absent_classes_stay_below_threshold(kind, sessions, helpers):
    for seed, present in enumerate([[], [0], [1, 3], [2]]):
        scene = helpers.draw_scene(50 + seed, 960, 540, present=present)
        dets = helpers.detections_px(sessions, kind, scene.image, conf_threshold=0.3)
        assert {k for k, _, _ in dets} == set(present), f"present {present}, got {dets}"


@pytest.mark.parametrize("kind", KINDS)
def test_robust_to_brightness_and_noise(kind, sessions, helpers):
    scene = helpers.draw_scene(7, 960, 540, size_range=(60, 140))
    rng = np.random.default_rng(0)
    for gain, sigma in ((0.55, 0.0), (1.0, 8.0), (0.7, 5.0)):
        img = np.clip(scene.image.astype(np.float32) * gain + rng.normal(0, sigma, scene.image.shape),
                      0, 255).astype(np.uint8)
        found, false_pos = _match(helpers.detections_px(sessions, kind, img), scene.boxes, helpers)
        assert set(found) == set(scene.boxes) and not false_pos, (gain, sigma)
        assert min(iou for iou, _ in found.values()) >= 0.6, (gain, sigma, found)


@pytest.mark.parametrize("kind", KINDS)
def test_separate_instances_of_one_class_are_separate_detections(kind, sessions, helpers):
    rng = np.random.default_rng(3)
    img = np.clip(rng.normal(150, 6, (480, 640, 3)), 0, 255).astype(np.uint8)
    colour = tuple(int(v) for v in CLASSES[2].bgr)
    import cv2
    boxes = [(60, 80, 180, 300), (400, 200, 520, 420)]
    for x0, y0, x1, y1 in boxes:
        cv2.rectangle(img, (x0, y0), (x1 - 1, y1 - 1), colour, -1)
    dets = helpers.detections_px(sessions, kind, img)
    assert [k for k, _, _ in dets] == [2, 2]
    for gt in boxes:
        assert max(helpers.iou(gt, d[2]) for d in dets) >= 0.9


def test_rendered_scene_frames(sessions, helpers):
    """The real renderer's frames (1280x720): every visible object found, boxes tight."""
    render = pytest.importorskip("depthai_ros_bridge.sim.render")
    from depthai_ros_bridge.sim.rig import oakd_rig
    from depthai_ros_bridge.sim.scene import Scene

    rig = oakd_rig((1280, 720), (640, 400))
    for kind in KINDS:
        ious = []
        for seed in range(4):
            renderer = render.Renderer(Scene(seed))
            for t in (0.0, 3.3):
                frame = renderer.render(rig.rgb, t)
                gt = {o.class_index: (b.x0, b.y0, b.x1, b.y1)
                      for o, b in zip(frame.objects, frame.boxes) if b is not None and b.pixels > 50}
                found, false_pos = _match(helpers.detections_px(sessions, kind, frame.image), gt, helpers)
                assert set(found) == set(gt) and not false_pos, (kind, seed, t, found, false_pos)
                ious += [iou for iou, _ in found.values()]
        assert min(ious) >= 0.75, (kind, min(ious))
        assert np.mean(ious) >= 0.9, (kind, np.mean(ious))
