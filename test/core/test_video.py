"""video.* parameters and the H.264/H.265 encoder (core/video_encoder.py), decoded with FFmpeg (PyAV)."""
from dataclasses import replace

import av
import numpy as np
import pytest

from depthai_ros_bridge.core.spec import ConfigError, parse_spec
from depthai_ros_bridge.core.video_encoder import ENCODINGS, VideoEncoder, crf_of_quality
from depthai_ros_bridge.core.video_spec import VideoSpec


def _problems(**values) -> dict:
    with pytest.raises(ConfigError) as e:
        parse_spec(values)
    return e.value.problems


def test_defaults_are_gen1s_with_h264_main():
    assert parse_spec({}).video == VideoSpec(False, "h264", "h264_main", "cbr", 8000, 30, 0, 80)


def test_a_profile_of_the_other_codec_is_refused_naming_both():
    why = _problems(**{"video.profile": "h265_main"})["video.profile"]
    assert "video.codec" in why and "h264" in why and "h264_baseline" in why
    why = _problems(**{"video.codec": "h265"})["video.profile"]      # h264_main is not an h265 profile
    assert "h265_main" in why


def test_b_frames_on_baseline_are_refused_naming_both():
    why = _problems(**{"video.profile": "h264_baseline", "video.num_b_frames": 2})["video.num_b_frames"]
    assert "video.profile h264_baseline" in why and "got 2" in why
    assert parse_spec({"video.profile": "h264_high", "video.num_b_frames": 2}).video.num_b_frames == 2


@pytest.mark.parametrize("name, value, words", [
    ("video.codec", "vp9", "not one of h264, h265"), ("video.rate_control", "abr", "not one of cbr, vbr"),
    ("video.quality", 0, "below the minimum 1"), ("video.quality", 101, "above the maximum 100"),
    ("video.bitrate_kbps", 50, "below the minimum"), ("video.keyframe_frequency", 0, "below the minimum"),
    ("video.num_b_frames", 4, "above the maximum 3"), ("video.bitrate_kbps", "8000", "must be an integer")])
def test_ranges_and_types_name_the_parameter(name, value, words):
    assert words in _problems(**{name: value})[name]


def test_video_needs_the_colour_stream():
    assert "rgb.enabled" in _problems(**{"video.enabled": True, "rgb.enabled": False})["video.enabled"]


def _frames(n: int, w: int = 320, h: int = 240) -> list[np.ndarray]:
    """A moving textured pattern: something for motion compensation to do."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    return [np.dstack([128 + 100 * np.sin((x + 3 * i) / 9.0), 128 + 100 * np.sin((y + 2 * i) / 7.0),
                       128 + 100 * np.sin((x + y + 5 * i) / 13.0)]).astype(np.uint8) for i in range(n)]


def _decode(encoding: str, packets) -> dict[int, np.ndarray]:
    codec = av.CodecContext.create(encoding, "r")
    out = {}
    for p in packets:
        packet = av.Packet(p.data)
        packet.pts = p.pts
        out.update({f.pts: f.to_ndarray(format="bgr24") for f in codec.decode(packet)})
    out.update({f.pts: f.to_ndarray(format="bgr24") for f in codec.decode(None)})
    return out


def _psnr(a, b) -> float:
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(float) - b.astype(float)) ** 2))


@pytest.mark.parametrize("spec", [
    VideoSpec(True, "h264", "h264_main", "cbr", 4000, 7, 0, 80),
    VideoSpec(True, "h264", "h264_baseline", "vbr", 4000, 5, 0, 90),
    VideoSpec(True, "h264", "h264_high", "cbr", 4000, 6, 2, 80),
    VideoSpec(True, "h265", "h265_main", "cbr", 4000, 8, 0, 80)],
    ids=lambda s: f"{s.profile}-{s.rate_control}-b{s.num_b_frames}")
def test_every_frame_decodes_with_key_frames_every_keyframe_frequency(spec):
    frames = _frames(20)
    encoder = VideoEncoder(spec, 320, 240, 30.0)
    assert encoder.encoding == ENCODINGS[spec.codec]
    packets = [p for i, f in enumerate(frames) for p in encoder.encode(f, 100 + i)] + encoder.flush()
    assert sorted(p.pts for p in packets) == list(range(100, 120))     # one packet per frame
    assert sorted(p.pts - 100 for p in packets if p.keyframe) == list(range(0, 20, spec.keyframe_frequency))
    decoded = _decode(encoder.encoding, packets)
    assert sorted(decoded) == list(range(100, 120))
    assert min(_psnr(decoded[100 + i], f) for i, f in enumerate(frames)) > 30.0
    if spec.num_b_frames:
        assert [p.pts for p in packets] != sorted(p.pts for p in packets)    # decode order differs
    else:
        assert [p.pts for p in packets] == list(range(100, 120))


def test_cbr_holds_the_bitrate_and_vbr_quality_maps_to_crf():
    frames = _frames(60)
    spec = VideoSpec(True, "h264", "h264_main", "cbr", 1000, 30, 0, 80)
    encoder = VideoEncoder(spec, 320, 240, 30.0)
    packets = [p for i, f in enumerate(frames) for p in encoder.encode(f, i)] + encoder.flush()
    kbps = sum(len(p.data) for p in packets) * 8 / 1000 / 2.0
    assert 0.7 * 1000 < kbps < 1.3 * 1000
    assert crf_of_quality(100) == 12.0 and crf_of_quality(1) == 51.0 and crf_of_quality(80) < crf_of_quality(50)


def test_refuses_frames_of_another_size():
    encoder = VideoEncoder(replace(VideoSpec(), enabled=True), 320, 240, 30.0)
    with pytest.raises(ValueError, match="320x240"):
        encoder.encode(np.zeros((240, 321, 3), np.uint8), 0)
    with pytest.raises(ValueError, match="even"):
        VideoEncoder(VideoSpec(), 321, 240, 30.0)
