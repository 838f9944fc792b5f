"""The video.* settings (Gen1's `video` config) and the rules that tie them together.

Kept beside core/spec.py (which declares the parameters) so the encoder's rules live in one place.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VIDEO_CODECS = ("h264", "h265")
VIDEO_PROFILES = ("h264_baseline", "h264_main", "h264_high", "h265_main")
RATE_CONTROLS = ("cbr", "vbr")


@dataclass(frozen=True)
class VideoSpec:
    """The encoder of ~/rgb/image_raw/ffmpeg (defaults: Gen1's, except H.264 main instead of H.265)."""

    enabled: bool = False
    codec: str = "h264"
    profile: str = "h264_main"
    rate_control: str = "cbr"
    bitrate_kbps: int = 8000
    keyframe_frequency: int = 30
    num_b_frames: int = 0
    quality: int = 80


def video_problems(v: Mapping[str, Any]) -> dict[str, str]:
    """Settings that cannot go together, each message naming both parameters."""
    problems = {}
    codec, profile = v["video.codec"], v["video.profile"]
    if not profile.startswith(codec + "_"):
        allowed = ", ".join(p for p in VIDEO_PROFILES if p.startswith(codec + "_"))
        problems["video.profile"] = f"{profile} is not a profile of video.codec {codec}; use {allowed}"
    if v["video.num_b_frames"] and profile == "h264_baseline":
        problems["video.num_b_frames"] = (f"must be 0 with video.profile h264_baseline (baseline has no "
                                          f"B-frames), got {v['video.num_b_frames']}")
    if v["video.enabled"] and not v["rgb.enabled"]:
        problems["video.enabled"] = "video encodes the colour camera: set rgb.enabled"
    return problems


def video_spec(v: Mapping[str, Any]) -> VideoSpec:
    return VideoSpec(v["video.enabled"], v["video.codec"], v["video.profile"], v["video.rate_control"],
                     v["video.bitrate_kbps"], v["video.keyframe_frequency"], v["video.num_b_frames"],
                     v["video.quality"])
