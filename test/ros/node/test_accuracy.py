"""Published depth against the simulator's ground truth, and the published geometry (CameraInfo, TF)."""
import numpy as np
import pytest
from rclpy.qos import DurabilityPolicy, QoSProfile
from sensor_msgs.msg import CameraInfo, Image
from tf2_msgs.msg import TFMessage

from harness import FAST_SIM, Harness


def _stamp(msg):
    return (msg.header.stamp.sec, msg.header.stamp.nanosec)


def _rotate(q, v):
    x, y, z, w = q.x, q.y, q.z, q.w
    r = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    return r @ np.asarray(v, float)


def _to_parent(transform, point):
    t = transform.transform.translation
    return _rotate(transform.transform.rotation, point) + [t.x, t.y, t.z]


@pytest.fixture(scope="module")
def received(ros):
    """One depth frame with its CameraInfo, from a static scene, and the renderer's truth for it."""
    h = Harness(**FAST_SIM)
    depth, info = h.subscribe("stereo/image_raw", Image), h.subscribe("stereo/camera_info", CameraInfo)
    tf = h.subscribe("/tf_static", TFMessage, QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL))
    assert h.transition("configure") and h.transition("activate")
    msg = depth.wait()
    info_msg = info.wait()
    device = h.node.device
    truth = device.renderer.render(device.rig.right, 0.0, mono=True)     # static scene: any t
    measured = np.frombuffer(bytes(msg.data), np.uint16).reshape(msg.height, msg.width) / 1000.0
    yield h, measured, info_msg, truth, tf.wait()
    h.close()


def test_stereo_depth_matches_ground_truth_on_textured_surfaces(received):
    _, measured, _, truth, _ = received
    in_range = (truth.depth > 0.5) & (truth.depth < 5.0)
    valid = in_range & (measured > 0)
    error = np.abs(measured[valid] - truth.depth[valid]) / truth.depth[valid]
    median, fraction = float(np.median(error)), valid.sum() / in_range.sum()
    print(f"\nstereo depth vs ground truth (0.5-5 m): median |relative error| {100 * median:.2f} %, "
          f"p90 {100 * np.percentile(error, 90):.2f} %, valid pixels {100 * fraction:.1f} %")
    assert median < 0.02
    assert fraction > 0.7


def test_point_reprojected_with_camera_info_lands_on_the_object(received):
    h, measured, info, truth, _ = received
    k = np.reshape(info.k, (3, 3))
    camera = h.node.device.rig.right
    checked = 0
    for obj in truth.objects:
        centre = camera.to_camera(obj.centre)
        u, v = np.round(camera.project(centre)).astype(int)
        if truth.mask[v, u] != obj.index:
            continue
        window = measured[v - 2:v + 3, u - 2:u + 3]
        z = float(np.median(window[window > 0]))
        point = np.linalg.inv(k) @ [u, v, 1.0] * z                      # what a ROS user computes
        surface = np.linalg.inv(k) @ [u, v, 1.0] * truth.depth[v, u]     # where the ray meets the object
        assert np.linalg.norm(point - surface) < 0.03 * np.linalg.norm(surface)
        assert np.linalg.norm(surface - centre) <= max(obj.size)       # on that object, not behind it
        checked += 1
    assert checked >= 3


def test_a_point_in_front_of_the_rgb_camera_is_forward_of_the_base(received):
    h, _, _, _, tf = received
    by_child = {t.child_frame_id: t for t in tf.transforms}
    optical = by_child[f"{h.name}_rgb_camera_optical_frame"]
    body = by_child[optical.header.frame_id]
    point_in_body = _to_parent(optical, [0.0, 0.0, 1.0])       # 1 m along the optical axis (+z)
    np.testing.assert_allclose(point_in_body, [1.0, 0.0, 0.0], atol=1e-9)
    point_in_base = _to_parent(body, point_in_body)
    rgb = h.node.device.rig.rgb.position                         # rig frame: x right, y down, z forward
    np.testing.assert_allclose(point_in_base, [1.0 + rgb[2], -rgb[0], -rgb[1]], atol=1e-9)
    right_of_image = _to_parent(optical, [1.0, 0.0, 0.0])       # optical +x is the camera's right: -y
    np.testing.assert_allclose(right_of_image, [0.0, -1.0, 0.0], atol=1e-9)
