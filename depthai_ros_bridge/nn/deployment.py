"""A deploy request -> a checked, device-independent description of the network to run.

Every field of the request is untrusted: its type, size and values are checked, the model is
read through a ModelStore (allow-list, size and time limits), and errors are short and name
the field. An NN archive's config.json decides how its outputs decode; an nn_config sent with
an archive may only change what the device actually applies over the archive
(`confidence_threshold`, `num_inference_threads`) — any other field must agree with the
archive, else the request is refused. `Deployment.decoding` / `describe()` say which it is.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .mapping import RESIZE_MODES
from .model_source import ModelError, ModelPackage, load_package, upload_suffix
from .model_store import ModelStore, clip, shown
from .nnconfig import (
    MAX_ANCHOR_PX,
    MAX_ANCHOR_VALUES,
    MAX_CLASSES,
    NNConfig,
    NNConfigError,
    load_nn_config_json,
    parse_nn_config,
)

REQUEST_FIELDS = {"model": "string: path to the model file, inside nn.allowed_model_dirs",
                  "model_data": "byte array: the model file's bytes (at most nn.max_model_bytes)",
                  "nn_config": "string: Robopipe NNConfig JSON (not needed for an NN archive)",
                  "labels": "string array: class names (optional)",
                  "resize_mode": f"string: how frames fit the network input, one of {', '.join(RESIZE_MODES)}"}
MAX_LABELS = 1000
MAX_LABEL_CHARS = 256
MAX_PATH_CHARS = 4096
# What the devices apply over an archive's own decoding (DetectionNetwork.setConfidenceThreshold,
# setNumInferenceThreads on an OAK; OnnxDetector's conf_threshold on the simulator).
ARCHIVE_OVERRIDES = ("confidence_threshold", "num_inference_threads")
_PARSERS = {"SSD": "MobileNet", "MobileNet": "MobileNet", "YOLO": "YOLO"}


class DeployError(ValueError):
    """Why a deploy request was refused (at most ~1 kB)."""

    def __init__(self, message: str):
        super().__init__(clip(message))


@dataclass(frozen=True)
class Deployment:
    stream: str
    package: ModelPackage
    config: NNConfig          # what decodes the outputs (an archive's own, with the allowed overrides)
    labels: tuple[str, ...]
    resize_mode: str
    source: str               # the model's real path (an upload's: its file in the model cache)
    decoding: str = "nn_config"          # "archive": the archive's config.json decides; "nn_config"
    overrides: tuple[str, ...] = ()      # nn_config fields applied over the archive's

    def label(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else str(index)

    def describe(self) -> str:
        """One line for replies and logs: what runs and what decodes it."""
        if self.decoding == "archive":
            how = "decoded as the archive's config.json says"
            if self.overrides:
                how += " (nn_config sets " + ", ".join(
                    f"{k}={getattr(self.config, k)}" for k in self.overrides) + ")"
        else:
            how = "decoded as nn_config says"
        return f"{self.config.type} network {self.source} on {self.stream}, {how}"


def check_labels(value: Any, where: str = "labels") -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise DeployError(f"{where} must be an array of strings, got {type(value).__name__}")
    if len(value) > MAX_LABELS:
        raise DeployError(f"{where} has {len(value)} entries, over the limit of {MAX_LABELS}")
    for i, label in enumerate(value):
        if not isinstance(label, str):
            raise DeployError(f"{where}[{i}] must be a string, got {type(label).__name__}")
        if len(label) > MAX_LABEL_CHARS:
            raise DeployError(f"{where}[{i}] is {len(label)} characters, over the limit of {MAX_LABEL_CHARS}")
    return tuple(value)


def _archive_number(where: str, value, default: float, high: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= high:
        raise ModelError(f"archive config.json: {where} must be a number in [0, {high:g}]")
    return float(value)


def config_from_archive(config: dict) -> tuple[NNConfig, tuple[str, ...]]:
    """NNConfig and labels from an NN archive's first head (its `parser` names the decoding);
    ModelError if its values are out of range."""
    heads = config["model"].get("heads") if isinstance(config.get("model"), dict) else None
    if not heads:
        return NNConfig("Generic"), ()
    head = heads[0] if isinstance(heads, list) else None
    if not isinstance(head, dict) or not isinstance(head.get("metadata"), dict):
        raise ModelError("archive config.json: model.heads[0] must be an object with metadata")
    meta = head["metadata"]
    parser = head.get("parser")
    kind = _PARSERS.get(parser, "Generic") if isinstance(parser, str) else "Generic"
    try:
        labels = check_labels(meta.get("classes") or [], "archive config.json: metadata.classes")
    except DeployError as e:
        raise ModelError(str(e)) from None
    layers = meta.get("anchors") or []
    try:
        anchors = tuple(float(v) for layer in layers for pair in layer for v in pair)
    except (TypeError, ValueError):
        raise ModelError("archive config.json: metadata.anchors must be lists of (w, h) pairs") from None
    if len(anchors) > MAX_ANCHOR_VALUES or not all(math.isfinite(a) and 0 <= a <= MAX_ANCHOR_PX for a in anchors):
        raise ModelError(f"archive config.json: metadata.anchors must be at most {MAX_ANCHOR_VALUES // 2} "
                         f"pairs in [0, {MAX_ANCHOR_PX:g}]")
    n_classes = meta.get("n_classes") or (len(labels) or None)
    if n_classes is not None and (isinstance(n_classes, bool) or not isinstance(n_classes, int)
                                  or not 1 <= n_classes <= MAX_CLASSES):
        raise ModelError(f"archive config.json: metadata.n_classes must be an integer in [1, {MAX_CLASSES}]")
    return NNConfig(kind, confidence_threshold=_archive_number("metadata.conf_threshold",
                                                               meta.get("conf_threshold"), 0.5, 1),
                    iou_threshold=_archive_number("metadata.iou_threshold", meta.get("iou_threshold"), 0.5, 1),
                    num_classes=n_classes, anchors=anchors), labels


def merge_archive_config(archive: NNConfig, text: str) -> tuple[NNConfig, tuple[str, ...]]:
    """An nn_config sent with an archive: (the config that decodes, the fields it overrode).
    Fields other than ARCHIVE_OVERRIDES must agree with the archive (the round trip of what
    `<stream>.nn.config` shows does); a conflicting one is refused, naming it."""
    raw = load_nn_config_json(text)
    given_type = raw.get("type", archive.type)
    if given_type != archive.type:
        raise NNConfigError(f"nn_config.type {shown(str(given_type), 20)} conflicts with the archive, whose "
                            f"config.json decodes {archive.type}; an archive's decoding comes from its config.json "
                            f"(over it nn_config may set only {', '.join(ARCHIVE_OVERRIDES)}); to decode "
                            "differently deploy the bare model with an nn_config")
    inner = raw.get("nn_config") or {}
    if not isinstance(inner, dict):
        raise NNConfigError("nn_config.nn_config must be a JSON object")
    base = json.loads(archive.to_json())
    merged = {**raw, "type": archive.type, "nn_config": {**base["nn_config"], **inner}}
    parsed = parse_nn_config(json.dumps(merged))            # ranges and unknown fields checked here
    overrides = []
    for name in sorted(inner):
        if name in ARCHIVE_OVERRIDES:
            if getattr(parsed, name) != getattr(archive, name):
                overrides.append(name)
        elif getattr(parsed, name) != getattr(archive, name):
            raise NNConfigError(f"nn_config.nn_config.{name} conflicts with the archive's config.json; over an "
                                f"NN archive nn_config may set only {', '.join(ARCHIVE_OVERRIDES)}")
    if "num_inference_threads" in raw and parsed.num_inference_threads != archive.num_inference_threads:
        overrides.append("num_inference_threads")
    config = replace(archive, confidence_threshold=parsed.confidence_threshold,
                     num_inference_threads=parsed.num_inference_threads)
    return config, tuple(overrides)


def _check_fields(request: Mapping[str, Any]) -> None:
    unknown = sorted(str(k)[:40] for k in set(request) - set(REQUEST_FIELDS))
    if unknown:
        allowed = "; ".join(f"{k} ({v})" for k, v in REQUEST_FIELDS.items())
        raise DeployError(f"unknown field(s) {', '.join(unknown[:5])}; allowed: {allowed}")
    for name in ("model", "nn_config", "resize_mode"):
        value = request.get(name)
        if value is not None and not isinstance(value, str):
            raise DeployError(f"{name} must be a string, got {type(value).__name__}")
    if len(request.get("model") or "") > MAX_PATH_CHARS:
        raise DeployError(f"model is over {MAX_PATH_CHARS} characters")
    data = request.get("model_data")
    if data is not None:
        try:
            memoryview(data)
        except TypeError:
            raise DeployError(f"model_data must be bytes, got {type(data).__name__}") from None


def build_deployment(stream: str, request: Mapping[str, Any], workdir: Path,
                     default_resize_mode: str = "letterbox", *, store: ModelStore | None = None,
                     keep: Iterable[Path | str] = ()) -> Deployment:
    """Check every field of a deploy request and read its model through `store` (default:
    ModelStore.default()); raise DeployError saying what is wrong. An upload (`model_data`) is
    stored in the store's cache first and deployed from there: `source` is that file. `keep`:
    cached uploads that must survive pruning (what runs on other streams)."""
    store = store or ModelStore.default()
    _check_fields(request)
    labels_given = check_labels(request.get("labels"))
    resize_mode = request.get("resize_mode") or default_resize_mode
    if resize_mode not in RESIZE_MODES:
        raise DeployError(f"resize_mode must be one of {', '.join(RESIZE_MODES)}, got {shown(resize_mode, 40)}")
    model, data = request.get("model") or "", request.get("model_data")
    has_data = data is not None and memoryview(data).nbytes > 0
    nn_config = request.get("nn_config") or ""
    decoding = "nn_config"
    overrides: tuple[str, ...] = ()     # the nn_config keys that override the archive's values
    try:
        if model and has_data:
            raise ModelError("give either model (a path) or model_data (the file's bytes), not both")
        if not model and not has_data:
            raise ModelError("no model: give model (a path on the node's machine) or model_data (the file's bytes)")
        if has_data:
            assert data is not None, "has_data implies data"
            head = bytes(memoryview(data).cast("B")[:512])
            path = store.store_upload(data, upload_suffix(head), keep=keep)
            package = load_package(store, path, workdir, name="model_data")
        else:
            path = store.resolve(model)
            package = load_package(store, path, workdir, name=model)
        if package.archive_config is not None:
            config, labels = config_from_archive(package.archive_config)
            decoding = "archive"
            if nn_config:
                config, overrides = merge_archive_config(config, nn_config)
        else:
            if not nn_config:
                raise DeployError(f"nn_config is required for {package.format} model {shown(package.name)} "
                                  "(only an NN archive carries its own configuration)")
            config, labels = parse_nn_config(nn_config), ()
    except (ModelError, NNConfigError) as e:
        raise DeployError(str(e)) from None
    labels = labels_given or labels
    if config.num_classes and labels and len(labels) != config.num_classes:
        raise DeployError(f"labels has {len(labels)} names but the network has {config.num_classes} classes")
    return Deployment(stream, package, config, labels, resize_mode, str(path), decoding, overrides)
