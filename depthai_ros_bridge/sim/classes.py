"""Object classes of the simulated scene: what the demo networks are built to detect.

Each class has one shape and one saturated colour; floor and walls are
low-saturation, so colour separates objects from background. Colours are BGR.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ObjectClass:
    label: str
    shape: str          # "box" | "sphere" | "cylinder" | "cone"
    bgr: tuple[int, int, int]


CLASSES: tuple[ObjectClass, ...] = (
    ObjectClass("crate", "box", (40, 40, 220)),        # red
    ObjectClass("ball", "sphere", (40, 200, 40)),      # green
    ObjectClass("barrel", "cylinder", (220, 60, 40)),  # blue
    ObjectClass("cone", "cone", (30, 210, 230)),       # yellow
)
LABELS: tuple[str, ...] = tuple(c.label for c in CLASSES)
