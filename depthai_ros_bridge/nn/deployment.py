"""A deploy request -> a checked, device-independent description of the network to run."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .mapping import RESIZE_MODES
from .model_source import ModelError, ModelPackage, load_package, read_model
from .nnconfig import NNConfig, NNConfigError, parse_nn_config

REQUEST_FIELDS = {"model": "string: path to the model file on the node's machine",
                  "model_data": "byte array: the model file's bytes",
                  "nn_config": "string: Robopipe NNConfig JSON (not needed for an NN archive)",
                  "labels": "string array: class names (optional)",
                  "resize_mode": f"string: how frames fit the network input, one of {', '.join(RESIZE_MODES)}"}
_PARSERS = {"SSD": "MobileNet", "MobileNet": "MobileNet", "YOLO": "YOLO"}


class DeployError(ValueError):
    """Why a deploy request was refused."""


@dataclass(frozen=True)
class Deployment:
    stream: str
    package: ModelPackage
    config: NNConfig
    labels: tuple[str, ...]
    resize_mode: str
    source: str          # what was deployed: the path, or 'model_data sha256:…'

    def label(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else str(index)


def config_from_archive(config: dict) -> tuple[NNConfig, tuple[str, ...]]:
    """NNConfig and labels from an NN archive's first head (its `parser` names the decoding)."""
    heads = config["model"].get("heads") or []
    if not heads:
        return NNConfig("Generic"), ()
    head = heads[0]
    meta = head.get("metadata") or {}
    kind = _PARSERS.get(head.get("parser", ""), "Generic")
    labels = tuple(str(c) for c in meta.get("classes") or ())
    anchors = tuple(float(v) for layer in meta.get("anchors") or () for pair in layer for v in pair)
    return NNConfig(kind, confidence_threshold=float(meta.get("conf_threshold", 0.5)),
                    iou_threshold=float(meta.get("iou_threshold", 0.5)),
                    num_classes=meta.get("n_classes") or (len(labels) or None), anchors=anchors), labels


def build_deployment(stream: str, request: Mapping[str, Any], workdir: Path,
                     default_resize_mode: str = "letterbox") -> Deployment:
    """Check every field of a deploy request; raise DeployError saying what is wrong."""
    unknown = sorted(set(request) - set(REQUEST_FIELDS))
    if unknown:
        allowed = "; ".join(f"{k} ({v})" for k, v in REQUEST_FIELDS.items())
        raise DeployError(f"unknown field(s) {', '.join(unknown)}; allowed: {allowed}")
    model, data = request.get("model") or "", request.get("model_data") or b""
    labels_given = tuple(request.get("labels") or ())
    resize_mode = request.get("resize_mode") or default_resize_mode
    if resize_mode not in RESIZE_MODES:
        raise DeployError(f"resize_mode must be one of {', '.join(RESIZE_MODES)}, got {resize_mode!r}")
    try:
        name, raw = read_model(model, bytes(data))
        package = load_package(name, raw, workdir)
        if package.archive_config is not None:
            config, labels = config_from_archive(package.archive_config)
            if request.get("nn_config"):
                config = parse_nn_config(request["nn_config"])
        else:
            if not request.get("nn_config"):
                raise DeployError(f"nn_config is required for {package.format} model {name!r} "
                                  "(only an NN archive carries its own configuration)")
            config, labels = parse_nn_config(request["nn_config"]), ()
    except (ModelError, NNConfigError) as e:
        raise DeployError(str(e)) from None
    labels = labels_given or labels
    if config.num_classes and labels and len(labels) != config.num_classes:
        raise DeployError(f"labels has {len(labels)} names but the network has {config.num_classes} classes")
    source = model or f"model_data sha256:{hashlib.sha256(raw).hexdigest()[:16]}"
    return Deployment(stream, package, config, labels, resize_mode, source)
