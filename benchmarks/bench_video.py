"""Table 10 of the benchmark: what the simulator's H.264/H.265 encoding costs, and the bitrate it achieves.

    python benchmarks/bench_video.py          # this table alone (make bench runs it with the others)

The colour frames of config/sim.yaml (moving objects, FRAMES of them) are rendered once, then encoded by
core/video_encoder.py (PyAV: libx264/libx265, as the simulated device does while ~/rgb/image_raw/ffmpeg has
subscribers) with sim.yaml's video settings and a few variants: wall ms per frame (median), achieved bitrate
over the run against the configured one, and PSNR of the decoded frames against the raw ones.
"""
from __future__ import annotations

import dataclasses
import statistics
import time

import numpy as np

from bench_common import SIM_CONFIG, Table, flat_parameters, ms

FRAMES = 60


def _frames() -> tuple[list[np.ndarray], float, object]:
    from depthai_ros_bridge.core.spec import parse_spec
    from depthai_ros_bridge.device.frames import frame_array
    from depthai_ros_bridge.device.sim import SimDevice

    values = {k: v for k, v in flat_parameters(SIM_CONFIG).items() if not k.startswith("rgb.nn.")}
    spec = parse_spec({**values, "left.enabled": False, "right.enabled": False, "stereo.enabled": False,
                       "imu.enabled": False, "video.enabled": False}, "oak")
    device = SimDevice(spec)
    try:
        images = [frame_array(device.capture(seq, seq / device.capture_fps).frames["rgb"]).copy()
                  for seq in range(FRAMES)]
    finally:
        device.close()
    return images, spec.streams["rgb"].fps, parse_spec(values, "oak").video


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-9))


def _run(spec, images: list[np.ndarray], fps: float) -> tuple[float, float, float]:
    import av

    from depthai_ros_bridge.core.video_encoder import VideoEncoder

    h, w = images[0].shape[:2]
    encoder, times, packets = VideoEncoder(spec, w, h, fps), [], []
    for pts, image in enumerate(images):
        start = time.perf_counter()
        packets += encoder.encode(image, pts)
        times.append(time.perf_counter() - start)
    packets += encoder.flush()
    decoder = av.CodecContext.create(encoder.encoding, "r")
    decoded = {}
    for p in packets:
        for frame in decoder.decode(av.Packet(p.data)):
            decoded[len(decoded)] = frame.to_ndarray(format="bgr24")
    psnr = statistics.mean(_psnr(decoded[i], images[i]) for i in decoded) if decoded else 0.0
    kbps = 8 * sum(len(p.data) for p in packets) / (len(images) / fps) / 1000
    return statistics.median(times), kbps, psnr


def video_encoding() -> Table:
    images, fps, configured = _frames()
    h, w = images[0].shape[:2]
    table = Table(f"10. Simulated video encoding ({w}x{h} at {fps:g} fps, {FRAMES} frames)",
                  ["settings", "encode ms / frame", "achieved kbit/s", "configured kbit/s", "PSNR dB"])
    variants = {f"{SIM_CONFIG.name}: {configured.codec} {configured.rate_control}": configured,
                "h264 cbr 8000": dataclasses.replace(configured, codec="h264", profile="h264_main",
                                                     bitrate_kbps=8000),
                "h265 cbr (h265_main)": dataclasses.replace(configured, codec="h265", profile="h265_main"),
                "h264 vbr quality 80": dataclasses.replace(configured, codec="h264", profile="h264_main",
                                                           rate_control="vbr", quality=80)}
    for label, spec in variants.items():
        encode_s, kbps, psnr = _run(spec, images, fps)
        table.rows.append([label, ms(encode_s), f"{kbps:.0f}", str(spec.bitrate_kbps), f"{psnr:.1f}"])
    table.notes.append("VBR: the configured rate is a cap (quality decides); encoding runs on the host CPU, as the "
                       "OAK's hardware encoder would not.")
    return table


if __name__ == "__main__":
    print(video_encoding().text())
