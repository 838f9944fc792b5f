"""<camera>.link_format: what of a camera crosses the device link (USB/PoE) to the host.

`raw`: its raw frames (the host JPEG-encodes image_raw/compressed itself where the device gives none).
`mjpeg`: only the device's MJPEG of it; the host publishes that JPEG on image_raw/compressed as it is
and decodes it only when something needs pixels (an image_raw subscriber, an overlay, a coloured cloud).
The device's own consumers (networks, stereo, the encoders) still take the raw frames on the device.
Kept beside core/spec.py (which declares the parameters), as video_spec.py is.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .param import Param

LINK_FORMATS = ("raw", "mjpeg")
LINK_CAMERAS = ("rgb", "left", "right")
# The bandwidth estimate's assumption for an MJPEG stream: ~1/10 of the raw frame's bytes (the issue's
# figure). Optimistic at high quality: OpenCV on the simulated room at quality 95 gives 720p colour 1/7.4
# of BGR and 400p mono 1/2.1 of GRAY8 (its sensor noise compresses badly; test_sim_link_format.py prints it).
MJPEG_RATIO = 10.0

LINK_PARAMETERS: dict[str, Param] = {
    f"{c}.link_format": Param("raw", f"What of {c} crosses the link: raw frames, or mjpeg = only the device's "
                                     "JPEG (~1/10 of the bytes; the host decodes image_raw from it).", LINK_FORMATS)
    for c in LINK_CAMERAS}


def link_formats(v: Mapping[str, Any]) -> dict[str, str]:
    return {c: v[f"{c}.link_format"] for c in LINK_CAMERAS}
