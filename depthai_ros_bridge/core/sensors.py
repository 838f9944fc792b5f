"""What an OAK-D's sensors offer: resolutions by name, as the device's own presets."""
from __future__ import annotations

# name -> (width, height). The colour camera (IMX378) modes are 16:9 ISP outputs;
# the global-shutter mono cameras (OV9282) are 1280x800 sensors, 720p is a crop
# and 400p a 2x binning.
RGB_RESOLUTIONS: dict[str, tuple[int, int]] = {
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "4k": (3840, 2160),
}
MONO_RESOLUTIONS: dict[str, tuple[int, int]] = {
    "400p": (640, 400),
    "720p": (1280, 720),
    "800p": (1280, 800),
}

# Horizontal fields of view (DepthAI FAQ: "What is the Field of View of OAK?").
RGB_HFOV_DEG = 68.7938
MONO_HFOV_DEG = 71.9
# OAK-D: 7.5 cm between the mono cameras, colour camera 3.75 cm from the left one.
STEREO_BASELINE_M = 0.075
LEFT_TO_RGB_M = 0.0375
