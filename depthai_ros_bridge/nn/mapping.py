"""Fitting a stream's frame to a network's input, and mapping boxes back to the frame.

Three ways to fit (the Gen1 `keep_aspect_ratio` question): `letterbox` keeps the
whole field of view and the aspect ratio (pads), `crop` keeps the aspect ratio
and cuts the sides (centre crop), `stretch` keeps the field of view and squeezes.
Each is one axis-aligned affine map, so the inverse is exact. (depthai's
ImgTransformation does this for frames made by a device pipeline; host-made
frames have no such history, so the map is kept here.)
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..core.spec import RESIZE_MODES


@dataclass(frozen=True)
class InputMapping:
    src_w: int
    src_h: int
    nn_w: int
    nn_h: int
    mode: str
    # nn pixel = scale * source pixel + offset (continuous coordinates)
    scale_x: float = 1.0
    scale_y: float = 1.0
    offset_x: float = 0.0
    offset_y: float = 0.0
    crop: tuple[int, int, int, int] = (0, 0, 0, 0)     # source region resized (x0, y0, x1, y1)
    paste: tuple[int, int, int, int] = (0, 0, 0, 0)    # where it lands in the nn input

    @classmethod
    def fit(cls, src_w: int, src_h: int, nn_w: int, nn_h: int, mode: str) -> InputMapping:
        if mode not in RESIZE_MODES:
            raise ValueError(f"resize mode must be one of {', '.join(RESIZE_MODES)}, got {mode!r}")
        crop, paste = (0, 0, src_w, src_h), (0, 0, nn_w, nn_h)
        if mode == "letterbox":
            s = min(nn_w / src_w, nn_h / src_h)
            rw, rh = round(src_w * s), round(src_h * s)
            px, py = (nn_w - rw) // 2, (nn_h - rh) // 2
            paste = (px, py, px + rw, py + rh)
        elif mode == "crop":
            s = max(nn_w / src_w, nn_h / src_h)
            cw, ch = round(nn_w / s), round(nn_h / s)
            cx, cy = (src_w - cw) // 2, (src_h - ch) // 2
            crop = (cx, cy, cx + cw, cy + ch)
        sx = (paste[2] - paste[0]) / (crop[2] - crop[0])
        sy = (paste[3] - paste[1]) / (crop[3] - crop[1])
        return cls(src_w, src_h, nn_w, nn_h, mode, sx, sy, paste[0] - crop[0] * sx, paste[1] - crop[1] * sy,
                   crop, paste)

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """The network's input image (nn_h, nn_w[, c]) from a source frame."""
        x0, y0, x1, y1 = self.crop
        px0, py0, px1, py1 = self.paste
        resized = cv2.resize(image[y0:y1, x0:x1], (px1 - px0, py1 - py0), interpolation=cv2.INTER_AREA)
        if self.mode != "letterbox":
            return resized
        canvas = np.zeros((self.nn_h, self.nn_w) + image.shape[2:], image.dtype)
        canvas[py0:py1, px0:px1] = resized
        return canvas

    def boxes_to_source(self, boxes_norm: np.ndarray) -> np.ndarray:
        """(N, 4) xmin, ymin, xmax, ymax normalised to the nn input -> source pixels, clipped to the frame."""
        b = np.asarray(boxes_norm, dtype=np.float64).reshape(-1, 4)
        x = (b[:, [0, 2]] * self.nn_w - self.offset_x) / self.scale_x
        y = (b[:, [1, 3]] * self.nn_h - self.offset_y) / self.scale_y
        out = np.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]], axis=1)
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, self.src_w)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, self.src_h)
        return out
