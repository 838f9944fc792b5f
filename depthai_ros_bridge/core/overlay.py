"""Detections drawn on a frame (the `overlay` topic): boxes, labels, scores, distances. ROS-free."""
from __future__ import annotations

import cv2
import numpy as np

from ..nn.results import Detection


def draw_overlay(image: np.ndarray, detections: list[Detection]) -> np.ndarray:
    """The frame with each detection's box, label, score and (when known) distance."""
    canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    for det in detections:
        x0, y0, x1, y1 = (int(round(v)) for v in det.box)
        text = f"{det.label} {det.score:.2f}"
        if det.spatial is not None:
            text += f" {det.spatial.centre[2]:.2f} m"
        cv2.rectangle(canvas, (x0, y0), (x1, y1), (0, 255, 0), 2)
        cv2.putText(canvas, text, (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 0), 1, cv2.LINE_AA)
    return canvas
