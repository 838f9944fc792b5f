"""The demo NN archives are what depthai (and luxonis-ml's schema) expect."""
from __future__ import annotations

import json
import tarfile

import depthai as dai
import pytest

import demo_models

KINDS = demo_models.MODEL_KINDS
SUFFIXES = (".tar.xz", ".tar.gz", ".tar")


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("kind", KINDS)
def test_archive_loads_offline(kind, suffix, model_dir):
    spec = demo_models.default_spec(kind)
    path = model_dir / f"{spec.name}{suffix}"
    archive = dai.NNArchive(str(path))
    assert archive.getModelType() == dai.ModelType.OTHER
    assert archive.getInputSize() == (spec.input_width, spec.input_height)
    assert bytes(archive.getOtherModelFormat()) == (model_dir / f"{spec.name}.onnx").read_bytes()
    model = archive.getConfigV1().model
    assert model.metadata.path == f"{spec.name}.onnx"
    assert [o.name for o in model.outputs] == list(spec.output_names)
    (head,) = model.heads
    assert head.parser == ("SSD" if kind == "ssd" else "YOLO")
    assert list(head.metadata.classes) == [c for c in spec.classes]


@pytest.mark.parametrize("kind", KINDS)
def test_archive_members_are_config_and_model(kind, model_dir):
    spec = demo_models.default_spec(kind)
    with tarfile.open(model_dir / f"{spec.name}.tar.xz") as tf:
        assert sorted(tf.getnames()) == sorted(["config.json", f"{spec.name}.onnx"])
        config = json.load(tf.extractfile("config.json"))
    assert config == demo_models.archive_config(spec)
    assert config["config_version"] == "1.0"
    inp = config["model"]["inputs"][0]
    assert inp["dtype"] == "uint8" and inp["layout"] == "NCHW"
    assert inp["preprocessing"]["dai_type"] == "BGR888p"


@pytest.mark.parametrize("kind", KINDS)
def test_detection_parser_takes_its_settings_from_the_archive(kind, model_dir):
    spec = demo_models.default_spec(kind)
    archive = dai.NNArchive(str(model_dir / f"{spec.name}.tar.xz"))
    pipeline = dai.Pipeline(False)
    parser = pipeline.create(dai.node.DetectionParser)
    parser.setNNArchive(archive)
    assert parser.getClasses() == list(spec.classes)
    assert parser.getNumClasses() == len(spec.classes)
    assert parser.getConfidenceThreshold() == pytest.approx(spec.conf_threshold)
    assert parser.getIouThreshold() == pytest.approx(spec.iou_threshold)
    if kind == "ssd":
        assert parser.getNNFamily() == dai.DetectionNetworkType.MOBILENET
    else:
        assert parser.getNNFamily() == dai.DetectionNetworkType.YOLO
        assert parser.getSubtype() == kind
        assert parser.getStrides() == list(demo_models.YOLO_STRIDES)
        assert parser.getCoordinateSize() == 4


def test_config_validates_against_luxonis_ml_schema():
    """luxonis-ml is optional (pydantic & co.); where installed, it must accept our configs."""
    config_mod = pytest.importorskip("luxonis_ml.nn_archive.config")
    for kind in KINDS:
        spec = demo_models.default_spec(kind)
        cfg = config_mod.Config(**demo_models.archive_config(spec))
        assert cfg.model.heads[0].parser == ("SSD" if kind == "ssd" else "YOLO")


def test_unknown_class_is_rejected():
    spec = demo_models.DemoModelSpec("ssd", "x", 320, 320, ("crate", "unicorn"))
    with pytest.raises(ValueError, match="unicorn"):
        demo_models.build_model(spec)


def test_input_size_must_fit_the_strides():
    spec = demo_models.DemoModelSpec("yolov5", "x", 400, 400, ("crate",))
    with pytest.raises(ValueError, match="multiple of 32"):
        demo_models.build_model(spec)
