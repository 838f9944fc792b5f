"""One camera stream's network on the node: deploy/remove services, result topics, parameters.

Deploying never stops the node: the device builds and checks the new network while
the old one keeps running, then swaps them between frames (see Device.deploy).
"""
from __future__ import annotations

import dataclasses
import tempfile
import threading
import time
from pathlib import Path

import cv2
import depthai as dai
import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rcl_interfaces.srv import SetParametersAtomically
from rclpy.parameter import parameter_value_to_python
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import Image
from std_msgs.msg import Float32MultiArray
from std_srvs.srv import Trigger
from vision_msgs.msg import Detection2DArray, Detection3DArray, LabelInfo

from . import messages as conv
from ..core.align import align_depth_mm
from ..core.camera_model import CameraModel
from ..core.rates import RateMeter
from ..core.spatial import locate
from ..core.spec import PipelineSpec
from . import detection_msgs as messages
from ..nn.deployment import DeployError, Deployment, build_deployment
from ..nn.results import Detection, NNResult
from ..nn.tracking import HostTracker, tracks_from_tracklets
from .entities import lifecycle_publisher


def _request_values(parameters) -> dict:
    values = {}
    for p in parameters:
        value = parameter_value_to_python(p.value)
        values[p.name] = b"".join(value) if p.name == "model_data" and isinstance(value, list) else value
    return values


class NNStream:
    def __init__(self, node, stream: str, spec: PipelineSpec, device, callback_group):
        self._node, self.stream, self._device = node, stream, device
        nn_spec = spec.streams[stream].nn
        self.spatial_config = nn_spec.spatial
        self._tracker_spec = nn_spec.tracker
        self._tracker: HostTracker | None = None
        self._resize_mode = nn_spec.resize_mode
        self._frame_id = spec.optical_frame(stream)
        self._has_depth = spec.enabled("stereo")
        self._qos = QoSProfile(depth=spec.streams[stream].qos.depth)
        self.deployment: Deployment | None = None
        self.status = "no network"
        self.inferences = RateMeter()
        self._workdir: tempfile.TemporaryDirectory | None = None
        self._pubs: dict[str, object] = {}
        self._detections = messages.Detection2DArrayBuilder()
        self._tracks = messages.Detection2DArrayBuilder()
        self._spatial = messages.Detection3DArrayBuilder()
        self._overlay = conv.ImageMessage()
        self._lock = threading.Lock()          # one deploy/remove at a time on this stream
        self._deployed_at: float | None = None
        self._services = [
            node.create_service(SetParametersAtomically, f"~/{stream}/nn/deploy", self._on_deploy,
                                callback_group=callback_group),
            node.create_service(Trigger, f"~/{stream}/nn/remove", self._on_remove, callback_group=callback_group)]

    # -- deploy / remove -------------------------------------------------------------
    def _on_deploy(self, request, response):
        try:
            self.deploy(_request_values(request.parameters))
            d = self.deployment
            response.result = SetParametersResult(
                successful=True, reason=f"{d.config.type} network {d.source} running on {self.stream}")
        except DeployError as e:
            response.result = SetParametersResult(successful=False, reason=str(e))
        return response

    def _on_remove(self, request, response):
        try:
            self.remove()
            response.success, response.message = True, f"network removed from {self.stream}"
        except DeployError as e:
            response.success, response.message = False, str(e)
        return response

    def deploy(self, request: dict) -> None:
        """Deploy, or raise DeployError saying why; on failure the previous network keeps running."""
        with self._lock:
            workdir = tempfile.TemporaryDirectory(prefix=f"drb-{self.stream}-nn-")
            previous_status, self.status = self.status, "deploy in progress"
            log = self._node.get_logger()
            log.info(f"{self.stream}: deploying a network; streams keep running")
            try:
                deployment = build_deployment(self.stream, request, Path(workdir.name), self._resize_mode)
                self._device.deploy(self.stream, deployment, Path(workdir.name))
            except Exception as e:
                workdir.cleanup()
                self.status = previous_status
                log.error(f"{self.stream}: deploy failed, previous network unchanged: {e}")
                if isinstance(e, DeployError):
                    raise
                raise DeployError(f"deploy failed: {e!r}") from e
            old, self._workdir, self.deployment = self._workdir, workdir, deployment
            if old is not None:
                old.cleanup()
            self._replace_tracker(deployment)
            self._make_publishers(deployment)
            self.status, self._deployed_at = f"running {deployment.source}", time.monotonic()
            self.publish_label_info()
            self._node.show_nn_parameters(self.stream, deployment.source, deployment.config.to_json(),
                                          deployment.labels, deployment.resize_mode)
            log.info(f"{self.stream}: {deployment.config.type} network {deployment.source} deployed")

    def remove(self) -> None:
        with self._lock:
            if self.deployment is None:
                raise DeployError(f"no network is deployed on {self.stream}")
            self._device.remove(self.stream)
            self._release()
            self._node.show_nn_parameters(self.stream, "", "", (), self._resize_mode)
            self._node.get_logger().info(f"{self.stream}: network removed")

    def _replace_tracker(self, deployment: Deployment | None) -> None:
        old, self._tracker = self._tracker, None
        if deployment is not None and self._tracker_spec.enabled and deployment.config.type != "Generic":
            self._tracker = HostTracker(self._tracker_spec.max_tracklets, self._tracker_spec.confidence_threshold)
        if old is not None:
            old.close()

    def _release(self) -> None:
        self._replace_tracker(None)
        for pub in self._pubs.values():
            self._node.destroy_lifecycle_publisher(pub)
        self._pubs.clear()
        if self._workdir is not None:
            self._workdir.cleanup()
        self._workdir, self.deployment, self.status = None, None, "no network"

    def destroy(self) -> None:
        with self._lock:
            self._release()
            for service in self._services:
                self._node.destroy_service(service)

    # -- publishing ------------------------------------------------------------------
    def _make_publishers(self, deployment: Deployment) -> None:
        wanted = {"label_info": LabelInfo}
        if deployment.config.type == "Generic":
            wanted["tensors"] = Float32MultiArray
        else:
            wanted.update(detections=Detection2DArray, overlay=Image)
            if self._tracker_spec.enabled:
                wanted["tracks"] = Detection2DArray
            if self._has_depth:
                wanted["spatial_detections"] = Detection3DArray
        for name in set(self._pubs) - set(wanted):
            self._node.destroy_lifecycle_publisher(self._pubs.pop(name))
        for name, msg_type in wanted.items():
            if name not in self._pubs:
                qos = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL) \
                    if name == "label_info" else self._qos
                pub = lifecycle_publisher(self._node, msg_type, f"~/{self.stream}/nn/{name}", qos)
                if self._node.is_active:
                    pub.on_activate(None)
                self._pubs[name] = pub

    def publish_label_info(self) -> None:
        if self.deployment is not None and self._node.is_active:
            self._pubs["label_info"].publish(messages.label_info(
                self.deployment.labels, self.deployment.config.confidence_threshold,
                conv.header(self._frame_id, time.time())))

    def _wanted(self, name: str) -> bool:
        pub = self._pubs.get(name)
        return pub is not None and pub.get_subscription_count() > 0

    def publish(self, result: NNResult, image: np.ndarray | None, depth_mm: np.ndarray | None,
                depth_camera: CameraModel | None, stream_camera: CameraModel, seconds: float) -> None:
        deployment = self.deployment
        if deployment is None:
            return
        self.inferences.tick(time.monotonic())
        if self._deployed_at is not None:
            self._node.get_logger().info(
                f"{self.stream}: results flowing {time.monotonic() - self._deployed_at:.2f} s after deploy")
            self._deployed_at = None
        hdr = conv.header(self._frame_id, seconds)
        if result.tensors is not None:
            if self._wanted("tensors"):
                for name in result.tensors.getAllLayerNames():
                    self._pubs["tensors"].publish(messages.tensor_msg(name, result.tensors.getTensor(name)))
            return
        raw = result.detections.detections
        boxes = result.mapping.boxes_to_source([[d.xmin, d.ymin, d.xmax, d.ymax] for d in raw]) if raw else []
        detections = [Detection(deployment.label(d.label), float(d.confidence), tuple(map(float, b)))
                      for d, b in zip(raw, boxes)]
        want_spatial, want_overlay = self._wanted("spatial_detections"), self._wanted("overlay")
        if detections and depth_mm is not None and (want_spatial or want_overlay):
            detections = self._locate(detections, depth_mm, depth_camera, stream_camera)
        if self._wanted("detections"):
            self._pubs["detections"].publish(self._detections.build(detections, hdr))
        if self._tracker is not None:    # fed every frame, wanted or not: tracks need an unbroken sequence
            tracks = self._track(raw, boxes, stream_camera)
            if self._wanted("tracks"):
                self._pubs["tracks"].publish(self._tracks.build(tracks, hdr))
        if want_spatial:
            self._pubs["spatial_detections"].publish(self._spatial.build(detections, hdr))
        if want_overlay and image is not None:
            self._pubs["overlay"].publish(self._overlay.fill(draw_overlay(image, detections), hdr))

    def _track(self, raw, boxes, camera: CameraModel) -> list[Detection]:
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
        return [Detection(self.deployment.label(t.label), t.confidence,
                          (t.box_norm[0] * w, t.box_norm[1] * h, t.box_norm[2] * w, t.box_norm[3] * h),
                          track_id=str(t.id), status=t.status)
                for t in tracks_from_tracklets(self._tracker.track((w, h), in_frame))]

    def _locate(self, detections: list[Detection], depth_mm: np.ndarray, depth_camera: CameraModel,
                stream_camera: CameraModel) -> list[Detection]:
        """Positions in the stream camera's optical frame, from depth seen by (or aligned to) that camera."""
        target = depth_camera
        if depth_camera.name != stream_camera.name:
            target = stream_camera.scaled_to_width(depth_mm.shape[1])
            depth_mm = align_depth_mm(depth_mm, depth_camera, target)
        s = target.width / stream_camera.width
        return [dataclasses.replace(d, spatial=locate(depth_mm, tuple(v * s for v in d.box), target,
                                                      self.spatial_config, metres_per_unit=0.001))
                for d in detections]


def draw_overlay(image: np.ndarray, detections: list[Detection]) -> np.ndarray:
    """The frame with each detection's box, label, score and (when known) distance."""
    canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    for det in detections:
        x0, y0, x1, y1 = (int(round(v)) for v in det.box)
        text = f"{det.label} {det.score:.2f}"
        if det.spatial is not None:
            text += f" {det.spatial.centre[2]:.2f} m"
        cv2.rectangle(canvas, (x0, y0), (x1, y1), (0, 255, 0), 2)
        cv2.putText(canvas, text, (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 0), 1, cv2.LINE_AA)
    return canvas
