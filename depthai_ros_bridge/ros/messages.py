"""numpy frames and camera models -> ROS messages, without per-element Python work.

cv_bridge is not installable from PyPI (the `cv-bridge` wheel there is a ROS 1
port that breaks on NumPy 2), so this module does its job: the encodings,
`step` and `is_bigendian` are exactly what cv_bridge.cv2_to_imgmsg produces.
It differs in one place: cv_bridge copies the frame twice (`tobytes()` then
`frombytes`) before publish() copies it again; we make no copy: publish() reads the
frame's own buffer.
"""
from __future__ import annotations

import sys

import numpy as np
from geometry_msgs.msg import Quaternion, Transform, TransformStamped, Vector3
from sensor_msgs.msg import CameraInfo, Image, RegionOfInterest
from std_msgs.msg import Header
from stereo_msgs.msg import DisparityImage

from ..core.camera_info import CameraInfoValues, camera_info
from ..core.camera_info import camera_transforms as static_camera_transforms
from ..core.camera_model import CameraModel
from ..core.encodings import encoding_of
from ..core.tf_frames import OPTICAL_ROTATION  # noqa: F401 - re-exported for tests


def header(frame_id: str, seconds: float) -> Header:
    hdr = Header()     # fields set after: Header(stamp=...) would also build a default stamp to discard
    sec = int(seconds // 1)
    hdr.stamp.sec, hdr.stamp.nanosec = sec, int(round((seconds - sec) * 1e9)) % 1_000_000_000
    hdr.frame_id = frame_id
    return hdr


def image_msg(frame: np.ndarray, hdr: Header, encoding: str | None = None) -> Image:
    """A new Image whose `data` is `frame`'s own buffer (for a topic's frames: ImageMessage)."""
    return ImageMessage().fill(frame, hdr, encoding)


class ImageMessage:
    """One topic's Images, on a kept message: per frame only the header and the data view change.

    Making an Image costs about as much as publishing a small one. The returned message is
    rewritten by the next fill: publish it first (publish() serialises before returning).
    """

    def __init__(self):
        self._msg, self._layout = Image(), None

    def fill(self, frame: np.ndarray, hdr: Header, encoding: str | None = None) -> Image:
        """`frame` (rows made contiguous, so step = width * pixel size) as this topic's Image."""
        frame = np.ascontiguousarray(frame)
        msg, layout = self._msg, (frame.shape, frame.dtype, encoding)
        if layout != self._layout:
            msg.height, msg.width = frame.shape[:2]
            msg.encoding = encoding or encoding_of(frame)
            msg.is_bigendian = int(sys.byteorder == "big" and frame.dtype.itemsize > 1)
            msg.step = frame.strides[0]
            self._layout = layout
        msg.header = hdr
        return share_bytes(msg, frame)


def share_bytes(msg, array: np.ndarray | bytes):
    """`msg` with its uint8[] `data` field set to the bytes of `array`, without copying them.

    publish() copies a primitive array into the middleware through the buffer protocol
    (rosidl_generator_py's converter takes any buffer), so a byte view of the array serves.
    The `data` setter would copy it into a new array.array first (element by element for an
    ndarray), hence the slot is set directly. The array must not change until published.
    """
    data = np.frombuffer(array, np.uint8) if isinstance(array, bytes) else \
        np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    msg._data = data   # noqa: SLF001 - see above
    return msg


def camera_info_msg(model: CameraModel | CameraInfoValues, hdr: Header, tx: float = 0.0) -> CameraInfo:
    """CameraInfo from core.camera_info's values (or a model and P's tx: see camera_info there):
    the distortion the stream's images carry, R = I, P = [K | (tx, 0, 0)]."""
    v = model if isinstance(model, CameraInfoValues) else camera_info(model, tx)
    return CameraInfo(header=hdr, height=v.height, width=v.width, distortion_model=v.distortion_model,
                      d=v.d, k=v.k, r=v.r, p=v.p, roi=RegionOfInterest())


def disparity_msg(disparity: np.ndarray, hdr: Header, f: float, baseline: float,
                  min_disparity: float, max_disparity: float, delta_d: float) -> DisparityImage:
    """stereo_msgs/DisparityImage from a float32 disparity map in pixels (0 = invalid)."""
    height, width = disparity.shape
    return DisparityImage(header=hdr, image=image_msg(disparity.astype(np.float32, copy=False), hdr),
                          f=float(f), t=float(baseline),
                          valid_window=RegionOfInterest(x_offset=0, y_offset=0, height=height, width=width),
                          min_disparity=float(min_disparity), max_disparity=float(max_disparity),
                          delta_d=float(delta_d))


def transform(parent: str, child: str, xyz, quat_xyzw, seconds: float = 0.0) -> TransformStamped:
    q = quat_xyzw
    return TransformStamped(header=header(parent, seconds), child_frame_id=child, transform=Transform(
        translation=Vector3(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2])),
        rotation=Quaternion(x=float(q[0]), y=float(q[1]), z=float(q[2]), w=float(q[3]))))


def camera_transforms(base_frame: str, body_frame: str, optical_frame: str, model: CameraModel,
                      seconds: float) -> list[TransformStamped]:
    """base -> camera body frame (at the camera centre, with its calibrated rotation) -> optical frame."""
    return [transform(t.parent, t.child, t.translation, t.rotation, seconds)
            for t in static_camera_transforms(base_frame, body_frame, optical_frame, model)]
