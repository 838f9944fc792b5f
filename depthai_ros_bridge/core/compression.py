"""Images -> the payloads of image_transport's `compressed` and `compressedDepth` topics. ROS-free.

image_transport's plugins are C++ and not installable from PyPI, so we produce their wire
format with OpenCV: a subscriber using image_transport (rviz, image_view, `republish`) decodes
these topics as if the C++ plugins had written them. Formats as written by ROS 2's
compressed_image_transport and compressed_depth_image_transport:

- compressed:      format "<encoding>; jpeg compressed <bgr8|mono8>", data = the JPEG file.
- compressedDepth: format "<16UC1|32FC1>; compressedDepth png", data = a 12-byte ConfigHeader
  (int32 format = 0 (INV_DEPTH), float32 depthParam[2]; the C++ struct, little-endian)
  followed by a 16-bit PNG. 16UC1 depth goes into the PNG as it is (depthParam unused: 0);
  32FC1 metres are quantised to inverse depth, v = a / z + b (0 = no data), with
  a = q (q + 1) and b = 1 - a / depth_max, and the decoder computes z = a / (v - b).
"""
from __future__ import annotations

import struct

import cv2
import numpy as np

JPEG_ENCODINGS = ("bgr8", "mono8")
INV_DEPTH = 0
DEPTH_QUANTIZATION = 100.0     # compressed_depth_image_transport's default depth_quantization
# Largest depth the device's 16-bit millimetre depth can hold: the default top of the
# 32FC1 quantisation, so the compressed topic keeps every depth the raw one has.
MAX_DEVICE_DEPTH_M = 65.535


def jpeg(image: np.ndarray, encoding: str, quality: int) -> tuple[str, np.ndarray]:
    """(format, JPEG bytes as a uint8 array) of a bgr8 or mono8 image."""
    if encoding not in JPEG_ENCODINGS:
        raise ValueError(f"JPEG needs bgr8 or mono8, not {encoding}")
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError(f"cv2.imencode(.jpg) failed on a {encoding} image {image.shape}")
    return f"{encoding}; jpeg compressed {encoding}", data


# Up to this level, zlib's run-length strategy on rows filtered by PNG's Sub filter alone (libpng's
# default tries all five on every row): on the simulator's 640x360 depth maps 4.0 ms and 106 kB per
# frame, against 6.5 ms / 98 kB with every filter and 10.7 ms / 94 kB for the default strategy at
# level 3. Beyond it, the levels trade time for size as usual.
FAST_PNG_LEVELS = 3


def _png(image: np.ndarray, level: int) -> np.ndarray:
    params = [cv2.IMWRITE_PNG_COMPRESSION, int(level)]
    if 0 < level <= FAST_PNG_LEVELS:
        params += [cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE,
                   cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB]
    ok, data = cv2.imencode(".png", image, params)
    if not ok:
        raise RuntimeError(f"cv2.imencode(.png) failed on a {image.dtype} image {image.shape}")
    return data


def inverse_depth_params(depth_max_m: float, quantization: float = DEPTH_QUANTIZATION) -> tuple[float, float]:
    """compressed_depth_image_transport's (a, b) of v = a / z + b: v = 1 at depth_max."""
    a = quantization * (quantization + 1.0)
    return a, 1.0 - a / depth_max_m


def compressed_depth(depth: np.ndarray, png_level: int, depth_max_m: float = 0.0) -> tuple[str, bytes]:
    """(format, ConfigHeader + PNG) of a 16UC1 (mm, 0 = none) or 32FC1 (m, NaN = none) depth image.

    16UC1 is lossless. 32FC1 keeps depths up to `depth_max_m` (0: MAX_DEVICE_DEPTH_M; beyond:
    no data) with inverse-depth steps of z^2 / a: 1 cm at 10 m, far finer than stereo there.
    Depths nearer than a / (65534 - b) (15 cm with the default depth_max) come back as that.
    """
    if depth.dtype == np.uint16:
        encoding, params, image = "16UC1", (0.0, 0.0), depth
    elif depth.dtype == np.float32:
        depth_max_m = depth_max_m or MAX_DEVICE_DEPTH_M
        encoding, params = "32FC1", inverse_depth_params(depth_max_m)
        a, b = params
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse = np.float32(a) / depth + np.float32(b)
        # NaN compares False: no data stays 0, as do depths beyond depth_max (v < 1 there).
        inverse = np.where(depth <= depth_max_m, np.clip(np.rint(inverse), 1, 65535), 0)
        image = inverse.astype(np.uint16)
    else:
        raise ValueError(f"compressedDepth needs 16UC1 or 32FC1 depth, not {depth.dtype}")
    header = struct.pack("<iff", INV_DEPTH, *params)
    return f"{encoding}; compressedDepth png", header + _png(image, png_level).tobytes()


def decode_compressed_depth(fmt: str, data: bytes) -> np.ndarray:
    """What compressed_depth_image_transport's subscriber makes of our payload (for tests and tools)."""
    _, a, b = struct.unpack_from("<iff", data)
    image = cv2.imdecode(np.frombuffer(data, np.uint8, offset=12), cv2.IMREAD_UNCHANGED)
    if fmt.startswith("16UC1"):
        return image
    with np.errstate(divide="ignore"):
        return np.where(image > 0, np.float32(a) / (image.astype(np.float32) - np.float32(b)),
                        np.float32(np.nan)).astype(np.float32)
