"""Fixtures for the demo-network tests: synthetic scenes drawn with cv2, ORT sessions.

The synthetic scenes imitate the simulator's look (``depthai_ros_bridge.sim``):
textured low-saturation grey/beige floor and walls, and one object per class in
its saturated colour, with Lambertian-style shading, brightness noise and sensor
noise. Ground truth is the bounding box of each object's *visible* pixels.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ.setdefault("DEPTHAI_TELEMETRY", "0")

import demo_models  # noqa: E402
from depthai_ros_bridge.sim.classes import CLASSES  # noqa: E402


@dataclass(frozen=True)
class Scene:
    image: np.ndarray                                   # HxWx3 uint8 BGR
    boxes: dict[int, tuple[float, float, float, float]]  # label -> visible bbox (x0, y0, x1, y1) px, x1/y1 exclusive


def _texture(rng: np.random.Generator, h: int, w: int, amp: float, blur: int) -> np.ndarray:
    noise = rng.normal(0.0, 1.0, (h, w)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), blur)
    noise /= max(1e-6, float(noise.std()))
    return noise * amp


def _shape_mask_and_shade(shape: str, h: int, w: int, cx: float, cy: float, size: float,
                          light: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Filled mask of the shape and a 0.3..1 shading map (fake Lambertian)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    mask = np.zeros((h, w), np.uint8)
    shade = np.ones((h, w), np.float32)
    r = size / 2
    if shape == "sphere":
        cv2.circle(mask, (int(round(cx)), int(round(cy))), int(round(r)), 1, -1)
        nx, ny = (xx - cx) / r, (yy - cy) / r
        nz = np.sqrt(np.clip(1 - nx ** 2 - ny ** 2, 0, 1))
        shade = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0, 1)
    elif shape == "box":
        x0, y0 = int(cx - r), int(cy - r * 0.8)
        cv2.rectangle(mask, (x0, y0), (int(cx + r), int(cy + r * 0.8)), 1, -1)
        top = yy < y0 + size * 0.3
        side = xx > cx + r * 0.4
        shade = np.where(top, 0.95, np.where(side, 0.55, 0.8)).astype(np.float32)
    elif shape == "cylinder":
        x0, x1 = int(cx - r * 0.7), int(cx + r * 0.7)
        y0, y1 = int(cy - r * 1.1), int(cy + r * 1.1)
        cv2.rectangle(mask, (x0, y0), (x1, y1), 1, -1)
        cv2.ellipse(mask, (int(cx), y0), (x1 - int(cx), int(r * 0.25)), 0, 0, 360, 1, -1)
        cv2.ellipse(mask, (int(cx), y1), (x1 - int(cx), int(r * 0.25)), 0, 0, 360, 1, -1)
        nx = np.clip((xx - cx) / (r * 0.7), -1, 1)
        shade = np.clip(nx * light[0] + np.sqrt(1 - nx ** 2) * light[2], 0, 1)
    elif shape == "cone":
        pts = np.array([[cx, cy - r * 1.1], [cx - r * 0.8, cy + r * 0.9], [cx + r * 0.8, cy + r * 0.9]])
        cv2.fillConvexPoly(mask, np.round(pts).astype(np.int32), 1)
        nx = np.clip((xx - cx) / (r * 0.8), -1, 1)
        shade = np.clip(nx * light[0] + np.sqrt(1 - nx ** 2) * light[2], 0, 1)
    else:
        raise ValueError(shape)
    return mask.astype(bool), 0.3 + 0.7 * shade


def draw_scene(seed: int, width: int = 640, height: int = 400, present=None,
               size_range: tuple[float, float] = (40, 110)) -> Scene:
    """A random scene with one object per class in ``present`` (default: all)."""
    rng = np.random.default_rng(seed)
    present = list(range(len(CLASSES))) if present is None else list(present)
    horizon = int(height * rng.uniform(0.3, 0.45))
    img = np.empty((height, width, 3), np.float32)
    wall = np.array([150, 152, 155], np.float32) * rng.uniform(0.8, 1.1)
    floor = np.array([165, 185, 200], np.float32) * rng.uniform(0.8, 1.1)   # beige (BGR)
    img[:horizon] = wall
    img[horizon:] = floor
    img *= (1 + _texture(rng, height, width, 0.08, 2.0) + _texture(rng, height, width, 0.05, 12.0))[..., None]
    vignette = 1 - 0.25 * (np.linspace(-1, 1, height)[:, None] ** 2 + np.linspace(-1, 1, width)[None] ** 2) / 2
    img *= vignette[..., None].astype(np.float32)

    light = rng.normal(size=3)
    light[2] = abs(light[2]) + 1.0
    light /= np.linalg.norm(light)
    owner = np.full((height, width), -1, np.int32)
    # place objects far-to-near so nearer ones (lower in the image) occlude
    placed = []
    for _ in present:
        for _attempt in range(100):
            size = rng.uniform(*size_range)
            cx = rng.uniform(size * 0.7, width - size * 0.7)
            cy = rng.uniform(max(horizon, size * 0.7), height - size * 0.7)
            if all(abs(cx - px) > (size + ps) * 0.45 or abs(cy - py) > (size + ps) * 0.45
                   for px, py, ps in placed):
                break
        placed.append((cx, cy, size))
    order = sorted(range(len(present)), key=lambda i: placed[i][1])
    for i in order:
        k = present[i]
        cx, cy, size = placed[i]
        mask, shade = _shape_mask_and_shade(CLASSES[k].shape, height, width, cx, cy, size, light)
        colour = np.array(CLASSES[k].bgr, np.float32)
        tex = 1 + _texture(rng, height, width, 0.07, 1.5)
        obj = colour[None, None] * (shade * tex)[..., None]
        img[mask] = obj[mask]
        owner[mask] = k
    img += rng.normal(0, 2.5, img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    boxes = {}
    for k in present:
        ys, xs = np.nonzero(owner == k)
        if len(xs):
            boxes[k] = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
    return Scene(img, boxes)


def to_planar(image_bgr: np.ndarray, width: int, height: int) -> np.ndarray:
    """Stretch a BGR frame to the network input and make it planar uint8 [1,3,H,W]."""
    resized = cv2.resize(image_bgr, (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(resized.transpose(2, 0, 1)[None])


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo_models")
    demo_models.generate(out, compressions=("xz", "gz", ""))
    return out


@pytest.fixture(scope="session")
def sessions(model_dir):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    out = {}
    for kind in demo_models.MODEL_KINDS:
        spec = demo_models.default_spec(kind)
        out[kind] = (spec, ort.InferenceSession(str(model_dir / f"{spec.name}.onnx"), opts,
                                                providers=["CPUExecutionProvider"]))
    return out


def reference_decode(spec: demo_models.DemoModelSpec, outputs: list[np.ndarray],
                     conf_threshold: float) -> list[tuple[int, float, tuple[float, float, float, float]]]:
    """Straightforward numpy decoding of the demo models' outputs, written from the
    formats' definitions (depthai semantics: YOLO boxes clipped to the input, then
    class-agnostic NMS at the archive's IoU threshold; SSD rows up to image_id -1).
    Returns (label, confidence, normalised box)."""
    W, H = spec.input_width, spec.input_height
    if spec.kind == "ssd":
        dets = []
        for r in outputs[0].reshape(-1, 7):
            if r[0] == -1:
                break
            if r[2] >= conf_threshold:
                dets.append((int(r[1]), float(r[2]), tuple(float(v) for v in r[3:7])))
        return dets
    n = len(spec.classes)
    cands = []
    for li, (out, stride) in enumerate(zip(outputs, demo_models.YOLO_STRIDES)):
        out = out[0]
        if spec.kind == "yolov5":
            for a, (aw, ah) in enumerate(spec.anchors[li]):
                blk = out[a * (5 + n):(a + 1) * (5 + n)]
                for r, c in zip(*np.nonzero(blk[4] >= conf_threshold)):
                    tx, ty, tw, th, obj = blk[:5, r, c]
                    k = int(np.argmax(blk[5:, r, c]))
                    conf = float(obj * blk[5 + k, r, c])
                    if conf < conf_threshold:
                        continue
                    cx, cy = (2 * tx - 0.5 + c) * stride, (2 * ty - 0.5 + r) * stride
                    w, h = (2 * tw) ** 2 * aw, (2 * th) ** 2 * ah
                    cands.append((k, conf, (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)))
        else:
            for r, c in zip(*np.nonzero(out[4] >= conf_threshold)):
                k = int(np.argmax(out[5:, r, c]))
                conf = float(out[5 + k, r, c])
                if conf < conf_threshold:
                    continue
                left, t, rr, b = out[:4, r, c]
                cands.append((k, conf, ((c - left + 0.5) * stride, (r - t + 0.5) * stride,
                                        (c + rr + 0.5) * stride, (r + b + 0.5) * stride)))
    clipped = []
    for k, conf, (x0, y0, x1, y1) in cands:
        x0, x1 = np.clip([x0, x1], 0, W)
        y0, y1 = np.clip([y0, y1], 0, H)
        if x1 > x0 and y1 > y0:
            clipped.append((k, conf, (x0, y0, x1, y1)))
    clipped.sort(key=lambda d: -d[1])
    kept = []
    for d in clipped:
        if all(iou(d[2], e[2]) < spec.iou_threshold for e in kept):
            kept.append(d)
    return [(k, conf, (b[0] / W, b[1] / H, b[2] / W, b[3] / H)) for k, conf, b in kept]


def run_model(sessions, kind: str, image: np.ndarray) -> list[np.ndarray]:
    spec, sess = sessions[kind]
    x = to_planar(image, spec.input_width, spec.input_height)
    return sess.run(list(spec.output_names), {spec.input_name: x})


def detections_px(sessions, kind: str, image: np.ndarray, conf_threshold: float = 0.3):
    """(label, confidence, box in image pixels) via the reference decode."""
    spec, _ = sessions[kind]
    h, w = image.shape[:2]
    return [(k, c, (b[0] * w, b[1] * h, b[2] * w, b[3] * h))
            for k, c, b in reference_decode(spec, run_model(sessions, kind, image), conf_threshold)]


@pytest.fixture(scope="session")
def helpers():
    """The helper functions above, for test modules (conftest cannot be imported)."""
    from types import SimpleNamespace
    return SimpleNamespace(draw_scene=draw_scene, to_planar=to_planar, iou=iou,
                           reference_decode=reference_decode, run_model=run_model,
                           detections_px=detections_px)
