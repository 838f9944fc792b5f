"""depthai's DetectionParser, run on the host, decodes the demo models' outputs."""
from __future__ import annotations

import datetime

import depthai as dai
import numpy as np
import pytest

import demo_models
from depthai_ros_bridge.nn.decode import DecodeError, HostDecoder
from depthai_ros_bridge.nn.runtime import OnnxDetector

KINDS = demo_models.MODEL_KINDS


@pytest.fixture(scope="module")
def decoders(model_dir):
    decs = {k: HostDecoder(model_dir / f"{demo_models.default_spec(k).name}.tar.xz") for k in KINDS}
    yield decs
    for d in decs.values():
        d.close()


def _as_tuples(dets: dai.ImgDetections):
    return sorted((d.label, d.confidence, (d.xmin, d.ymin, d.xmax, d.ymax)) for d in dets.detections)


@pytest.mark.parametrize("kind", KINDS)
def test_parser_matches_reference_decode(kind, decoders, sessions, helpers):
    spec, _ = sessions[kind]
    for seed in range(4):
        scene = helpers.draw_scene(200 + seed, 960, 540)
        outputs = helpers.run_model(sessions, kind, scene.image)
        got = _as_tuples(decoders[kind].decode(outputs))
        want = sorted(helpers.reference_decode(spec, outputs, spec.conf_threshold))
        assert [g[0] for g in got] == [w[0] for w in want]
        assert len(got) == len(scene.boxes)
        for g, w in zip(got, want):
            assert g[1] == pytest.approx(w[1], abs=1e-5)
            np.testing.assert_allclose(g[2], w[2], atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_label_names_metadata_and_transformation_are_carried(kind, decoders, sessions, helpers):
    scene = helpers.draw_scene(1, 960, 540)
    outputs = helpers.run_model(sessions, kind, scene.image)
    spec, _ = sessions[kind]
    t = dai.ImgTransformation(960, 540)
    t.addScale(spec.input_width / 960, spec.input_height / 540)
    dets = decoders[kind].decode(outputs, t, sequence_num=42, timestamp=datetime.timedelta(seconds=3))
    assert dets.getSequenceNum() == 42
    assert dets.getTimestamp() == datetime.timedelta(seconds=3)
    assert dets.getTransformation().getSourceSize() == (960, 540)
    assert sorted(d.labelName for d in dets.detections) == sorted(spec.classes)


def test_outputs_by_name_or_by_order_are_equivalent(decoders, sessions, helpers):
    scene = helpers.draw_scene(2, 960, 540)
    outputs = helpers.run_model(sessions, "yolov5", scene.image)
    spec, _ = sessions["yolov5"]
    by_name = dict(zip(spec.output_names, outputs))
    assert _as_tuples(decoders["yolov5"].decode(by_name)) == _as_tuples(decoders["yolov5"].decode(outputs))


def test_bad_outputs_are_rejected_before_reaching_the_parser(decoders, sessions, helpers):
    dec = decoders["yolov6r2"]
    good = helpers.run_model(sessions, "yolov6r2", helpers.draw_scene(3, 640, 480).image)
    with pytest.raises(DecodeError, match="shape"):
        dec.decode([good[0][:, :5], good[1], good[2]])
    with pytest.raises(DecodeError, match="expected 3 outputs"):
        dec.decode(good[:2])
    nan = good[0].copy()
    nan[0, 0, 0, 0] = np.nan
    with pytest.raises(DecodeError, match="non-finite"):
        dec.decode([nan, good[1], good[2]])
    with pytest.raises(ValueError, match="input size"):
        dec.decode(good, dai.ImgTransformation(640, 480))
    assert dec.usable
    assert len(dec.decode(good).detections) == 4


def test_a_stopped_parser_raises_instead_of_hanging(model_dir):
    """Bypassing validation with a tensor the parser cannot read stops its node."""
    dec = HostDecoder(model_dir / "demo-colour-yolov6r2.tar.xz", timeout_s=2.0)
    try:
        nn = dai.NNData()
        for name, shape in zip(dec.info.outputs, demo_models.default_spec("yolov6r2").output_shapes):
            nn.addTensor(name.name, np.zeros(shape, np.float32))     # [1,C,H,W]: stride 0 on N
        nn.setTransformation(dai.ImgTransformation(416, 416))
        dec._in.send(nn)
        with pytest.raises(DecodeError):
            dec.decode([np.zeros(s, np.float32) for s in demo_models.default_spec("yolov6r2").output_shapes])
        assert not dec.usable
    finally:
        dec.close()


def test_reference_and_parser_stop_at_the_ssd_end_marker(decoders, helpers):
    """Rows after the first image_id -1 are not detections, for the reference decoder and for depthai."""
    rows = np.zeros((1, 1, 100, 7), np.float32)
    rows[0, 0, :, 0] = -1
    rows[0, 0, :4] = [[0, 1, 0.9, .1, .1, .2, .2], [0, 2, 0.2, .1, .1, .2, .2],
                      [-1, 0, 0, 0, 0, 0, 0], [0, 3, 0.9, .3, .3, .4, .4]]
    want = [(1, pytest.approx(0.9), pytest.approx((.1, .1, .2, .2)))]
    assert helpers.reference_decode(demo_models.default_spec("ssd"), [rows], 0.5) == want
    assert _as_tuples(decoders["ssd"].decode([rows])) == want


@pytest.mark.parametrize("kind", KINDS)
def test_onnx_detector_end_to_end(kind, model_dir, helpers):
    spec = demo_models.default_spec(kind)
    scene = helpers.draw_scene(9, 1280, 720, size_range=(60, 200))
    with OnnxDetector(model_dir / f"{spec.name}.tar.xz") as det:
        x = det.preprocess(scene.image)
        assert x.shape == (1, 3, spec.input_height, spec.input_width) and x.dtype == np.uint8
        dets = det.detect(scene.image, sequence_num=5)
    assert dets.getSequenceNum() == 5
    assert dets.getTransformation().getSourceSize() == (1280, 720)
    got = {d.label: (d.xmin * 1280, d.ymin * 720, d.xmax * 1280, d.ymax * 720) for d in dets.detections}
    assert set(got) == set(scene.boxes)
    for k, box in got.items():
        assert helpers.iou(box, scene.boxes[k]) >= 0.75
