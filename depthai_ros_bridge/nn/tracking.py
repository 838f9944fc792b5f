"""Object tracking on the host with depthai's own ObjectTracker.

``HostTracker`` runs ``dai.node.ObjectTracker`` with ``setRunOnHost(True)`` in a
host-only pipeline (``dai.Pipeline(False)``), fed one frame and one
``dai.ImgDetections`` per call, and returns depthai's ``dai.Tracklets``: a stable
``id`` per object and the status NEW / TRACKED / LOST / REMOVED, as an OAK's tracker
gives them. :func:`tracks_from_tracklets` turns them into plain :class:`Track` values.
Nothing here needs ROS.

What the host tracker is (depthai 3.12, measured; the algorithm read in
depthai-core's ``src/pipeline/node/ObjectTracker.cpp`` and
``src/utility/ObjectTrackerImpl.cpp`` of the 3.4/3.5 sources, which 3.12 matches in
everything tested here):

* The host node runs one algorithm whatever ``TrackerType`` is set: OC-SORT (Kalman
  boxes, GIoU association), i.e. ``SHORT_TERM_IMAGELESS`` (other types log "Selected
  tracker type is not supported on RVC4, using SHORT_TERM_IMAGELESS instead" and track
  identically), so this class always configures that type.
* It is imageless: only the tracker frame's size, ``ImgTransformation``, sequence
  number and timestamps are read, never its pixels (any ``ImgFrame.Type`` works, and a
  frame with no data at all). Each detection box is normalised to its
  ``ImgDetections``' transformation (or, without one, to an ``inputDetectionFrame``,
  which the node then waits for -- forever), remapped with
  ``ImgTransformation.remapRectTo`` into the tracker frame, clipped to it, and tracked
  in tracker-frame pixels. Tracklet ROIs come back normalised to the tracker frame;
  ``srcImgDetection`` is the matched input detection unchanged (normalised to its
  own transformation).
* Remapping pitfalls, all silent in depthai: an invalid (default) frame
  transformation or transformations with different source sizes remap pixels 1:1;
  intrinsics known on one side only put the boxes off the frame (they vanish); a
  NaN box becomes a full-frame track. So inputs are checked here (see
  :meth:`HostTracker.track`) before they reach the node; an exception inside the
  node's thread would stop it for good.
* Life cycle (depthai's defaults, which the node keeps: birth threshold B = 3 and
  max lifespan L = 120 frames): a new
  object is NEW on its first B-1 frames and TRACKED from the B-th matched frame on.
  A NEW tracklet missing one frame is REMOVED at once. A TRACKED one that misses a
  frame becomes LOST (ROI frozen at its last box) and returns to TRACKED, same id, if
  matched again; it is LOST for L missed frames, reported REMOVED (once) on the
  next miss, then dropped.
* ``confidence_threshold``: detections with confidence >= it are tracked, the rest
  are ignored (as if absent).
* ``max_tracklets`` caps the tracklets alive at once (a tracklet frees its slot on
  the frame it is reported REMOVED); when more objects appear, the ones seen first
  keep their slots, the others are not reported at all. Which of several
  objects first seen in the same frame get the slots is depthai's internal order
  (per label), not confidence. v3 documents a limit of 1000 (60 for KCF).
* ids: ``UNIQUE_ID`` (the policy used here) never reuses an id; ids are unique across
  labels. Tracking is per class: a detection only continues a tracklet of its own label.
"""
from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeGuard

import depthai as dai
import numpy as np

from .host_pipeline import HostPipeline

MAX_TRACKLETS_LIMIT = 1000      # v3's documented maximum for imageless tracking
_COORD_RANGE = (-0.25, 1.25)    # normalised boxes must lie here (extent <= 1.5: see _validate)


class TrackerError(RuntimeError):
    """The tracker cannot answer (closed, timed out, or its node stopped)."""


@dataclass(frozen=True)
class Track:
    """One tracklet as plain values. ``box_norm`` is (x0, y0, x1, y1) normalised to the
    tracker frame; ``confidence``/``label_name`` are those of the detection last
    matched to it (for LOST tracks: the last one before it was lost)."""

    id: int
    status: str                     # "NEW" | "TRACKED" | "LOST" | "REMOVED"
    label: int
    box_norm: tuple[float, float, float, float]
    confidence: float
    label_name: str = ""
    age: int = 0                    # frames the tracklet has been matched
    spatial_mm: tuple[float, float, float] | None = None   # from SpatialImgDetections, else None


def tracks_from_tracklets(tracklets: dai.Tracklets | Iterable[dai.Tracklet]) -> list[Track]:
    """``dai.Tracklets`` (or a list of ``dai.Tracklet``) -> :class:`Track` values, by id."""
    items = tracklets.tracklets if isinstance(tracklets, dai.Tracklets) else tracklets
    out = []
    for t in items:
        roi = t.roi
        det = t.srcImgDetection
        sc = t.spatialCoordinates
        spatial = (float(sc.x), float(sc.y), float(sc.z)) if sc.z != 0 else None
        out.append(Track(
            id=int(t.id), status=t.status.name, label=int(t.label),
            box_norm=(float(roi.x), float(roi.y), float(roi.x + roi.width), float(roi.y + roi.height)),
            confidence=float(det.confidence), label_name=str(det.labelName), age=int(t.age),
            spatial_mm=spatial))
    out.sort(key=lambda tr: tr.id)
    return out


def _is_identity(k) -> bool:
    return np.allclose(np.asarray(k, np.float64), np.eye(3))


def _valid_transformation(t: dai.ImgTransformation | None) -> TypeGuard[dai.ImgTransformation]:
    return t is not None and t.isValid() and min(t.getSize()) > 0 and min(t.getSourceSize()) > 0


class HostTracker(HostPipeline):
    """depthai's ObjectTracker on the host: (frame, detections) in, ``dai.Tracklets`` out.

    ``track()`` is synchronous (send, then wait for the tracker's answer) and
    thread-safe; calls must come in frame order, one per frame (the tracker counts
    frames, not time). Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, max_tracklets: int = 20, confidence_threshold: float = 0.5, *, timeout_s: float = 2.0):
        if isinstance(max_tracklets, bool) or not isinstance(max_tracklets, (int, np.integer)) \
                or not 1 <= max_tracklets <= MAX_TRACKLETS_LIMIT:
            raise ValueError(f"max_tracklets must be an integer in 1..{MAX_TRACKLETS_LIMIT}, "
                             f"got {max_tracklets!r}")
        if not (isinstance(confidence_threshold, (int, float)) and 0.0 <= confidence_threshold <= 1.0):
            raise ValueError(f"confidence_threshold must be in [0, 1], got {confidence_threshold!r}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
        self.max_tracklets = int(max_tracklets)
        self.confidence_threshold = float(confidence_threshold)
        self._timeout = datetime.timedelta(seconds=timeout_s)
        super().__init__()

        node = self._pipeline.create(dai.node.ObjectTracker)
        node.setRunOnHost(True)
        node.setTrackerType(dai.TrackerType.SHORT_TERM_IMAGELESS)   # the only one the host runs
        node.setMaxObjectsToTrack(self.max_tracklets)
        node.setTrackerThreshold(self.confidence_threshold)
        node.setTrackerIdAssignmentPolicy(dai.TrackerIdAssignmentPolicy.UNIQUE_ID)
        self._in_frame = node.inputTrackerFrame.createInputQueue()
        self._in_dets = node.inputDetections.createInputQueue()
        self._out = node.out.createOutputQueue()
        self._start()
        self._calls = 0
        self._frame_size: tuple[int, int] | None = None

    # -- tracking -----------------------------------------------------------------------
    def track(self, frame: dai.ImgFrame | tuple[int, int],
              detections: dai.ImgDetections | dai.SpatialImgDetections) -> dai.Tracklets:
        """Track one frame's detections; returns depthai's ``dai.Tracklets`` with the
        frame's sequence number, timestamps and transformation.

        ``frame`` is the image the detections were made on (only its size,
        transformation, sequence number and timestamps are used), or just its
        ``(width, height)``; then sequence number and timestamps come from the
        detections. Its size must stay the same from call to call.

        Transformations: a frame with a valid ``ImgTransformation`` is used as is and
        depthai remaps the detections into it. A frame without one (host-made frames)
        is taken to be the detections' source image: the detections' transformation
        must then have the frame's size as its source size, and its intrinsics are
        carried over. Detections without a transformation are taken as normalised to
        the frame. Boxes must be finite and normalised; confidences finite.

        Raises ``ValueError``/``TypeError`` for bad inputs (nothing is sent; the
        tracker stays usable) and :class:`TrackerError` if the tracker cannot answer.
        """
        tracker_frame, user_seq = self._tracker_frame(frame, detections)
        dets = self._validated_detections(detections, tracker_frame.getTransformation())
        with self._lock:
            self._check_usable("tracker", TrackerError)
            size = (tracker_frame.getWidth(), tracker_frame.getHeight())
            if self._frame_size is None:
                self._frame_size = size
            elif size != self._frame_size:
                raise ValueError(f"frame size {size[0]}x{size[1]} differs from the first frame's "
                                 f"{self._frame_size[0]}x{self._frame_size[1]}: tracklets live in "
                                 f"tracker-frame pixels; use a new tracker")
            # our own sequence numbers pair each answer with its request
            self._calls += 1
            tracker_frame.setSequenceNum(self._calls)
            result = self._exchange([(self._in_frame, tracker_frame), (self._in_dets, dets)],
                                    "ObjectTracker", TrackerError)
            if result.getSequenceNum() != self._calls:
                self._broken = (f"ObjectTracker answered request {result.getSequenceNum()} "
                                f"to request {self._calls}")
                raise TrackerError(self._broken)
        result.setSequenceNum(user_seq)
        return result

    # -- input checks (nothing reaches the node unchecked) ------------------------------
    def _tracker_frame(self, frame, detections) -> tuple[dai.ImgFrame, int]:
        """A pixel-less ImgFrame with the frame's size, transformation and timing."""
        if not isinstance(detections, (dai.ImgDetections, dai.SpatialImgDetections)):
            raise TypeError(f"detections must be dai.ImgDetections or dai.SpatialImgDetections, "
                            f"got {type(detections).__name__}")
        out = dai.ImgFrame()
        src: dai.ImgFrame | dai.ImgDetections | dai.SpatialImgDetections
        frame_t: dai.ImgTransformation | None
        if isinstance(frame, dai.ImgFrame):
            w, h = frame.getWidth(), frame.getHeight()
            src = frame
            frame_t = frame.getTransformation()
            out.setType(frame.getType())
        elif isinstance(frame, (tuple, list)) and len(frame) == 2:
            w, h = (int(v) for v in frame)
            src = detections
            frame_t = None
            out.setType(dai.ImgFrame.Type.BGR888i)
        else:
            raise TypeError(f"frame must be a dai.ImgFrame or (width, height), got {type(frame).__name__}")
        if w <= 0 or h <= 0:
            raise ValueError(f"frame has no size ({w}x{h})")
        out.setWidth(w)
        out.setHeight(h)
        out.setTimestamp(src.getTimestamp())
        out.setTimestampDevice(src.getTimestampDevice())
        det_t = detections.getTransformation()
        if _valid_transformation(frame_t):
            if tuple(frame_t.getSize()) != (w, h):
                raise ValueError(f"frame transformation size {frame_t.getSize()} is not the frame's {w}x{h}")
            if _valid_transformation(det_t):
                self._check_remappable(det_t, frame_t)
            t = frame_t
        elif _valid_transformation(det_t):
            if tuple(det_t.getSourceSize()) != (w, h):
                raise ValueError(
                    f"the detections' transformation has source size {det_t.getSourceSize()}, the "
                    f"frame is {w}x{h} and has no transformation relating the two: give the frame a "
                    f"transformation, or pass detections normalised to the frame (without one)")
            t = dai.ImgTransformation(w, h, det_t.getSourceIntrinsicMatrix(),
                                      det_t.getDistortionModel(), det_t.getDistortionCoefficients())
        else:
            t = dai.ImgTransformation(w, h)
        out.setTransformation(t)
        return out, int(src.getSequenceNum())

    @staticmethod
    def _check_remappable(det_t: dai.ImgTransformation, frame_t: dai.ImgTransformation) -> None:
        k_det, k_frame = det_t.getSourceIntrinsicMatrix(), frame_t.getSourceIntrinsicMatrix()
        unknown_det, unknown_frame = _is_identity(k_det), _is_identity(k_frame)
        if unknown_det != unknown_frame:
            raise ValueError("intrinsics are set on only one of the frame's and the detections' "
                             "transformations: depthai would remap the boxes off the frame")
        if unknown_det and tuple(det_t.getSourceSize()) != tuple(frame_t.getSourceSize()):
            raise ValueError(f"the detections' and the frame's transformations come from different "
                             f"sources ({det_t.getSourceSize()} vs {frame_t.getSourceSize()}) and "
                             f"carry no intrinsics to relate them")

    @staticmethod
    def _validated_detections(detections, frame_t: dai.ImgTransformation):
        items = list(detections.detections)
        for i, d in enumerate(items):
            box = (d.xmin, d.ymin, d.xmax, d.ymax)
            if not all(math.isfinite(v) for v in box) or not math.isfinite(d.confidence):
                raise ValueError(f"detection {i} has non-finite values: box {box}, "
                                 f"confidence {d.confidence}")
            # depthai takes boxes whose extent exceeds 1.5 for pixels; accept normalised only
            if not all(_COORD_RANGE[0] <= v <= _COORD_RANGE[1] for v in box):
                raise ValueError(f"detection {i} box {box} is not normalised")
        if _valid_transformation(detections.getTransformation()):
            return detections
        # without a transformation the node would wait for an inputDetectionFrame: give the
        # detections the frame's (they are normalised to the frame); don't touch the caller's
        copy = type(detections)()
        copy.detections = items
        copy.setSequenceNum(detections.getSequenceNum())
        copy.setTimestamp(detections.getTimestamp())
        copy.setTimestampDevice(detections.getTimestampDevice())
        copy.setTransformation(frame_t)
        return copy


__all__ = ["HostTracker", "Track", "TrackerError", "tracks_from_tracklets", "MAX_TRACKLETS_LIMIT"]
