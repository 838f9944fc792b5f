"""Robopipe's NNConfig (the `nn_config` JSON of a deploy request), parsed and validated."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

NN_TYPES = ("Generic", "YOLO", "MobileNet")
MAX_NN_CONFIG_CHARS = 64 * 1024
MAX_INFERENCE_THREADS = 8        # an OAK (RVC2) uses 1-2; more only queues frames on the device
MAX_CLASSES = 1000               # as many as labels may name
MAX_ANCHOR_VALUES = 128          # (w, h) pairs over all outputs; YOLO models use 18
MAX_ANCHOR_PX = 10000.0
MAX_ANCHOR_MASKS = 16
MAX_COORDINATE_SIZE = 16
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


def _brief(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(where: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise NNConfigError(f"{where} must be a finite number, got {_brief(value)}")
    if not low <= value <= high:
        raise NNConfigError(f"{where} must be in [{low:g}, {high:g}], got {_brief(value)}")
    return float(value)


def _integer(where: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise NNConfigError(f"{where} must be an integer in [{low}, {high}], got {_brief(value)}")
    return value


def _refuse_constant(name: str):
    raise NNConfigError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):      # 1e999 parses to inf
        raise NNConfigError(f"{text[:30]} is out of range")
    return value


def strict_json_loads(text: str | bytes, where: str):
    """JSON as the standard has it: NaN, Infinity and numbers that overflow to inf are refused."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except NNConfigError as e:
        raise NNConfigError(f"{where}: {e}") from None
    except json.JSONDecodeError as e:
        raise NNConfigError(f"{where} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except (ValueError, RecursionError, UnicodeDecodeError) as e:   # e.g. a 5000-digit integer, deep nesting
        raise NNConfigError(f"{where} is not usable JSON ({type(e).__name__})") from None


def _unknown(where: str, given: dict, allowed: set) -> None:
    extra = sorted(set(given) - allowed)
    if extra:
        names = ", ".join(_brief(str(e)) for e in extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        raise NNConfigError(f"{where}: unknown field(s) {names}; allowed: {', '.join(sorted(allowed)) or 'none'}")


def load_nn_config_json(text: str) -> dict:
    """The nn_config text as a JSON object (size-capped, strict JSON)."""
    if not isinstance(text, str):
        raise NNConfigError(f"nn_config must be a string of JSON, got {type(text).__name__}")
    if len(text) > MAX_NN_CONFIG_CHARS:
        raise NNConfigError(f"nn_config is {len(text)} characters, over the {MAX_NN_CONFIG_CHARS} limit")
    raw = strict_json_loads(text, "nn_config")
    if not isinstance(raw, dict):
        raise NNConfigError(f"nn_config must be a JSON object, got {type(raw).__name__}")
    return raw


def parse_nn_config(text: str) -> NNConfig:
    raw = load_nn_config_json(text)
    _unknown("nn_config", raw, _TOP_FIELDS)
    kind = raw.get("type")
    if kind not in NN_TYPES:
        raise NNConfigError(f"nn_config.type is required and must be one of {', '.join(NN_TYPES)}, got {_brief(kind)}")
    threads = _integer("nn_config.num_inference_threads", raw.get("num_inference_threads", 2), 1,
                       MAX_INFERENCE_THREADS)
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
    if not isinstance(anchors, list) or len(anchors) % 2 or len(anchors) > MAX_ANCHOR_VALUES:
        raise NNConfigError(f"{where}.anchors must be a flat list of at most {MAX_ANCHOR_VALUES // 2} "
                            "(width, height) pairs (even length), got "
                            f"{len(anchors) if isinstance(anchors, list) else _brief(anchors)} values")
    anchors = tuple(_number(f"{where}.anchors[{i}]", a, 0, MAX_ANCHOR_PX) for i, a in enumerate(anchors))
    masks = inner.get("anchor_masks", {})
    if not isinstance(masks, dict) or len(masks) > MAX_ANCHOR_MASKS:
        raise NNConfigError(f"{where}.anchor_masks must be an object of at most {MAX_ANCHOR_MASKS} "
                            "output name -> anchor indices")
    for name, indices in masks.items():
        if len(name) > 64 or not isinstance(indices, list) or len(indices) > MAX_ANCHOR_VALUES or not all(
                isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(anchors) // 2 for i in indices):
            raise NNConfigError(f"{where}.anchor_masks.{_brief(name)} must list anchor indices in "
                                f"[0, {len(anchors) // 2 - 1}], got {_brief(indices)}")
    return NNConfig(
        kind, threads,
        confidence_threshold=_number(f"{where}.confidence_threshold", inner.get("confidence_threshold", 0.5), 0, 1),
        iou_threshold=_number(f"{where}.iou_threshold", inner.get("iou_threshold", 0.5), 0, 1),
        num_classes=_integer(f"{where}.num_classes", inner["num_classes"], 1, MAX_CLASSES),
        coordinate_size=_integer(f"{where}.coordinate_size", inner.get("coordinate_size", 4), 4,
                                 MAX_COORDINATE_SIZE),
        anchors=anchors, anchor_masks={k: tuple(v) for k, v in masks.items()})
