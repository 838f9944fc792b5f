"""The camera node's DDS transport, chosen before rclpy starts (environment variables only)."""
from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

LARGE_FRAMES_PROFILE = Path(__file__).with_name("fastdds_large_frames.xml")
_PROFILE_VARIABLES = ("FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE")


def use_large_frames_profile(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Give Fast DDS the large-frame shared-memory profile, unless the user chose a profile
    or another middleware. Returns whether it did."""
    if any(v in environ for v in _PROFILE_VARIABLES):
        return False
    if not environ.get("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp").startswith("rmw_fastrtps"):
        return False
    environ["FASTDDS_DEFAULT_PROFILES_FILE"] = str(LARGE_FRAMES_PROFILE)
    return True
