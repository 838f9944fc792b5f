"""Robopipe's NNConfig (the `nn_config` JSON of a deploy request), parsed and validated."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

NN_TYPES = ("Generic", "YOLO", "MobileNet")
_YOLO_FIELDS = {"anchors", "anchor_masks", "coordinate_size", "iou_threshold", "num_classes",
                "confidence_threshold"}
_MOBILENET_FIELDS = {"confidence_threshold"}
_TOP_FIELDS = {"type", "num_inference_threads", "nn_config"}


class NNConfigError(ValueError):
    """The nn_config is invalid; the message names the field and what it allows."""


@dataclass(frozen=True)
class NNConfig:
    type: str                                   # Generic | YOLO | MobileNet
    num_inference_threads: int = 2
    confidence_threshold: float = 0.5
    iou_threshold: float = 0.5
    num_classes: int | None = None
    coordinate_size: int = 4
    anchors: tuple[float, ...] = ()
    anchor_masks: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def to_json(self) -> str:
        """The Robopipe JSON form (what the `<stream>.nn.config` parameter shows)."""
        inner: dict = {}
        if self.type in ("YOLO", "MobileNet"):
            inner["confidence_threshold"] = self.confidence_threshold
        if self.type == "YOLO":
            inner.update(num_classes=self.num_classes, coordinate_size=self.coordinate_size,
                         iou_threshold=self.iou_threshold, anchors=list(self.anchors),
                         anchor_masks={k: list(v) for k, v in self.anchor_masks.items()})
        return json.dumps({"type": self.type, "num_inference_threads": self.num_inference_threads,
                           "nn_config": inner}, sort_keys=True)


def _number(where: str, value, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise NNConfigError(f"{where} must be a number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise NNConfigError(f"{where} must be in [{low}, {high}], got {value}")
    return float(value)


def _integer(where: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise NNConfigError(f"{where} must be an integer >= {low}, got {value!r}")
    return value


def _unknown(where: str, given: dict, allowed: set) -> None:
    extra = sorted(set(given) - allowed)
    if extra:
        raise NNConfigError(f"{where}: unknown field(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")


def parse_nn_config(text: str) -> NNConfig:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise NNConfigError(f"nn_config is not valid JSON: {e}") from None
    if not isinstance(raw, dict):
        raise NNConfigError(f"nn_config must be a JSON object, got {type(raw).__name__}")
    _unknown("nn_config", raw, _TOP_FIELDS)
    kind = raw.get("type")
    if kind not in NN_TYPES:
        raise NNConfigError(f"nn_config.type is required and must be one of {', '.join(NN_TYPES)}, got {kind!r}")
    threads = _integer("nn_config.num_inference_threads", raw.get("num_inference_threads", 2), 1)
    inner = raw.get("nn_config") or {}
    if not isinstance(inner, dict):
        raise NNConfigError("nn_config.nn_config must be a JSON object")
    where = "nn_config.nn_config"
    if kind == "Generic":
        _unknown(where, inner, set())
        return NNConfig(kind, threads)
    if kind == "MobileNet":
        _unknown(where, inner, _MOBILENET_FIELDS)
        return NNConfig(kind, threads, _number(f"{where}.confidence_threshold",
                                               inner.get("confidence_threshold", 0.5), 0, 1))
    _unknown(where, inner, _YOLO_FIELDS)
    if "num_classes" not in inner:
        raise NNConfigError(f"{where}.num_classes is required for a YOLO network")
    anchors = inner.get("anchors", [])
    if not isinstance(anchors, list) or len(anchors) % 2:
        raise NNConfigError(f"{where}.anchors must be a flat list of (width, height) pairs (even length), "
                            f"got {len(anchors) if isinstance(anchors, list) else anchors!r} values")
    anchors = tuple(_number(f"{where}.anchors[{i}]", a, 0) for i, a in enumerate(anchors))
    masks = inner.get("anchor_masks", {})
    if not isinstance(masks, dict):
        raise NNConfigError(f"{where}.anchor_masks must be an object of output name -> anchor indices")
    for name, indices in masks.items():
        if not isinstance(indices, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(anchors) // 2 for i in indices):
            raise NNConfigError(f"{where}.anchor_masks.{name} must list anchor indices in "
                                f"[0, {len(anchors) // 2 - 1}], got {indices!r}")
    return NNConfig(
        kind, threads,
        confidence_threshold=_number(f"{where}.confidence_threshold", inner.get("confidence_threshold", 0.5), 0, 1),
        iou_threshold=_number(f"{where}.iou_threshold", inner.get("iou_threshold", 0.5), 0, 1),
        num_classes=_integer(f"{where}.num_classes", inner["num_classes"], 1),
        coordinate_size=_integer(f"{where}.coordinate_size", inner.get("coordinate_size", 4), 4),
        anchors=anchors, anchor_masks={k: tuple(v) for k, v in masks.items()})
