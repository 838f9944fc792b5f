"""Device-encoded frames -> ROS: H.264/H.265 packets as ffmpeg_image_transport_msgs/FFMPEGPacket
(what image_transport's `ffmpeg` plugin publishes and decodes) and on-device MJPEG as
sensor_msgs/CompressedImage.

Both backends hand over `dai.EncodedFrame`s: the simulator's libx264/libx265, the OAK's VideoEncoder.
"""
from __future__ import annotations

import sys
from datetime import timedelta

import depthai as dai
from ffmpeg_image_transport_msgs.msg import FFMPEGPacket
from sensor_msgs.msg import CompressedImage

from . import messages as conv

TOPIC = "~/rgb/image_raw/ffmpeg"
KEY_FLAG = 1            # AV_PKT_FLAG_KEY: ffmpeg_image_transport's subscriber starts decoding at such a packet
# EncodedFrame.Profile -> FFmpeg's codec name (FFMPEGPacket.encoding selects the subscriber's decoder).
_ENCODINGS = {dai.EncodedFrame.Profile.AVC: "h264", dai.EncodedFrame.Profile.HEVC: "hevc"}
_BIG_ENDIAN = sys.byteorder == "big"


def seconds_of(frame) -> float:
    stamp = frame.getTimestamp()
    return stamp.total_seconds() if isinstance(stamp, timedelta) else float(stamp)


def packet_msg(frame: dai.EncodedFrame, frame_id: str, clock_offset: float,
               timestamp: float | None = None) -> FFMPEGPacket:
    """One packet: pts = the encoded colour frame's sequence number, header = that frame's (its exact
    device `timestamp` where known, else the packet's own)."""
    seconds = (seconds_of(frame) if timestamp is None else timestamp) + clock_offset
    msg = FFMPEGPacket(header=conv.header(frame_id, seconds),
                       width=frame.getWidth(), height=frame.getHeight(),
                       encoding=_ENCODINGS[frame.getProfile()], pts=frame.getSequenceNum(),
                       flags=KEY_FLAG if frame.getFrameType() == dai.EncodedFrame.FrameType.I else 0,
                       is_bigendian=_BIG_ENDIAN)
    return conv.share_bytes(msg, frame.getData())


def jpeg_msg(frame: dai.EncodedFrame, hdr, colour: bool) -> CompressedImage:
    """A JPEG the device encoded, as image_transport's compressed plugin labels it."""
    encoding = "bgr8" if colour else "mono8"
    msg = CompressedImage(header=hdr, format=f"{encoding}; jpeg compressed {encoding}")
    return conv.share_bytes(msg, frame.getData())
