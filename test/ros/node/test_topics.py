"""Every enabled stream, received over DDS: types, encodings, sizes, frame ids, stamps, TF, diagnostics."""
import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import CameraInfo, Image
from stereo_msgs.msg import DisparityImage
from tf2_msgs.msg import TFMessage

from harness import FAST_SIM, image_array, stamp_of, wait_until

STREAMS = {  # topic prefix -> (encoding, width, height, camera whose optical frame it is in)
    "rgb": ("bgr8", 1280, 720, "rgb"),
    "left": ("mono8", 640, 400, "left"),
    "right": ("mono8", 640, 400, "right"),
    "stereo": ("16UC1", 640, 400, "right"),
}




@pytest.fixture(scope="module")
def active(ros):
    from harness import Harness
    h = Harness(**FAST_SIM)
    subs = {}
    for s in STREAMS:
        subs[f"{s}/image_raw"] = h.subscribe(f"{s}/image_raw", Image)
        subs[f"{s}/camera_info"] = h.subscribe(f"{s}/camera_info", CameraInfo)
    subs["stereo/disparity"] = h.subscribe("stereo/disparity", DisparityImage)
    subs["stereo/disparity_color"] = h.subscribe("stereo/disparity_color", Image)
    latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    subs["tf"] = h.subscribe("/tf_static", TFMessage, latched)
    subs["diagnostics"] = h.subscribe("/diagnostics", DiagnosticArray, QoSProfile(depth=10))
    assert h.transition("configure") and h.transition("activate")
    for name, collector in subs.items():
        collector.wait(count=1 if name == "tf" else 2)   # /tf_static is published once, latched
    yield h, subs
    h.close()


@pytest.mark.parametrize("stream", STREAMS)
def test_images_have_the_configured_encoding_size_and_optical_frame(active, stream):
    h, subs = active
    encoding, width, height, camera = STREAMS[stream]
    msg = subs[f"{stream}/image_raw"].wait()
    assert (msg.encoding, msg.width, msg.height) == (encoding, width, height)
    assert msg.step == width * {"bgr8": 3, "mono8": 1, "16UC1": 2}[encoding]
    assert len(msg.data) == msg.step * height
    assert msg.header.frame_id == f"{h.name}_{camera}_camera_optical_frame"
    assert image_array(msg).any()


@pytest.mark.parametrize("stream", STREAMS)
def test_camera_info_matches_its_image(active, stream):
    h, subs = active
    images, infos = subs[f"{stream}/image_raw"], subs[f"{stream}/camera_info"]
    image = images.wait()
    wait_until(lambda: any(stamp_of(i) == stamp_of(image) for i in infos.messages), what="camera_info of the image")
    info = next(i for i in infos.messages if stamp_of(i) == stamp_of(image))
    assert info.header.frame_id == image.header.frame_id
    assert (info.width, info.height) == (image.width, image.height)
    k = np.reshape(info.k, (3, 3))
    expected = h.node.device.cameras[stream]
    np.testing.assert_allclose(k, expected.K)
    assert np.allclose(np.reshape(info.r, (3, 3)), np.eye(3)) and not any(info.d)
    tx = np.reshape(info.p, (3, 4))[0, 3]
    assert tx == pytest.approx(-expected.fx * 0.075 if stream == "right" else 0.0)


def test_streams_taken_together_share_stamps(active):
    _, subs = active
    left = subs["left/image_raw"].wait()
    wait_until(lambda: any(stamp_of(m) == stamp_of(left) for m in subs["right/image_raw"].messages)
               and any(stamp_of(m) == stamp_of(left) for m in subs["stereo/image_raw"].messages),
               what="right and depth frames with the left frame's stamp")


def test_stamps_increase_at_the_frame_period(active):
    _, subs = active
    subs["left/image_raw"].wait(count=4)
    stamps = [s[0] + s[1] * 1e-9 for s in map(stamp_of, subs["left/image_raw"].messages)]
    steps = np.diff(stamps)
    assert (steps > 0).all()
    # 10 fps capture; a dropped tick is a multiple of the period.
    assert np.allclose(steps / 0.1, np.round(steps / 0.1), atol=0.35)


def test_disparity_image_carries_geometry(active):
    h, subs = active
    msg = subs["stereo/disparity"].wait()
    right = h.node.device.cameras["right"]
    assert msg.f == pytest.approx(right.fx) and msg.t == pytest.approx(0.075)
    assert (msg.min_disparity, msg.max_disparity) == (0.0, pytest.approx(h.node.device.stereo.max_disparity))
    assert msg.delta_d == pytest.approx(1 / 16)
    assert (msg.image.encoding, msg.image.width, msg.image.height) == ("32FC1", 640, 400)
    disparity = image_array(msg.image)
    valid = disparity > 0
    assert valid.mean() > 0.5 and disparity.max() <= msg.max_disparity
    # Disparity and depth describe the same surfaces: z = f * T / d.
    depth = next(m for m in subs["stereo/image_raw"].messages if stamp_of(m) == stamp_of(msg))
    z = image_array(depth).astype(float) / 1000
    both = valid & (z > 0)
    np.testing.assert_allclose(z[both], msg.f * msg.t / disparity[both], rtol=0.01, atol=0.002)


def test_disparity_color_is_a_colourised_bgr_image(active):
    _, subs = active
    msg = subs["stereo/disparity_color"].wait()
    assert (msg.encoding, msg.width, msg.height) == ("bgr8", 640, 400)
    assert len(np.unique(image_array(msg).reshape(-1, 3), axis=0)) > 20


def test_static_tf_links_every_camera_through_its_optical_frame(active):
    h, subs = active
    transforms = {t.child_frame_id: t for t in subs["tf"].wait().transforms}
    for camera in ("rgb", "left", "right"):
        body, optical = f"{h.name}_{camera}_camera_frame", f"{h.name}_{camera}_camera_optical_frame"
        assert transforms[body].header.frame_id == f"{h.name}_base_frame"
        assert transforms[optical].header.frame_id == body
        q = transforms[optical].transform.rotation
        assert (q.x, q.y, q.z, q.w) == (-0.5, 0.5, -0.5, 0.5)
    y = {c: transforms[f"{h.name}_{c}_camera_frame"].transform.translation.y for c in ("left", "rgb", "right")}
    assert y["left"] == pytest.approx(0.0375) and y["right"] == pytest.approx(-0.0375) and y["rgb"] == 0.0


def test_diagnostics_report_the_device_and_each_stream_rate(active):
    h, subs = active

    def values(status) -> dict:
        return dict((kv.key, kv.value) for kv in status.values)

    def counted_frames(msg) -> bool:   # diagnostics are periodic: a message from after every stream's first frame
        by_name = {s.name: values(s) for s in msg.status}
        return by_name.get(f"{h.name}: device", {}).get("state") == "active" and \
            all(int(by_name.get(f"{h.name}: {stream}", {}).get("frames received", 0)) > 0 for stream in STREAMS)

    wait_until(lambda: any(map(counted_frames, subs["diagnostics"].messages)),
               what="diagnostics of the active device with frames of every stream")
    msg = next(m for m in reversed(subs["diagnostics"].messages) if counted_frames(m))
    by_name = {s.name: s for s in msg.status}
    device = values(by_name[f"{h.name}: device"])
    assert device["device type"] == "sim" and by_name[f"{h.name}: device"].hardware_id == device["device id"]
    assert any("simulated" in key for key in device)
    for stream in STREAMS:
        assert float(values(by_name[f"{h.name}: {stream}"])["expected rate (Hz)"]) == 10.0
