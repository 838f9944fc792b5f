"""compressed / compressedDepth payloads: image_transport's format strings and header, decoded back."""
from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from depthai_ros_bridge.core.compression import (
    MAX_DEVICE_DEPTH_M,
    compressed_depth,
    decode_compressed_depth,
    inverse_depth_params,
    jpeg,
)
from depthai_ros_bridge.sim.render import Renderer
from depthai_ros_bridge.sim.rig import oakd_rig
from depthai_ros_bridge.sim.scene import Scene

RIG = oakd_rig((1280, 720), (640, 400))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def views():
    renderer = Renderer(Scene(3))
    depth = renderer.render(RIG.right, 2.0, mono=True).depth
    depth_mm = np.where(np.isfinite(depth), np.rint(depth * 1000), 0).astype(np.uint16)
    return {"bgr8": renderer.render(RIG.rgb, 2.0).image, "mono8": renderer.render(RIG.right, 2.0, mono=True).image,
            "depth_mm": depth_mm}


@pytest.mark.parametrize("encoding", ["bgr8", "mono8"])
def test_jpeg_decodes_to_the_image_with_image_transports_format(views, encoding):
    image = views[encoding]
    fmt, data = jpeg(image, encoding, 95)
    assert fmt == f"{encoding}; jpeg compressed {encoding}"
    decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    assert decoded.shape == image.shape and decoded.dtype == np.uint8
    assert cv2.PSNR(decoded, image) > 35
    assert data.nbytes < image.nbytes / 2      # the sim's noise textures: JPEG's worst case


def test_jpeg_quality_trades_size_for_fidelity(views):
    image = views["bgr8"]
    (_, low), (_, high) = jpeg(image, "bgr8", 20), jpeg(image, "bgr8", 95)
    assert low.nbytes < high.nbytes / 2
    low_psnr, high_psnr = (cv2.PSNR(cv2.imdecode(data, cv2.IMREAD_UNCHANGED), image) for data in (low, high))
    assert low_psnr < high_psnr


def test_jpeg_refuses_what_image_transport_would_not_send_as_8_bit():
    with pytest.raises(ValueError, match="bgr8 or mono8"):
        jpeg(np.zeros((4, 4), np.uint16), "16UC1", 95)


def test_16uc1_depth_is_lossless_behind_a_zero_config_header(views):
    depth = views["depth_mm"]
    fmt, data = compressed_depth(depth, 3)
    assert fmt == "16UC1; compressedDepth png"
    assert struct.unpack_from("<iff", data) == (0, 0.0, 0.0)      # INV_DEPTH, depthParam unused
    assert data[12:20] == PNG_SIGNATURE
    decoded = cv2.imdecode(np.frombuffer(data[12:], np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.dtype == np.uint16 and np.array_equal(decoded, depth)
    assert np.array_equal(decode_compressed_depth(fmt, data), depth)


def test_png_level_trades_time_for_size(views):
    (_, fast), (_, small) = compressed_depth(views["depth_mm"], 0), compressed_depth(views["depth_mm"], 9)
    assert len(small) < len(fast)


@pytest.mark.parametrize("depth_max_m", [0.0, 5.0])
def test_32fc1_depth_is_quantised_inverse_depth(views, depth_max_m):
    depth_mm = views["depth_mm"]
    metres = np.where(depth_mm > 0, depth_mm / np.float32(1000), np.float32(np.nan)).astype(np.float32)
    fmt, data = compressed_depth(metres, 3, depth_max_m)
    assert fmt == "32FC1; compressedDepth png"
    kind, a, b = struct.unpack_from("<iff", data)
    expected_a, expected_b = inverse_depth_params(depth_max_m or MAX_DEVICE_DEPTH_M)
    assert kind == 0 and (a, b) == (pytest.approx(expected_a), pytest.approx(expected_b, rel=1e-6))
    assert a == pytest.approx(100 * 101)            # depth_quantization 100, the transport's default
    # What compressed_depth_image_transport's subscriber computes: z = a / (v - b), 0 = NaN.
    v = cv2.imdecode(np.frombuffer(data[12:], np.uint8), cv2.IMREAD_UNCHANGED).astype(np.float32)
    decoded = np.where(v > 0, a / (v - b), np.nan)
    np.testing.assert_array_equal(decoded, decode_compressed_depth(fmt, data))
    kept = np.isfinite(metres) & (metres <= (depth_max_m or np.inf))
    assert np.array_equal(np.isfinite(decoded), kept)
    assert kept.mean() > 0.3
    # Half a quantisation step of inverse depth: |dz| <= z^2 / (2a), plus float rounding.
    z = metres[kept]
    assert np.all(np.abs(decoded[kept] - z) <= z * z / (2 * a) + 1e-5 * z)


def test_32fc1_depth_nearer_than_the_quantisation_allows_comes_back_as_the_nearest_representable():
    a, b = inverse_depth_params(MAX_DEVICE_DEPTH_M)
    fmt, data = compressed_depth(np.array([[0.05, 0.5]], np.float32), 3)
    decoded = decode_compressed_depth(fmt, data)
    assert decoded[0, 0] == pytest.approx(a / (65535 - b))
    assert decoded[0, 1] == pytest.approx(0.5, abs=1e-4)


def test_other_depth_types_are_refused():
    with pytest.raises(ValueError, match="16UC1 or 32FC1"):
        compressed_depth(np.zeros((4, 4), np.uint8), 3)
