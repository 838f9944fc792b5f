"""~/rgb/image_raw/ffmpeg (H.264 packets) and ~/rgb/capture_still over DDS, decoded with real decoders
(PyAV's FFmpeg, OpenCV's JPEG) and compared with the raw colour frames of the same stamp."""
import threading

import av
import cv2
import numpy as np
import pytest
from ffmpeg_image_transport_msgs.msg import FFMPEGPacket
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_srvs.srv import Trigger

from harness import Collector, Harness, image_array, stamp_of, wait_until

RELIABLE = QoSProfile(depth=100)
LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
KEYFRAMES = 10
# Colour only (1080p, moving scene): the still must show the instant its stamp names.
COLOUR = {"device.type": "sim", "rgb.fps": 10.0, "stereo.enabled": False, "left.enabled": False,
          "right.enabled": False, "video.enabled": True, "video.keyframe_frequency": KEYFRAMES}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def decode(packets) -> list[tuple[int, np.ndarray]]:
    """(pts, BGR frame) of each frame FFmpeg's decoder makes from the packets, as ffmpeg_image_transport's
    subscriber does: nothing before the first key frame; any decoding error fails the test."""
    codec = av.CodecContext.create(packets[0].encoding, "r")
    started, out = False, []
    for msg in packets:
        started = started or bool(msg.flags)
        if started:
            packet = av.Packet(bytes(msg.data))
            packet.pts = msg.pts
            out += [(f.pts, f.to_ndarray(format="bgr24")) for f in codec.decode(packet)]
    out += [(f.pts, f.to_ndarray(format="bgr24")) for f in codec.decode(None)]
    return out


def _collector(h: Harness, topic: str, msg_type, qos, keep: int) -> Collector:
    h.collectors[h.topic(topic)] = Collector(keep=keep)
    return h.subscribe(topic, msg_type, qos)


@pytest.fixture(scope="module")
def colour(ros):
    h = Harness(**COLOUR)
    raw = _collector(h, "rgb/image_raw", Image, RELIABLE, keep=80)
    assert h.transition("configure") and h.transition("activate")
    raw.wait(count=3)
    yield h, raw
    h.close()


def test_video_is_encoded_only_while_someone_subscribes_then_decodes_against_raw_frames(colour):
    h, raw = colour
    assert h.node.device.video.encoded == 0          # three raw frames in, nobody on the ffmpeg topic yet
    packets = _collector(h, "rgb/image_raw/ffmpeg", FFMPEGPacket, RELIABLE, keep=200)
    packets.wait(count=2 * KEYFRAMES + 5)
    got = packets.messages
    first = got[0]
    assert (first.encoding, first.width, first.height, first.is_bigendian) == ("h264", 1920, 1080, False)
    assert first.header.frame_id == raw.messages[-1].header.frame_id
    pts = [m.pts for m in got]
    assert pts == sorted(set(pts))                                      # one packet per frame, pts increasing
    # The stream starts at a key frame, and one comes every keyframe_frequency frames (no B-frames: one
    # packet per frame in frame order).
    assert [i for i, m in enumerate(got) if m.flags] == list(range(0, len(got), KEYFRAMES))
    stamps = {m.pts: stamp_of(m) for m in got}
    decoded = decode(got)
    assert [p for p, _ in decoded] == pts
    raws = {stamp_of(m): m for m in raw.messages}
    scores = [psnr(frame, image_array(raws[stamps[p]])) for p, frame in decoded if stamps[p] in raws]
    assert len(scores) >= 10, "raw frames of the packets' stamps"
    assert min(scores) >= 30.0, f"PSNR at the default 8000 kbit/s: {min(scores):.1f} dB"


def test_a_late_subscriber_decodes_from_the_next_key_frame(colour):
    h, _ = colour
    early = _collector(h, "rgb/image_raw/ffmpeg", FFMPEGPacket, RELIABLE, keep=200)
    early.wait(count=early.count + 3)                   # the stream is running: the late one joins mid-GOP
    late = _collector(h, "rgb/image_raw/ffmpeg", FFMPEGPacket, RELIABLE, keep=200)
    wait_until(lambda: sum(m.flags for m in late.messages) >= 2, what="two key frames for the late subscriber")
    got = late.messages
    start = next(i for i, m in enumerate(got) if m.flags)
    decoded = decode(got)
    assert [p for p, _ in decoded] == [m.pts for m in got[start:]]     # every packet from the key frame decodes
    assert all(m.pts > 0 for m in got[:start])


def _call_still(h: Harness) -> Trigger.Response:
    return h._call(Trigger, h.topic("rgb/capture_still"), Trigger.Request())


def test_still_capture_full_resolution_jpeg_of_the_same_instant(colour):
    h, raw = colour
    reply = _call_still(h)
    assert reply.success, reply.message
    assert reply.message.startswith("4056x3040 JPEG")
    still = _collector(h, "rgb/still/compressed", CompressedImage, LATCHED, keep=1).wait()   # latched
    info = _collector(h, "rgb/still/camera_info", CameraInfo, LATCHED, keep=1).wait()
    assert still.format == "bgr8; jpeg compressed bgr8"
    image = cv2.imdecode(np.frombuffer(bytes(still.data), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (3040, 4056, 3)
    assert (info.width, info.height) == (4056, 3040) and stamp_of(info) == stamp_of(still)
    assert f"{still.header.stamp.sec + still.header.stamp.nanosec * 1e-9:.9f}" in reply.message
    assert still.header.frame_id == raw.messages[-1].header.frame_id
    # The colour frame of the same stamp shows the same scene; frames of other instants (moving objects) less so.
    wait_until(lambda: stamp_of(still) in {stamp_of(m) for m in raw.messages},
               what="the raw frame of the still's stamp")
    frames = {stamp_of(m): image_array(m) for m in raw.messages}
    small = cv2.resize(image, (1920, 1080), interpolation=cv2.INTER_AREA)
    same = psnr(small, frames[stamp_of(still)])
    others = [psnr(small, f) for s, f in frames.items() if abs(s[0] + s[1] * 1e-9 - stamp_of(still)[0]
                                                                 - stamp_of(still)[1] * 1e-9) > 0.35]
    assert same >= 30.0, f"{same:.1f} dB"
    assert others and max(others) < same - 1.0


def test_a_second_still_while_one_is_taken_is_refused(colour):
    h, _ = colour
    client = h.client.create_client(Trigger, h.topic("rgb/capture_still"))
    assert client.wait_for_service(timeout_sec=30)
    done = threading.Semaphore(0)
    futures = [client.call_async(Trigger.Request()) for _ in range(2)]
    for f in futures:
        f.add_done_callback(lambda _f: done.release())
    assert all(done.acquire(timeout=60) for _ in futures)
    replies = sorted((f.result().success, f.result().message) for f in futures)
    assert replies[1][0] and not replies[0][0], replies
    assert "already in progress" in replies[0][1]


def test_still_service_answers_in_every_state_with_why_not(ros):
    h = Harness(**{**COLOUR, "video.enabled": False})
    try:
        reply = _call_still(h)
        assert not reply.success and "not active" in reply.message and "unconfigured" in reply.message
        assert h.transition("configure")
        reply = _call_still(h)
        assert not reply.success and "inactive" in reply.message
    finally:
        h.close()
    h = Harness(**{"device.type": "sim", "rgb.enabled": False, "stereo.enabled": False, "right.enabled": False,
                   "left.fps": 10.0})
    try:
        assert h.transition("configure") and h.transition("activate")
        reply = _call_still(h)
        assert not reply.success and "rgb.enabled" in reply.message
    finally:
        h.close()
