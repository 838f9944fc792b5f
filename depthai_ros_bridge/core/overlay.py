"""Detections drawn on a frame (the `overlay` topic, the snapshot): boxes, labels, scores, distances. ROS-free.

Legible at a glance on any image size: line width and text scale follow the image height
(a 1080p frame gets text as readable as a 400p one), and each label sits on a filled tag in its
class's colour, above the box (inside it when the box touches the top edge).
"""
from __future__ import annotations

import zlib
from collections.abc import Iterable

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
# Distinct, saturated BGR colours (Tableau 10): a class keeps its colour across frames and networks.
PALETTE = ((180, 119, 31), (14, 127, 255), (44, 160, 44), (40, 39, 214), (189, 103, 148),
           (75, 86, 140), (194, 119, 227), (127, 127, 127), (34, 189, 188), (207, 190, 23))


def class_colour(label: str) -> tuple[int, int, int]:
    return PALETTE[zlib.crc32(label.encode()) % len(PALETTE)]


def text_style(image_height: int) -> tuple[float, int, int]:
    """(font scale, text thickness, box thickness) for an image this tall: ~2.2 % of its height per line."""
    scale = max(0.45, image_height / 720 * 0.7)
    return scale, max(1, round(scale * 1.6)), max(2, round(image_height / 300))


def label_text(det) -> str:
    text = f"{det.label} {det.score:.0%}"
    if getattr(det, "track_id", ""):
        text = f"#{det.track_id} " + text
    if det.spatial is not None:
        text += f" {det.spatial.centre[2]:.2f} m"
    return text


def draw_tag(canvas: np.ndarray, text: str, x: int, y: int, colour, scale: float, thickness: int,
             above: bool = True) -> None:
    """`text` on a filled tag of `colour` whose bottom-left (above) or top-left (below) corner is (x, y)."""
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
    pad = max(2, th // 4)
    h = th + base + 2 * pad
    x = int(min(max(0, x), max(0, canvas.shape[1] - tw - 2 * pad)))
    top = y - h if above else y
    top = int(min(max(0, top), max(0, canvas.shape[0] - h)))
    cv2.rectangle(canvas, (x, top), (x + tw + 2 * pad, top + h), colour, cv2.FILLED)
    luminance = 0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2]
    ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
    cv2.putText(canvas, text, (x + pad, top + pad + th), FONT, scale, ink, thickness, cv2.LINE_AA)


def draw_overlay(image: np.ndarray, detections: Iterable) -> np.ndarray:
    """A BGR copy of `image` with each detection's box and a tag: label, score and (when known) distance.

    `detections`: objects with label, score, box (x0, y0, x1, y1 in the image's pixels), spatial
    (None or with centre in metres) and optionally track_id, as nn.results.Detection.
    """
    canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    scale, thickness, line = text_style(canvas.shape[0])
    for det in detections:
        x0, y0, x1, y1 = (int(round(v)) for v in det.box)
        colour = class_colour(det.label)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, line)
        (_, th), base = cv2.getTextSize("Ag", FONT, scale, thickness)
        above = y0 >= th + base + 4
        draw_tag(canvas, label_text(det), x0 - line // 2, y0 if above else y0 + line, colour, scale, thickness, above)
    return canvas
