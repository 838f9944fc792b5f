"""Deploy requests: every loose field bounded, archives decode as their config.json says."""
from __future__ import annotations

import array
import hashlib
import json
from pathlib import Path

import pytest

from depthai_ros_bridge.nn.deployment import DeployError, build_deployment
from depthai_ros_bridge.nn.model_store import ModelStore

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
YOLO_ARCHIVE, SSD_ARCHIVE = MODELS / "demo-colour-yolov5.tar.xz", MODELS / "demo-colour-ssd.tar.xz"


@pytest.fixture
def store(tmp_path):
    return ModelStore([MODELS], tmp_path / "cache", max_model_bytes=64 * 1024 * 1024)


@pytest.fixture
def deploy(store, tmp_path):
    def run(**request):
        return build_deployment("rgb", request, tmp_path, store=store)
    return run


@pytest.fixture(scope="module")
def yolo_config() -> str:
    """The Robopipe nn_config equivalent of the YOLO archive (what <stream>.nn.config shows)."""
    meta = json.loads(__import__("tarfile").open(YOLO_ARCHIVE).extractfile("config.json").read())
    head = meta["model"]["heads"][0]["metadata"]
    return json.dumps({"type": "YOLO", "nn_config": {
        "num_classes": head["n_classes"], "anchors": [v for layer in head["anchors"] for p in layer for v in p],
        "iou_threshold": head["iou_threshold"], "confidence_threshold": head["conf_threshold"]}})


def refused(deploy, **request) -> str:
    with pytest.raises(DeployError) as e:
        deploy(**request)
    assert len(str(e.value)) <= 1000
    return str(e.value)


def test_an_archive_decodes_as_its_config_says(deploy):
    d = deploy(model=str(YOLO_ARCHIVE))
    assert d.decoding == "archive" and d.overrides == ()
    assert d.config.type == "YOLO" and d.config.num_classes == 4 and len(d.config.anchors) == 18
    assert d.labels == ("crate", "ball", "barrel", "cone")
    assert d.source == str(YOLO_ARCHIVE)
    assert d.describe() == f"YOLO network {YOLO_ARCHIVE} on rgb, decoded as the archive's config.json says"


def test_only_compatible_nn_config_is_accepted_over_an_archive(deploy):
    shown = deploy(model=str(YOLO_ARCHIVE)).config.to_json()
    again = deploy(model=str(YOLO_ARCHIVE), nn_config=shown)          # what the parameter shows round-trips
    assert again.config == deploy(model=str(YOLO_ARCHIVE)).config and again.overrides == ()
    tuned = deploy(model=str(YOLO_ARCHIVE), nn_config=json.dumps(
        {"num_inference_threads": 1, "nn_config": {"confidence_threshold": 0.3}}))
    assert tuned.config.confidence_threshold == 0.3 and tuned.config.num_inference_threads == 1
    assert tuned.config.iou_threshold == 0.5 and len(tuned.config.anchors) == 18
    assert tuned.overrides == ("confidence_threshold", "num_inference_threads")
    assert "nn_config sets confidence_threshold=0.3, num_inference_threads=1" in tuned.describe()
    message = refused(deploy, model=str(YOLO_ARCHIVE), nn_config=json.dumps({"type": "MobileNet"}))
    assert "conflicts with the archive, whose config.json decodes YOLO" in message
    message = refused(deploy, model=str(YOLO_ARCHIVE), nn_config=json.dumps({"nn_config": {"iou_threshold": 0.2}}))
    assert "nn_config.nn_config.iou_threshold conflicts with the archive's config.json" in message
    message = refused(deploy, model=str(SSD_ARCHIVE), nn_config=json.dumps({"nn_config": {"num_classes": 3}}))
    assert "unknown field(s) 'num_classes'" in message


def test_a_bare_model_decodes_as_its_nn_config_says(deploy, yolo_config):
    d = deploy(model=str(MODELS / "demo-colour-yolov5.onnx"), nn_config=yolo_config)
    assert d.decoding == "nn_config" and d.config.type == "YOLO" and d.package.archive is None
    assert "decoded as nn_config says" in d.describe()
    assert "nn_config is required" in refused(deploy, model=str(MODELS / "demo-colour-yolov5.onnx"))


@pytest.mark.parametrize("labels, reason", [
    ("abcd", "labels must be an array of strings, got str"),
    ([f"c{i}" for i in range(1001)], "labels has 1001 entries, over the limit of 1000"),
    (["ok", "x" * 257], "labels[1] is 257 characters, over the limit of 256"),
    (["ok", 3], "labels[1] must be a string, got int"),
])
def test_labels_must_be_a_bounded_string_array(deploy, labels, reason):
    assert refused(deploy, model=str(YOLO_ARCHIVE), labels=labels) == reason


def test_labels_rename_the_classes_and_must_match_their_count(deploy):
    assert deploy(model=str(YOLO_ARCHIVE), labels=["a", "b", "c", "d"]).labels == ("a", "b", "c", "d")
    assert "labels has 2 names but the network has 4 classes" in refused(deploy, model=str(YOLO_ARCHIVE),
                                                                          labels=["a", "b"])


@pytest.mark.parametrize("text, reason", [
    ('{"type": "YOLO", "nn_config": {"num_classes": 4, "confidence_threshold": NaN}}', "NaN is not a number"),
    ('{"type": "YOLO", "nn_config": {"num_classes": 4, "iou_threshold": Infinity}}', "Infinity is not a number"),
    ('{"type": "YOLO", "nn_config": {"num_classes": 4, "anchors": [-Infinity, 1]}}', "-Infinity is not a number"),
    ('{"type": "YOLO", "nn_config": {"num_classes": 4, "confidence_threshold": 1e999}}', "1e999 is out of range"),
    ('{"type": "YOLO", "num_inference_threads": 1000000000000000000000000000000, "nn_config": {"num_classes": 4}}',
     "num_inference_threads must be an integer in [1, 8]"),
    ('{"type": "YOLO", "num_inference_threads": 9, "nn_config": {"num_classes": 4}}',
     "num_inference_threads must be an integer in [1, 8]"),
    ('{"type": "YOLO", "nn_config": {"num_classes": 4, "confidence_threshold": 1.5}}',
     "confidence_threshold must be in [0, 1]"),
    ('{"type": "YOLO", "nn_config": {"num_classes": 100000}}', "num_classes must be an integer in [1, 1000]"),
    (json.dumps({"type": "YOLO", "nn_config": {"num_classes": 4, "anchors": [10.0] * 200}}),
     "anchors must be a flat list of at most 64"),
    ('{"type": "YOLO", "num_inference_threads": ' + "9" * 5000 + "}", "not usable JSON"),
    ("[" * 50_000 + "]" * 50_000, "over the 65536 limit"),
    ("[" * 30_000 + "]" * 30_000, "nn_config"),
    ('{"type": "' + "Y" * 70_000 + '"}', "over the 65536 limit"),
])
def test_nn_config_is_strict_json_with_bounded_values(deploy, text, reason):
    message = refused(deploy, model=str(MODELS / "demo-colour-yolov5.onnx"), nn_config=text)
    assert reason in message


def test_request_fields_are_type_checked_and_errors_short(deploy):
    assert "unknown field(s)" in refused(deploy, model=str(YOLO_ARCHIVE), evil="x")
    assert "model must be a string, got int" in refused(deploy, model=42)
    assert "nn_config must be a string, got dict" in refused(deploy, model=str(YOLO_ARCHIVE), nn_config={})
    assert "model_data must be bytes, got list" in refused(deploy, model_data=[b"\x08"])
    assert "model_data must be bytes, got str" in refused(deploy, model_data="abc")
    assert "resize_mode must be one of" in refused(deploy, model=str(YOLO_ARCHIVE), resize_mode="x" * 10_000)
    assert "not both" in refused(deploy, model=str(YOLO_ARCHIVE), model_data=b"\x08")
    assert "no model" in refused(deploy)
    message = refused(deploy, model="/etc/shadow")
    assert "outside the allowed model directories" in message and "nn.allowed_model_dirs" in message


def test_an_upload_is_deployed_from_its_file_in_the_cache(deploy, store):
    data = SSD_ARCHIVE.read_bytes()
    d = deploy(model_data=array.array("B", data))          # as rclpy delivers a uint8[] field
    cached = store.cache_dir / f"{hashlib.sha256(data).hexdigest()}.tar.xz"
    assert d.source == str(cached) and cached.read_bytes() == data
    assert d.decoding == "archive" and d.config.type == "MobileNet"
    again = deploy(model=d.source)                           # cleanup + configure redeploys exactly it
    assert again.package.model == d.package.model and again.source == d.source


def test_uploads_are_capped_and_identified_without_echo(tmp_path):
    small = ModelStore([MODELS], tmp_path / "cache", max_model_bytes=1000)
    with pytest.raises(DeployError, match=r"model_data is 2000 bytes, over nn.max_model_bytes \(1000\)"):
        build_deployment("rgb", {"model_data": b"\x08" * 2000, "nn_config": "{}"}, tmp_path, store=small)
    with pytest.raises(DeployError) as e:
        build_deployment("rgb", {"model_data": b"\xde\xad\xbe\xef" * 10}, tmp_path, store=small)
    assert "neither an NN archive" in str(e.value) and "deadbeef" not in str(e.value)
