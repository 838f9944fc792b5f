"""Demo detection networks for the simulated scene, built (not trained) from colour.

The simulated scene (``depthai_ros_bridge.sim.classes``) has objects of a few
classes, each with one saturated colour, on a low-saturation floor and walls.
The networks below detect them *from pixels*: every weight is constructed from
the class colours, deterministically, with ``onnx.helper``. No training, no
downloads.

What the graph computes (all standard ONNX ops, opset 17, float32 inside):

1. ``Cast`` the uint8 planar-BGR input to float.
2. Chromaticity: a 1x1 ``Conv`` computes, for each class, the differences
   dominant-minus-weak channel of its colour (R-G and R-B for the red crate,
   G-B and R-B for the yellow cone, ...); ``ReduceMin`` ANDs them; a pixel is
   the class's when that minimum exceeds a share of the brightness
   ``B+G+R+eps`` (``Greater``) -- a chromaticity test, independent of shading
   and texture, with no per-pixel division.
3. Clean-up: a 3x3 majority vote (``AveragePool`` + ``Greater``) removes
   speckle and fills pinholes; an optional opening (``MaxPool``) is off by default.
4. Boxes: the exact pixel extents (x, W-x, y, H-y of every mask pixel) are
   max-pooled onto a stride-8 grid, then spread inside each connected blob by
   repeated masked 3x3 ``MaxPool`` ("geodesic dilation"), so every grid cell of
   a blob knows the blob's tight box. One representative cell per blob is the
   one nearest to the box centre (an exact integer key < 2^24, spread the same
   way). Its confidence is the share of class pixels in that cell, damped for
   boxes under ``min_area``. Limits: blobs closer than a grid cell merge, and
   a blob longer than ``spread`` x the grid (about 60% of the input) gets
   partial boxes; in the YOLO heads two blobs of one stride and anchor whose
   centres share a cell of that stride would mix.
5. Heads, one per output format:

   * ``ssd`` -- MobileNet-SSD ``DetectionOutput`` layout ``[1, 1, N, 7]``,
     rows ``[image_id, label, confidence, xmin, ymin, xmax, ymax]`` with
     coordinates normalised to 0..1, sorted by confidence (``TopK``); unused
     rows have ``image_id = -1`` (where depthai's parser stops).
   * ``yolov5`` -- anchor-based YOLOv5 heads: three outputs
     ``[1, A*(5+C), H/s, W/s]`` for strides 8/16/32, A=3 anchors per stride
     (square, tall, wide), sigmoid already applied (values are 0..1), decoded
     by depthai as ``cx = (2*tx - 0.5 + col) * s``, ``w = (2*tw)^2 * anchor_w``,
     ``conf = obj * class``. Each blob is written into the stride chosen by its
     size and the anchor chosen by its aspect ratio.
   * ``yolov6r2`` -- anchor-free "TLBR" heads (YOLOv6 R2 / v8 family in
     depthai): outputs ``[1, 5+C, H/s, W/s]`` with channels ``l, t, r, b``
     (distances from the cell centre in stride units), ``score``, then the C
     class scores.

Input of every model: ``uint8 [1, 3, H, W]``, planar BGR, 0..255, no mean or
scale -- what an OAK feeds a network by default (``BGR888p``). The frame is
resized (stretched) to H x W by the caller.

Run ``python tools/demo_models.py OUTDIR`` to write the .onnx files and their NN archives.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from demo_spec import GRID_STRIDE, IR_VERSION, OPSET, YOLO_STRIDES, DemoModelSpec, layer_bounds
from depthai_ros_bridge.sim.classes import CLASSES, ObjectClass


# --------------------------------------------------------------------------- graph builder
class _Graph:
    """Tiny helper around onnx.helper: every op returns the name of its output."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._n = 0

    def _name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, value, dtype=np.float32, hint: str = "c") -> str:
        name = self._name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], out: str | None = None, **attrs) -> str:
        out = out or self._name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def ops(self, op_type: str, inputs: Sequence[str], n_out: int, **attrs) -> list[str]:
        outs = [self._name(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, **attrs))
        return outs

    # shorthands
    def add(self, a, b): return self.op("Add", [a, b])
    def sub(self, a, b): return self.op("Sub", [a, b])
    def mul(self, a, b): return self.op("Mul", [a, b])
    def div(self, a, b): return self.op("Div", [a, b])

    def clip(self, x, lo: float, hi: float) -> str:
        return self.op("Clip", [x, self.const(lo), self.const(hi)])

    def _pool(self, op: str, x: str, kh: int, kw: int, sh: int, sw: int, **attrs) -> str:
        ph, pw = ((kh - 1) // 2 if sh == 1 else 0), ((kw - 1) // 2 if sw == 1 else 0)
        return self.op(op, [x], kernel_shape=[kh, kw], strides=[sh, sw], pads=[ph, pw, ph, pw],
                       **attrs)

    def maxpool(self, x, k: int, stride: int = 1, separable: bool = False) -> str:
        """k x k max filter ("same" padding when stride is 1); separable = two 1-D passes."""
        if separable:
            return self._pool("MaxPool", self._pool("MaxPool", x, k, 1, stride, 1), 1, k, 1, stride)
        return self._pool("MaxPool", x, k, k, stride, stride)

    def avgpool(self, x, k: int, stride: int = 1, separable: bool = False) -> str:
        """k x k mean over the pixels inside the image (exactly separable for that reason)."""
        if separable:
            x = self._pool("AveragePool", x, k, 1, stride, 1, count_include_pad=0)
            return self._pool("AveragePool", x, 1, k, 1, stride, count_include_pad=0)
        return self._pool("AveragePool", x, k, k, stride, stride, count_include_pad=0)

    def reshape(self, x, shape: Sequence[int]) -> str:
        return self.op("Reshape", [x, self.const(list(shape), np.int64)])

    def step(self, x, threshold: float) -> str:
        """1.0 where x > threshold, else 0.0."""
        return self.op("Cast", [self.op("Greater", [x, self.const(threshold)])], to=TensorProto.FLOAT)


def _colour_constraints(classes: Sequence[ObjectClass]) -> tuple[np.ndarray, np.ndarray]:
    """Per class: pairs (dominant, weak) of BGR channels and each pair's margin.

    Dominant channels are those above the class colour's mean; a pixel belongs
    to the class when every dominant channel exceeds every weak one by a share
    of the class colour's own margin, in chromaticity (channel / sum).
    Returns weights ``[K, P, 3]`` (+1 dominant, -1 weak) and margins ``[K]``.
    """
    per_class = []
    for c in classes:
        bgr = np.asarray(c.bgr, dtype=np.float64)
        chroma = bgr / bgr.sum()
        dom = [i for i in range(3) if chroma[i] > 1.0 / 3.0]
        weak = [i for i in range(3) if i not in dom]
        if not dom or not weak:
            raise ValueError(f"class {c.label!r} colour {c.bgr} is not saturated enough to detect")
        pairs = [(d, w) for d in dom for w in weak]
        margin = min(chroma[d] - chroma[w] for d, w in pairs)
        per_class.append((pairs, margin))
    n_pairs = max(len(p) for p, _ in per_class)
    weights = np.zeros((len(classes), n_pairs, 3), np.float32)
    margins = np.zeros(len(classes), np.float32)
    for k, (pairs, margin) in enumerate(per_class):
        pairs = pairs + [pairs[0]] * (n_pairs - len(pairs))   # pad: repeating an AND term is a no-op
        for j, (d, w) in enumerate(pairs):
            weights[k, j, d] = 1.0
            weights[k, j, w] = -1.0
        margins[k] = margin
    return weights, margins


# --------------------------------------------------------------------------- shared trunk
@dataclass(frozen=True)
class _Blobs:
    """Names of the trunk's outputs, all on the stride-8 grid ``[1, K, h, w]``."""

    xmin: str
    ymin: str
    xmax: str
    ymax: str
    rep: str        # 1.0 at the one representative cell of each blob
    conf: str       # confidence of the blob at that cell


def _trunk(g: _Graph, spec: DemoModelSpec, classes: Sequence[ObjectClass]) -> _Blobs:
    W, H, s, p = spec.input_width, spec.input_height, GRID_STRIDE, spec.colour
    multiple = GRID_STRIDE if spec.kind == "ssd" else max(YOLO_STRIDES)
    if W % multiple or H % multiple:
        raise ValueError(f"{spec.kind} input size must be a multiple of {multiple}, got {W}x{H}")
    if W + H >= 2047:
        raise ValueError("input too large for the exact float32 blob keys (W + H must be < 2047)")
    K = len(classes)
    h, w = H // s, W // s

    x = g.op("Cast", [spec.input_name], to=TensorProto.FLOAT)
    if p.smooth_kernel > 1:
        x = g.avgpool(x, p.smooth_kernel, separable=True)

    # Class k's pixels: for every (dominant d, weak w) channel pair, (x_d - x_w) / sum(x)
    # exceeds threshold * margin_k. The pairs' min is taken before comparing (the division
    # by the positive brightness commutes with it), and the comparison is made against a
    # multiple of the brightness, so there is no per-pixel division at all.
    weights, margins = _colour_constraints(classes)
    P = weights.shape[1]
    diffs = g.op("Conv", [x, g.const(weights.reshape(K * P, 3, 1, 1))])          # [1,K*P,H,W]
    worst = g.op("ReduceMin", [g.reshape(diffs, [1, K, P, H, W])], axes=[2], keepdims=0)
    brightness = g.add(g.op("ReduceSum", [x, g.const([1], np.int64)], keepdims=1), g.const(p.eps))
    need = g.mul(brightness, g.const((margins * p.threshold).reshape(1, K, 1, 1)))
    raw = g.op("Cast", [g.op("Greater", [worst, need])], to=TensorProto.FLOAT)   # [1,K,H,W]

    # clean-up: majority vote, then opening (erosion = -max(-x))
    mask = g.step(g.avgpool(raw, p.majority_kernel, separable=True), 0.5)
    if p.opening_kernel > 1:
        mask = g.op("Neg", [g.maxpool(g.op("Neg", [mask]), p.opening_kernel, separable=True)])
        mask = g.maxpool(mask, p.opening_kernel, separable=True)

    # exact pixel extents on the grid: max over each cell of W-x (-> xmin), x+1 (-> xmax),
    # H-y and y+1 of the mask pixels. Pool the mask into bands first, then the coordinates.
    rows = g._pool("MaxPool", mask, s, 1, s, 1)                           # [1,K,h,W]
    cols = g._pool("MaxPool", mask, 1, s, 1, s)                           # [1,K,H,w]
    xs = np.arange(W, dtype=np.float32).reshape(1, 1, 1, W)
    ys = np.arange(H, dtype=np.float32).reshape(1, 1, H, 1)
    ext = g.op("Concat", [
        g._pool("MaxPool", g.mul(rows, g.const(W - xs)), 1, s, 1, s),
        g._pool("MaxPool", g.mul(rows, g.const(xs + 1)), 1, s, 1, s),
        g._pool("MaxPool", g.mul(cols, g.const(H - ys)), s, 1, s, 1),
        g._pool("MaxPool", g.mul(cols, g.const(ys + 1)), s, 1, s, 1)], axis=1)   # [1,4K,h,w]
    cell = g._pool("MaxPool", rows, 1, s, 1, s)                           # [1,K,h,w]
    cell4 = g.op("Tile", [cell, g.const([1, 4, 1, 1], np.int64)])

    # spread inside each blob: masked 3x3 dilation, one grid cell per step
    n_steps = max(1, int(np.ceil(p.spread * max(h, w))))
    for _ in range(n_steps):
        ext = g.mul(g.maxpool(ext, 3), cell4)
    a, b, c, d = g.ops("Split", [ext, g.const([K] * 4, np.int64)], 4, axis=1)
    xmin, xmax = g.sub(g.const(float(W)), a), b
    ymin, ymax = g.sub(g.const(float(H)), c), d

    # representative cell: nearest (L1) to the box centre; key is an exact integer < 2^24
    cx2 = np.float32(2 * s) * (np.arange(w, dtype=np.float32) + 0.5)
    cy2 = np.float32(2 * s) * (np.arange(h, dtype=np.float32) + 0.5)
    d2 = g.add(g.op("Abs", [g.sub(g.add(xmin, xmax), g.const(cx2.reshape(1, 1, 1, w)))]),
               g.op("Abs", [g.sub(g.add(ymin, ymax), g.const(cy2.reshape(1, 1, h, 1)))]))
    key_base = float(2 * (W + H) + 1)
    idx = np.arange(h * w, dtype=np.float32).reshape(1, 1, h, w)
    key = g.mul(g.add(g.mul(g.sub(g.const(key_base), d2), g.const(4096.0)), g.const(idx)), cell)
    best = key
    for _ in range(n_steps):
        best = g.mul(g.maxpool(best, 3), cell)
    rep = g.mul(g.op("Cast", [g.op("Equal", [best, key])], to=TensorProto.FLOAT), cell)

    # confidence: how much of the representative cell is the class colour, damped for tiny boxes
    strength = g.clip(g.mul(g.avgpool(raw, s, s, separable=True), g.const(1.25)), 0.0, 1.0)
    area = g.mul(g.op("Relu", [g.sub(xmax, xmin)]), g.op("Relu", [g.sub(ymax, ymin)]))
    size = g.clip(g.mul(area, g.const(1.0 / p.min_area)), 0.0, 1.0)
    conf = g.mul(g.mul(strength, size), rep)
    return _Blobs(xmin, ymin, xmax, ymax, rep, conf)


# --------------------------------------------------------------------------- heads
def _ssd_head(g: _Graph, spec: DemoModelSpec, blobs: _Blobs, K: int) -> None:
    W, H = spec.input_width, spec.input_height
    h, w = H // GRID_STRIDE, W // GRID_STRIDE
    n = spec.max_det
    if K * h * w < n:
        raise ValueError("max_det larger than the number of grid cells")
    scores = g.reshape(blobs.conf, [K * h * w])
    top, idx = g.ops("TopK", [scores, g.const([n], np.int64)], 2, axis=0, largest=1, sorted=1)
    norm = [g.mul(blobs.xmin, g.const(1.0 / W)), g.mul(blobs.ymin, g.const(1.0 / H)),
            g.mul(blobs.xmax, g.const(1.0 / W)), g.mul(blobs.ymax, g.const(1.0 / H))]
    boxes = g.reshape(g.op("Concat", norm, axis=0), [4, K * h * w])     # [4, K*h*w]
    boxes = g.op("Gather", [boxes, idx], axis=1)                          # [4, N]
    valid = g.step(top, 0.0)                                              # [N]
    boxes = g.op("Transpose", [g.mul(boxes, valid)], perm=[1, 0])         # [N, 4]
    label = g.op("Cast", [g.op("Div", [idx, g.const(h * w, np.int64)])], to=TensorProto.FLOAT)
    image_id = g.sub(valid, g.const(1.0))                                 # 0 valid, -1 unused
    col = lambda t: g.op("Unsqueeze", [t, g.const([1], np.int64)])        # noqa: E731
    rows = g.op("Concat", [col(image_id), col(label), col(top), boxes], axis=1)
    g.op("Reshape", [rows, g.const([1, 1, n, 7], np.int64)], out=spec.output_names[0])


def _pool_to_stride(g: _Graph, fields: list[str], sel: str, ratio: int) -> list[str]:
    """Move per-cell values of selected cells from the stride-8 grid to a coarser grid.

    Values may be negative, so they are lifted by OFFSET where selected, max-pooled,
    and lowered again; unselected coarse cells come out as 0.
    """
    if ratio == 1:
        return [g.mul(f, sel) for f in fields]
    OFFSET = 4096.0
    sel_pooled = g.maxpool(sel, ratio, ratio)
    out = []
    for f in fields:
        lifted = g.maxpool(g.mul(g.add(f, g.const(OFFSET)), sel), ratio, ratio)
        out.append(g.mul(g.sub(lifted, g.const(OFFSET)), sel_pooled))
    return out


def _yolo_heads(g: _Graph, spec: DemoModelSpec, blobs: _Blobs, K: int) -> None:
    W, H = spec.input_width, spec.input_height
    h, w = H // GRID_STRIDE, W // GRID_STRIDE
    bw, bh = g.sub(blobs.xmax, blobs.xmin), g.sub(blobs.ymax, blobs.ymin)
    cx = g.mul(g.add(blobs.xmin, blobs.xmax), g.const(0.5))
    cy = g.mul(g.add(blobs.ymin, blobs.ymax), g.const(0.5))
    size = g.op("Max", [bw, bh])
    b0, b1 = layer_bounds(W, H)
    in_layer = [g.sub(g.const(1.0), g.step(size, b0)),                  # size <= b0
                g.mul(g.step(size, b0), g.sub(g.const(1.0), g.step(size, b1))),
                g.step(size, b1)]
    onehot = np.eye(K, dtype=np.float32).reshape(1, K, K, 1, 1)          # [1, blob class, class, 1, 1]

    def stack_fields(fields: list[str], sel: str) -> str:
        """[1,K,h',w'] fields of each blob class -> [1, F, h', w'] (max over blob classes)."""
        classes = g.mul(g.op("Unsqueeze", [sel, g.const([2], np.int64)]), g.const(onehot))
        per = [g.op("Unsqueeze", [f, g.const([2], np.int64)]) for f in fields] + [classes]
        allf = g.op("Concat", per, axis=2)                               # [1,K,F,h',w']
        return g.op("ReduceMax", [allf], axes=[1], keepdims=0)          # [1,F,h',w']

    for li, stride in enumerate(YOLO_STRIDES):
        ratio = stride // GRID_STRIDE
        col = (np.arange(w) // ratio).astype(np.float32).reshape(1, 1, 1, w)
        row = (np.arange(h) // ratio).astype(np.float32).reshape(1, 1, h, 1)
        sel_layer = g.mul(blobs.rep, in_layer[li])
        if spec.kind == "yolov5":
            tx = g.clip(g.mul(g.add(g.sub(g.mul(cx, g.const(1.0 / stride)), g.const(col)),
                                    g.const(0.5)), g.const(0.5)), 0.0, 1.0)
            ty = g.clip(g.mul(g.add(g.sub(g.mul(cy, g.const(1.0 / stride)), g.const(row)),
                                    g.const(0.5)), g.const(0.5)), 0.0, 1.0)
            wide = g.step(g.sub(bw, g.mul(bh, g.const(1.5))), 0.0)
            tall = g.step(g.sub(bh, g.mul(bw, g.const(1.5))), 0.0)
            square = g.sub(g.sub(g.const(1.0), wide), tall)
            per_anchor = []
            for (aw, ah), shape_sel in zip(spec.anchors[li], (square, tall, wide)):
                sel = g.mul(sel_layer, shape_sel)
                tw = g.clip(g.mul(g.op("Sqrt", [g.op("Relu", [g.mul(bw, g.const(1.0 / aw))])]),
                                  g.const(0.5)), 0.0, 1.0)
                th = g.clip(g.mul(g.op("Sqrt", [g.op("Relu", [g.mul(bh, g.const(1.0 / ah))])]),
                                  g.const(0.5)), 0.0, 1.0)
                fields = [tx, ty, tw, th, blobs.conf]
                pooled = _pool_to_stride(g, fields + [sel], sel, ratio)
                per_anchor.append(stack_fields(pooled[:-1], pooled[-1]))
            out = g.op("Concat", per_anchor, axis=1)
        else:   # yolov6r2: distances from the cell centre, in strides; score; classes
            ccx = (col + 0.5).astype(np.float32)
            ccy = (row + 0.5).astype(np.float32)
            inv = g.const(1.0 / stride)
            fields = [g.sub(g.const(ccx), g.mul(blobs.xmin, inv)),
                      g.sub(g.const(ccy), g.mul(blobs.ymin, inv)),
                      g.sub(g.mul(blobs.xmax, inv), g.const(ccx)),
                      g.sub(g.mul(blobs.ymax, inv), g.const(ccy)),
                      blobs.conf]
            pooled = _pool_to_stride(g, fields + [sel_layer], sel_layer, ratio)
            out = stack_fields(pooled[:-1], pooled[-1])
        g.op("Identity", [out], out=spec.output_names[li])


def build_model(spec: DemoModelSpec) -> onnx.ModelProto:
    """Build the ONNX network described by ``spec`` (deterministic)."""
    by_label = {c.label: c for c in CLASSES}
    try:
        classes = [by_label[label] for label in spec.classes]
    except KeyError as e:
        raise ValueError(f"unknown class {e.args[0]!r}; known: {sorted(by_label)}") from None
    g = _Graph()
    blobs = _trunk(g, spec, classes)
    if spec.kind == "ssd":
        _ssd_head(g, spec, blobs, len(classes))
    elif spec.kind in ("yolov5", "yolov6r2"):
        _yolo_heads(g, spec, blobs, len(classes))
    else:
        raise ValueError(f"unknown demo model kind {spec.kind!r}")
    inputs = [helper.make_tensor_value_info(
        spec.input_name, TensorProto.UINT8, [1, 3, spec.input_height, spec.input_width])]
    outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s))
               for n, s in zip(spec.output_names, spec.output_shapes)]
    graph = helper.make_graph(g.nodes, spec.name.replace("-", "_"), inputs, outputs, g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              # the generator's old module name: kept, it is part of the committed models' bytes
                              producer_name="depthai_ros_bridge.nn.demo_models",
                              ir_version=IR_VERSION)
    model.doc_string = (f"{spec.name}: colour detector for {', '.join(spec.classes)}; "
                        "input uint8 planar BGR (BGR888p), weights constructed, not trained")
    onnx.checker.check_model(model, full_check=True)
    return model
