"""Demo detection networks: what each one is (format, input size, classes, colour detector settings).

The graph is built in ``demo_graph.py``; the files are written by ``demo_models.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from depthai_ros_bridge.sim.classes import CLASSES

ModelKind = Literal["ssd", "yolov5", "yolov6r2"]
MODEL_KINDS: tuple[ModelKind, ...] = ("ssd", "yolov5", "yolov6r2")

OPSET = 17
IR_VERSION = 8          # readable by every onnxruntime since 1.10
GRID_STRIDE = 8         # the grid on which blobs are found and boxes spread
YOLO_STRIDES = (8, 16, 32)


# --------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class ColourParams:
    """How the colour detector decides that a pixel belongs to a class."""

    eps: float = 24.0            # added to B+G+R: damps the chroma of dark, noisy pixels
    threshold: float = 0.35      # chroma margin needed, as a share of the class colour's own
    smooth_kernel: int = 0       # box filter on the input before classifying (0 = off)
    majority_kernel: int = 3     # majority vote window (pixels of the network input)
    opening_kernel: int = 0      # morphological opening, removes thin bits (0 = off)
    min_area: float = 96.0       # boxes smaller than this (px^2) lose confidence
    spread: float = 0.6          # blobs are spread over this share of the grid's longer side;
                                 # a blob more than that long (geodesically) gets split boxes


@dataclass(frozen=True)
class DemoModelSpec:
    """One demo network: its format, input size and decoding metadata."""

    kind: ModelKind
    name: str
    input_width: int
    input_height: int
    classes: tuple[str, ...]
    input_name: str = "images"
    conf_threshold: float = 0.5
    iou_threshold: float = 0.5
    max_det: int = 100
    colour: ColourParams = field(default_factory=ColourParams)

    @property
    def output_names(self) -> tuple[str, ...]:
        if self.kind == "ssd":
            return ("detection_out",)
        return tuple(f"output{i + 1}_{self.kind}" for i in range(len(YOLO_STRIDES)))

    @property
    def output_shapes(self) -> tuple[tuple[int, ...], ...]:
        n = len(self.classes)
        if self.kind == "ssd":
            return ((1, 1, self.max_det, 7),)
        ch = 3 * (5 + n) if self.kind == "yolov5" else 5 + n
        return tuple((1, ch, self.input_height // s, self.input_width // s) for s in YOLO_STRIDES)

    @property
    def anchors(self) -> tuple[tuple[tuple[float, float], ...], ...]:
        """YOLOv5 anchors (w, h) in input pixels, per stride: square, tall, wide."""
        return tuple(
            ((a, a), (round(a * 2 / 3, 2), a), (a, round(a * 2 / 3, 2)))
            for a in _anchor_scales(self.input_width, self.input_height)
        )

    @property
    def archive_stem(self) -> str:
        return self.name


def _anchor_scales(width: int, height: int) -> tuple[float, float, float]:
    top = max(width, height) / 4.0          # (2*tw)^2 <= 4: the top anchor reaches the full image
    return (16.0, round(top * 40.0 / 104.0, 2), top)


def layer_bounds(width: int, height: int) -> tuple[float, float]:
    """Box size (max of w, h in px) where a blob moves to the next YOLOv5 stride."""
    s0, s1, _ = _anchor_scales(width, height)
    return 4.0 * s0, 4.0 * s1


def default_spec(kind: ModelKind) -> DemoModelSpec:
    """The shipped demo networks: SSD at 320x320, YOLO at 416x416."""
    labels = tuple(c.label for c in CLASSES)
    if kind == "ssd":
        return DemoModelSpec("ssd", "demo-colour-ssd", 320, 320, labels)
    if kind in ("yolov5", "yolov6r2"):
        return DemoModelSpec(kind, f"demo-colour-{kind}", 416, 416, labels)
    raise ValueError(f"unknown demo model kind {kind!r}; expected one of {MODEL_KINDS}")
