"""One camera stream's network on the configured node: what runs, its result topics, its parameters.

What runs is one immutable `RunningNetwork` (deployment, tracker, publishers, message builders),
replaced by one reference assignment. The device's publish thread reads `running` once per frame
set, so a frame never meets a half-swapped network; a result computed by a network that is no
longer the running one is dropped, never published under another network's labels or topics.
The old network's tracker and publishers are released only after the frame in flight is done.

Deploying never stops the stream: the device builds and checks the new network while the old one
keeps running, then swaps them between frames (see Device.deploy). The services that reach this
object live in nn_services.py.
"""
from __future__ import annotations

import dataclasses
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import depthai as dai
import numpy as np
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import Image
from std_msgs.msg import Float32MultiArray
from vision_msgs.msg import Detection2DArray, Detection3DArray, LabelInfo

from ..core.align import align_depth_mm
from ..core.camera_model import CameraModel
from ..core.malloc import trim
from ..core.overlay import draw_overlay
from ..core.rates import RateMeter
from ..core.spatial import locate
from ..core.spec import PipelineSpec
from ..device.base import Device
from ..nn.deployment import DeployError, Deployment, build_deployment
from ..nn.results import Detection, NNResult
from ..nn.tracking import HostTracker, tracks_from_tracklets
from . import detection_msgs as messages
from . import messages as conv
from .entities import lifecycle_publisher

_LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)


@dataclass(frozen=True)
class RunningNetwork:
    """Everything one deployed network publishes with; never changed, only replaced."""

    deployment: Deployment
    publishers: dict[str, Any]                  # result topic name -> lifecycle publisher
    tracker: HostTracker | None
    workdir: tempfile.TemporaryDirectory
    detections: messages.Detection2DArrayBuilder = field(default_factory=messages.Detection2DArrayBuilder)
    tracks: messages.Detection2DArrayBuilder = field(default_factory=messages.Detection2DArrayBuilder)
    spatial: messages.Detection3DArrayBuilder = field(default_factory=messages.Detection3DArrayBuilder)
    overlay: conv.ImageMessage = field(default_factory=conv.ImageMessage)

    def wanted(self, name: str) -> bool:
        pub = self.publishers.get(name)
        return pub is not None and pub.get_subscription_count() > 0


class NNStream:
    def __init__(self, node, stream: str, spec: PipelineSpec, device: Device):
        self._node, self.stream, self._device = node, stream, device
        nn_spec = spec.streams[stream].nn
        self.spatial_config = nn_spec.spatial          # live: replaced by the parameter handler
        self._tracker_spec = nn_spec.tracker
        self._resize_mode = nn_spec.resize_mode
        self._frame_id = spec.optical_frame(stream)
        self._has_depth = spec.enabled("stereo")
        self._qos = QoSProfile(depth=spec.streams[stream].qos.depth)
        self.running: RunningNetwork | None = None
        self.status = "no network"
        self.inferences = RateMeter()
        self.stale_results = 0                          # results of a network swapped out before publishing
        self.last_pause_s = 0.0                         # how long the last deploy/remove paused the streams
        self._publishers: dict[str, Any] = {}           # every result publisher this stream has made
        self._serial = threading.Lock()                 # one deploy/remove at a time (held for its whole run)
        self._lock = threading.Lock()                   # state changes: short, never held while building
        self._in_flight = threading.Lock()              # held by publish() for one frame set
        self._closed = False
        self._deployed_at: float | None = None

    # -- deploy / remove ---------------------------------------------------------------
    def deploy(self, request: dict) -> Deployment:
        """Deploy, or raise DeployError saying why; on failure the previous network keeps running.

        Models are read through the node's ModelStore (allow-list, size caps); uploaded bytes are
        kept in its cache, so the parameter shows a path that a later configure deploys again.
        """
        with self._serial:
            self._check_open()
            workdir = tempfile.TemporaryDirectory(prefix=f"drb-{self.stream}-nn-")
            log = self._node.get_logger()
            previous_status, self.status = self.status, "deploy in progress"
            log.info(f"{self.stream}: deploying a network; streams keep running")
            try:
                deployment = build_deployment(self.stream, request, Path(workdir.name), self._resize_mode,
                                              store=self._node.model_store, keep=self._node.running_models())
                self.last_pause_s = self._device.deploy(self.stream, deployment, Path(workdir.name)) or 0.0
            except Exception as e:
                workdir.cleanup()
                self.status = previous_status
                reason = str(e) if isinstance(e, DeployError) else f"deploy failed: {e!r}"
                if self._closed:
                    reason = f"the node was cleaned up during the deploy on {self.stream}; nothing is deployed"
                log.error(f"{self.stream}: deploy failed, previous network unchanged: {reason}")
                raise DeployError(reason) from None
            with self._lock:
                if self._closed:      # cleaned up meanwhile: the device that took it is closed
                    workdir.cleanup()
                    raise DeployError(f"the node was cleaned up during the deploy on {self.stream}; "
                                      "nothing is deployed")
                running = RunningNetwork(deployment, self._publishers_for(deployment), self._new_tracker(deployment),
                                     workdir)
                old, self.running = self.running, running
                self.status, self._deployed_at = f"running {deployment.source}", time.monotonic()
            self._retire(old, running)
            self.publish_label_info()
            self._node.show_nn_parameters(self.stream, deployment.source, deployment.config.to_json(),
                                          deployment.labels, deployment.resize_mode)
            log.info(f"{self.stream}: {deployment.config.type} network {deployment.source} deployed")
            return deployment

    def remove(self) -> None:
        with self._serial:
            self._check_open()
            if self.running is None:
                raise DeployError(f"no network is deployed on {self.stream}")
            self.last_pause_s = self._device.remove(self.stream) or 0.0
            with self._lock:
                old, self.running, self.status = self.running, None, "no network"
            self._retire(old, None)
            self._node.show_nn_parameters(self.stream, "", "", (), self._resize_mode)
            self._node.get_logger().info(f"{self.stream}: network removed")

    def _check_open(self) -> None:
        if self._closed:
            raise DeployError(f"{self.stream} is being released (cleanup or shutdown); nothing was changed")

    def _new_tracker(self, deployment: Deployment) -> HostTracker | None:
        if self._tracker_spec.enabled and deployment.config.type != "Generic":
            return HostTracker(self._tracker_spec.max_tracklets, self._tracker_spec.confidence_threshold)
        return None

    def _publishers_for(self, deployment: Deployment) -> dict[str, Any]:
        """The result publishers this network needs, made once per stream and kept across deploys."""
        wanted: dict[str, type] = {"label_info": LabelInfo}
        if deployment.config.type == "Generic":
            wanted["tensors"] = Float32MultiArray
        else:
            wanted.update(detections=Detection2DArray, overlay=Image)
            if self._tracker_spec.enabled:
                wanted["tracks"] = Detection2DArray
            if self._has_depth:
                wanted["spatial_detections"] = Detection3DArray
        for name, msg_type in wanted.items():
            if name not in self._publishers:
                pub = lifecycle_publisher(self._node, msg_type, f"~/{self.stream}/nn/{name}",
                                          _LATCHED if name == "label_info" else self._qos)
                if self._node.is_active:
                    pub.on_activate(None)
                self._publishers[name] = pub
        return {name: self._publishers[name] for name in wanted}

    def _retire(self, old: RunningNetwork | None, new: RunningNetwork | None) -> None:
        """Release what only `old` used, once the frame set being published (if any) is done with it."""
        if old is None:
            return
        with self._in_flight:
            pass
        if old.tracker is not None:
            old.tracker.close()
        old.workdir.cleanup()
        trim()                    # the old network's session and archive go back to the system
        keep = set(new.publishers) if new is not None else set()
        with self._lock:
            for name in [n for n in self._publishers if n not in keep]:
                self._node.destroy_lifecycle_publisher(self._publishers.pop(name))

    def close_for_release(self) -> None:
        """From now on deploys and removes are refused; one still running undoes itself at its end."""
        with self._lock:
            self._closed = True

    def destroy(self) -> None:
        """Release everything; a deploy still running finds the stream closed and undoes itself."""
        with self._lock:
            self._closed = True
            old, self.running, self.status = self.running, None, "no network"
        with self._in_flight:
            pass
        if old is not None:
            if old.tracker is not None:
                old.tracker.close()
            old.workdir.cleanup()
        with self._lock:
            for pub in self._publishers.values():
                self._node.destroy_lifecycle_publisher(pub)
            self._publishers.clear()

    # -- publishing ------------------------------------------------------------------
    def publish_label_info(self) -> None:
        running = self.running
        if running is not None and self._node.is_active:
            d = running.deployment
            stamp = self._node.get_clock().now().nanoseconds * 1e-9
            running.publishers["label_info"].publish(
                messages.label_info(d.labels, d.config.confidence_threshold, conv.header(self._frame_id, stamp)))

    def publish(self, result: NNResult, image: np.ndarray | Callable[[], np.ndarray | None] | None,
                depth_mm: np.ndarray | None,
                depth_camera: CameraModel | None, stream_camera: CameraModel, seconds: float) -> None:
        with self._in_flight:
            running = self.running           # read once: this frame set uses this network throughout
            if running is None:
                return
            if result.origin is not None and result.origin is not running.deployment:
                self.stale_results += 1      # computed by a network that has been swapped out
                return
            self._publish(running, result, image, depth_mm, depth_camera, stream_camera, seconds)

    def _publish(self, running: RunningNetwork, result: NNResult, image, depth_mm, depth_camera,
                 stream_camera: CameraModel, seconds: float) -> None:
        self.inferences.tick(time.monotonic())
        if self._deployed_at is not None:
            self._node.get_logger().info(
                f"{self.stream}: results flowing {time.monotonic() - self._deployed_at:.2f} s after deploy")
            self._deployed_at = None
        hdr = conv.header(self._frame_id, seconds)
        if result.tensors is not None:
            if running.wanted("tensors"):
                for name in result.tensors.getAllLayerNames():
                    running.publishers["tensors"].publish(messages.tensor_msg(name, result.tensors.getTensor(name)))
            return
        deployment = running.deployment
        raw = result.detections.detections
        boxes = result.mapping.boxes_to_source([[d.xmin, d.ymin, d.xmax, d.ymax] for d in raw]) if raw else []
        detections = [Detection(deployment.label(d.label), float(d.confidence), tuple(map(float, b)))
                      for d, b in zip(raw, boxes)]
        want_spatial, want_overlay = running.wanted("spatial_detections"), running.wanted("overlay")
        if detections and depth_mm is not None and (want_spatial or want_overlay):
            detections = self._locate(detections, depth_mm, depth_camera, stream_camera)
        if running.wanted("detections"):
            running.publishers["detections"].publish(running.detections.build(detections, hdr))
        if running.tracker is not None:    # fed every frame, wanted or not: tracks need an unbroken sequence
            tracks = _track(running, raw, boxes, stream_camera)
            if running.wanted("tracks"):
                running.publishers["tracks"].publish(running.tracks.build(tracks, hdr))
        if want_spatial:
            running.publishers["spatial_detections"].publish(running.spatial.build(detections, hdr))
        # `image` may be a getter: a frame that crossed the link as MJPEG is decoded only for an overlay.
        pixels = image() if callable(image) else image
        if want_overlay and pixels is not None:
            running.publishers["overlay"].publish(running.overlay.fill(draw_overlay(pixels, detections), hdr))

    def _locate(self, detections: list[Detection], depth_mm: np.ndarray, depth_camera: CameraModel,
                stream_camera: CameraModel) -> list[Detection]:
        """Positions in the stream camera's optical frame, from depth seen by (or aligned to) that camera."""
        target = depth_camera
        if depth_camera.name != stream_camera.name:
            target = stream_camera.scaled_to_width(depth_mm.shape[1])
            depth_mm = align_depth_mm(depth_mm, depth_camera, target)
        s = target.width / stream_camera.width
        spatial = self.spatial_config
        return [dataclasses.replace(d, spatial=locate(depth_mm, tuple(v * s for v in d.box), target,
                                                      spatial, metres_per_unit=0.001))
                for d in detections]


def _track(running: RunningNetwork, raw, boxes, camera: CameraModel) -> list[Detection]:
    """Detections in frame coordinates -> depthai's ObjectTracker -> tracks with ids and status."""
    w, h = camera.width, camera.height
    in_frame = dai.ImgDetections()
    converted = []
    for d, (x0, y0, x1, y1) in zip(raw, boxes):
        det = dai.ImgDetection()
        det.label, det.confidence = d.label, d.confidence
        det.xmin, det.ymin, det.xmax, det.ymax = x0 / w, y0 / h, x1 / w, y1 / h
        converted.append(det)
    in_frame.detections = converted
    label = running.deployment.label
    return [Detection(label(t.label), t.confidence,
                      (t.box_norm[0] * w, t.box_norm[1] * h, t.box_norm[2] * w, t.box_norm[3] * h),
                      track_id=str(t.id), status=t.status)
            for t in tracks_from_tracklets(running.tracker.track((w, h), in_frame))]
