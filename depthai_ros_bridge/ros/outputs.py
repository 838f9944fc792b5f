"""The configured node's outputs: lifecycle publishers per stream, fed with device frame sets."""
from __future__ import annotations

import time

import depthai as dai
import numpy as np
from rclpy.lifecycle import LifecycleNode
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2, PointField
from stereo_msgs.msg import DisparityImage
from tf2_msgs.msg import TFMessage

from ..core.camera_info import static_transforms, stream_camera_info
from ..core.colour import colorize_scene
from ..core.compression import compressed_depth, jpeg
from ..core.encodings import encoding_of
from ..core.imu import imu_transform
from ..core.pointcloud import XYZ, XYZRGB, CloudProjector, depth_metres
from ..core.rates import RateLimiter, RateMeter
from ..core.spec import CAMERA_STREAMS, PipelineSpec
from ..device.base import Device, FrameSet
from ..device.frames import CorruptFrame, decode_jpeg, frame_array, frame_is_intact
from . import messages as conv
from . import video
from .entities import lifecycle_publisher
from .imu import ImuPublisher
from .nn_stream import NNStream
from .still import StillPublishers

_RELIABILITY = {"reliable": ReliabilityPolicy.RELIABLE, "best_effort": ReliabilityPolicy.BEST_EFFORT}


class _Pixels:
    """A camera frame's pixels: a view of a raw frame, or -- for a frame that crossed the link as the
    device's MJPEG (<camera>.link_format mjpeg) -- the JPEG decoded once, only when first asked for."""

    __slots__ = ("frame", "_pixels")

    def __init__(self, frame):
        self.frame = frame
        self._pixels: np.ndarray | None = None

    @property
    def jpeg(self) -> bool:
        return isinstance(self.frame, dai.EncodedFrame)

    def get(self) -> np.ndarray | None:
        """The pixels; None for a JPEG that does not decode (counted as corrupt by the caller's check)."""
        if self._pixels is None:
            try:
                self._pixels = decode_jpeg(self.frame) if self.jpeg else frame_array(self.frame)
            except CorruptFrame:
                return None
        return self._pixels


class Outputs:
    """Publishers of every enabled stream; `publish` runs on the device's thread."""

    def __init__(self, node: LifecycleNode, spec: PipelineSpec, device: Device, clock_offset: float):
        self._node, self._spec, self._device = node, spec, device
        self._clock_offset = clock_offset        # ROS time - host steady clock
        self._pubs: dict[str, object] = {}
        self._images: dict[str, conv.ImageMessage] = {}           # Image topic -> its kept message
        self.limiters = {s: RateLimiter(spec.streams[s].max_fps) for s in spec.streams}
        self.received = {s: RateMeter() for s in spec.streams}    # frames from the device
        self.corrupt = {s: 0 for s in spec.streams}               # of those, dropped as broken
        self.published = {}                                        # topic -> RateMeter
        self.depth_limit_m = spec.stereo.depth_limit_m
        self.compression = spec.compressed
        for s in CAMERA_STREAMS:
            if spec.enabled(s):
                self._add(s, f"~/{s}/image_raw", Image)
                self._add(s, f"~/{s}/image_raw/compressed", CompressedImage)
                self._add(s, f"~/{s}/camera_info", CameraInfo)
        if spec.video.enabled and spec.enabled("rgb"):
            self._add("rgb", video.TOPIC, video.FFMPEGPacket)
        self.stills = StillPublishers(node, spec.optical_frame("rgb"), clock_offset) if spec.enabled("rgb") else None
        self._encoded: dict = {}              # this frame set's device-encoded frames (FrameSet.encoded)
        # Recent colour frames' exact stamps by sequence number: a packet's own timestamp holds whole
        # microseconds only (dai timedelta), and a packet (B-frames) can trail its frame.
        self._rgb_stamps: dict[int, float] = {}
        self._projector: CloudProjector | None = None
        # depth_image_proc's point_cloud_xyzrgb: colour when depth is in the colour camera's frame.
        self._coloured_cloud = spec.stereo.align == "rgb" and spec.enabled("rgb")
        self._last_rgb: _Pixels | None = None
        if spec.enabled("stereo"):
            self._projector = CloudProjector(device.cameras["stereo"])
            self._add("stereo", "~/stereo/image_raw", Image)
            self._add("stereo", "~/stereo/image_raw/compressedDepth", CompressedImage)
            self._add("stereo", "~/stereo/camera_info", CameraInfo)
            self._add("stereo", "~/stereo/points", PointCloud2)
            self._add("stereo", "~/stereo/disparity", DisparityImage)
            self._add("stereo", "~/stereo/disparity_color", Image)
        # ~/imu/data (ros/imu.py): fed by the device's IMU callback, not by frame sets.
        self.imu = ImuPublisher(node, spec, device.imu, clock_offset) \
            if spec.imu.enabled and getattr(device, "imu", None) is not None else None
        tf_qos = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self._tf = lifecycle_publisher(node, TFMessage, "/tf_static", tf_qos)
        self.nn = {s: NNStream(node, s, spec, device) for s in CAMERA_STREAMS if spec.enabled(s)}
        self._last_depth_mm: np.ndarray | None = None     # spatial results of a frame without depth use this

    def _add(self, stream: str, topic: str, msg_type) -> None:
        qos = self._spec.streams[stream].qos
        profile = QoSProfile(depth=qos.depth, reliability=_RELIABILITY[qos.reliability])
        self._pubs[topic] = lifecycle_publisher(self._node, msg_type, topic, profile)
        self.published[topic] = RateMeter()
        if msg_type is Image:
            self._images[topic] = conv.ImageMessage()

    @property
    def clock_offset(self) -> float:
        """ROS time - host steady clock: a message's stamp less this is the device's timestamp."""
        return self._clock_offset

    @property
    def topics(self) -> list[str]:
        return list(self._pubs) + (["~/imu/data"] if self.imu is not None else [])

    def publish_static_tf(self) -> None:
        now = time.monotonic() + self._clock_offset
        # The dry run prints the same list (core.camera_info): only the cameras the device has.
        transforms = [conv.transform(t.parent, t.child, t.translation, t.rotation, now)
                      for t in static_transforms(self._spec, self._device.cameras)]
        if self.imu is not None:
            t = imu_transform(self._spec.base_frame, self._spec.imu_frame, self._device.imu)
            transforms.append(conv.transform(t.parent, t.child, t.translation, t.rotation, now))
        self._tf.publish(TFMessage(transforms=transforms))

    def _wanted(self, topic: str) -> bool:
        """Convert nothing for a topic that is not published or has no subscriber."""
        pub = self._pubs.get(topic)
        return pub is not None and pub.get_subscription_count() > 0

    def _send(self, topic: str, msg) -> None:
        self._pubs[topic].publish(msg)
        self.published[topic].tick(time.monotonic())

    def _send_image(self, topic: str, pixels: np.ndarray, hdr) -> None:
        self._send(topic, self._images[topic].fill(pixels, hdr))

    def publish(self, frames: FrameSet) -> None:
        now = time.monotonic()
        seconds = frames.timestamp + self._clock_offset
        images = {}
        self._encoded = frames.encoded
        self._publish_video(frames)
        for camera in CAMERA_STREAMS:
            frame = frames.frames.get(camera)
            if frame is None or not self._spec.enabled(camera):
                continue
            self.received[camera].tick(now)
            if not frame_is_intact(frame):      # wrong size or truncated: dropped and counted, never published
                self.corrupt[camera] += 1
                continue
            images[camera] = _Pixels(frame)
            if camera == "rgb":
                self._last_rgb = images[camera]        # colours the point cloud of a frame set without colour
            if self.limiters[camera].allow(frames.timestamp):
                self._publish_camera(camera, images[camera], seconds)
        if "depth" in frames.frames and self._spec.enabled("stereo"):
            self.received["stereo"].tick(now)
            if not all(frame_is_intact(frames.frames[k]) for k in ("depth", "disparity") if k in frames.frames):
                self.corrupt["stereo"] += 1
                return
            self._last_depth_mm = frame_array(frames.frames["depth"])
            if self.limiters["stereo"].allow(frames.timestamp):
                self._publish_stereo(frames, self._last_depth_mm, seconds)
        for stream, result in frames.nn.items():
            image = images.get(stream)
            self.nn[stream].publish(result, None if image is None else image.get, self._last_depth_mm,
                                    self._device.cameras.get("stereo"), self._device.cameras[stream], seconds)

    def _publish_camera(self, camera: str, image: _Pixels, seconds: float) -> None:
        hdr = conv.header(self._spec.optical_frame(camera), seconds)
        if self._wanted(f"~/{camera}/image_raw"):
            pixels = image.get()            # link_format mjpeg: decoded here, only for a subscriber
            if pixels is None:
                self.corrupt[camera] += 1
            else:
                self._send_image(f"~/{camera}/image_raw", pixels, hdr)
        if self._wanted(f"~/{camera}/image_raw/compressed"):
            # Encoded on the device: the frame itself (link_format mjpeg), or the OAK's MJPEG beside the raw frame.
            mjpeg = [image.frame] if image.jpeg else self._encoded.get(f"mjpeg:{camera}")
            if mjpeg:           # published as the device made it, never re-encoded
                self._send(f"~/{camera}/image_raw/compressed", video.jpeg_msg(mjpeg[-1], hdr, camera == "rgb"))
            else:
                pixels = image.get()
                assert pixels is not None, "a raw frame checked intact has its pixels"
                fmt, data = jpeg(pixels, encoding_of(pixels), self.compression.jpeg_quality)
                self._send(f"~/{camera}/image_raw/compressed", _compressed_msg(hdr, fmt, data))
        if self._wanted(f"~/{camera}/camera_info"):
            # ROS stereo convention: the right camera's P carries -fx * baseline
            # (core.camera_info, shared with the dry run).
            stereo = self._device.stereo
            info = stream_camera_info(camera, self._device.cameras, stereo.baseline_m if stereo else None)
            self._send(f"~/{camera}/camera_info", conv.camera_info_msg(info, hdr))

    def _publish_video(self, frames: FrameSet) -> None:
        """H.264/H.265 packets, each stamped as the colour frame it encodes (rgb.max_fps does not apply: a
        decoder needs every packet). The device encodes only while someone subscribes (set_video_wanted)."""
        if video.TOPIC not in self._pubs:
            return
        wanted = self._wanted(video.TOPIC)
        self._device.set_video_wanted(wanted)
        if "rgb" in frames.frames:
            self._rgb_stamps[frames.seq] = frames.timestamp
            if len(self._rgb_stamps) > 32:
                del self._rgb_stamps[next(iter(self._rgb_stamps))]
        if wanted:
            for packet in self._encoded.get("video", ()):
                stamp = self._rgb_stamps.get(packet.getSequenceNum())
                self._send(video.TOPIC, video.packet_msg(packet, self._spec.optical_frame("rgb"), self._clock_offset,
                                                         stamp))

    def _publish_stereo(self, frames: FrameSet, depth_mm: np.ndarray, seconds: float) -> None:
        hdr = conv.header(self._spec.optical_frame("stereo"), seconds)
        geometry = self._device.stereo
        want_raw = self._wanted("~/stereo/image_raw")
        want_compressed = self._wanted("~/stereo/image_raw/compressedDepth")
        if want_raw or want_compressed:
            depth = self.depth_image(depth_mm)
            if want_raw:
                self._send_image("~/stereo/image_raw", depth, hdr)
            if want_compressed:
                fmt, data = compressed_depth(depth, self.compression.png_level, self.depth_limit_m)
                self._send("~/stereo/image_raw/compressedDepth", _compressed_msg(hdr, fmt, data))
        if self._wanted("~/stereo/camera_info"):
            self._send("~/stereo/camera_info", conv.camera_info_msg(self._device.cameras["stereo"], hdr))
        # A coloured cloud waits for the first colour frame: its fields never change.
        if self._wanted("~/stereo/points"):
            colour = self._last_rgb.get() if self._coloured_cloud and self._last_rgb is not None else None
            if colour is not None or not self._coloured_cloud:
                points = self._projector.cloud(depth_metres(depth_mm, self.depth_limit_m), colour)
                self._send("~/stereo/points", _cloud_msg(hdr, points))
        want_disp, want_color = self._wanted("~/stereo/disparity"), self._wanted("~/stereo/disparity_color")
        if (want_disp or want_color) and "disparity" in frames.frames:
            raw = frame_array(frames.frames["disparity"])
            # Disparity is never aligned: it stays in the rectified right camera's pixels (its size, its f),
            # so it carries the right camera's frame, whose CameraInfo describes it, whatever stereo.align says.
            hdr = conv.header(self._spec.optical_frame("right"), seconds)
            if want_disp:
                self._send("~/stereo/disparity", conv.disparity_msg(
                    raw.astype(np.float32) / geometry.units_per_px, hdr, geometry.focal_px, geometry.baseline_m,
                    0.0, geometry.max_disparity, 1.0 / geometry.units_per_px))
            if want_color:
                # Over this frame's own disparity range, not 0..max searched (core/colour.py says why).
                self._send_image("~/stereo/disparity_color", colorize_scene(raw)[0], hdr)

    def depth_image(self, depth_mm: np.ndarray) -> np.ndarray:
        """Device depth (uint16 mm, 0 = none) in the configured encoding, with the depth limit applied."""
        if self._spec.stereo.depth_encoding == "32FC1":
            return depth_metres(depth_mm, self.depth_limit_m)
        limit_mm = self.depth_limit_m * 1000.0
        if limit_mm:
            return np.where(depth_mm > limit_mm, np.uint16(0), depth_mm)
        return depth_mm

    def destroy(self) -> None:
        for nn in self.nn.values():
            nn.destroy()
        if self.imu is not None:
            self.imu.destroy()
        for pub in list(self._pubs.values()) + [self._tf]:
            self._node.destroy_lifecycle_publisher(pub)
        self._pubs.clear()
        if self.stills is not None:
            self.stills.destroy()
            self.stills = None


def _compressed_msg(hdr, fmt: str, data: np.ndarray | bytes) -> CompressedImage:
    return conv.share_bytes(CompressedImage(header=hdr, format=fmt), data)


def _cloud_msg(hdr, points: np.ndarray) -> PointCloud2:
    """An organized PointCloud2 of float32 fields x, y, z (+ rgb), one point per depth pixel."""
    height, width, count = points.shape
    names = XYZRGB if count == len(XYZRGB) else XYZ
    fields = [PointField(name=name, offset=4 * i, datatype=PointField.FLOAT32, count=1) for i, name in enumerate(names)]
    msg = PointCloud2(header=hdr, height=height, width=width, fields=fields, is_bigendian=False,
                      point_step=4 * count, row_step=4 * count * width, is_dense=False)
    return conv.share_bytes(msg, points)
