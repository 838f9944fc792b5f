"""What a network produces on a frame, as plain types: no inference engine, no ROS."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.spatial import Spatial
from .mapping import InputMapping

if TYPE_CHECKING:
    import depthai as dai


@dataclass
class NNResult:
    """One inference on one frame: detections (boxes normalised to the network input) or raw tensors."""

    detections: dai.ImgDetections | None
    tensors: dai.NNData | None
    mapping: InputMapping
    origin: object = None     # what produced it (its Deployment): results of a swapped-out network are dropped


@dataclass(frozen=True)
class Detection:
    """One detection on a stream's image: box in that image's pixels."""

    label: str
    score: float
    box: tuple[float, float, float, float]      # x0, y0, x1, y1
    spatial: Spatial | None = None
    track_id: str = ""                          # tracking id; empty when not tracked
    status: str = ""                            # tracklet status: NEW | TRACKED | LOST | REMOVED
