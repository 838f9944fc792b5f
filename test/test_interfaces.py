"""vision_msgs and tf2_msgs built from interfaces/ are the upstream interfaces.

A ROS 2 (Jazzy and later) endpoint advertises the RIHS01 type hash of its
message type; subscribers and publishers whose hashes differ do not match. The
hashes below were produced by building the upstream definitions (vision_msgs
4.1.1 from ros-perception/vision_msgs, tf2_msgs from ros2/geometry2 rolling,
identical in Jazzy/Kilted) with the same rosidl wheels, and agree with the
hashes real ROS installs publish (e.g. TFMessage below is what `ros2 topic info
-v /tf` reports). The hash covers field names, types and order of a type and of
everything it references; it does not cover constants or default values, so
those are checked separately against the .msg sources.

ffmpeg_image_transport_msgs/FFMPEGPacket: no published hash was found, so the expected one was
computed independently of our build, by hand from REP-2011's rules (field type ids, the JSON
form rosidl hashes) over upstream's msg/FFMPEGPacket.msg (ros-misc-utilities/
ffmpeg_image_transport_msgs, commit a4b3f19, version 1.0.x) with std_msgs/Header and
builtin_interfaces/Time as references; our build produces the same value.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INTERFACES = REPO / "interfaces"

UPSTREAM_HASHES = {
    "vision_msgs/msg/BoundingBox2D":
        "RIHS01_008eacbb0cf8f26e83795547bed013eec3675485ef386ec056d80eaaf1c1ce2f",
    "vision_msgs/msg/BoundingBox2DArray":
        "RIHS01_2464e82838009386d371b523211c21c91d74d313fcdd6788223c531d621cf691",
    "vision_msgs/msg/BoundingBox3D":
        "RIHS01_bbb73a65c163d7f9bb29009c7bde9f7faa576bd2d23299c4511d19230dab4698",
    "vision_msgs/msg/BoundingBox3DArray":
        "RIHS01_a81938db9576b10c2eecd7c5a5da3eac496efd00221b25ed051dfbc81fb56da6",
    "vision_msgs/msg/Classification":
        "RIHS01_f74db28d0eaef3afb78f48bf2161cd709a1383a0309d3454383b25be11345143",
    "vision_msgs/msg/Detection2D":
        "RIHS01_0d12b69df5c593b3455b7346fac8205437a7d4bcb09b9e0e0b2dde787ded38ea",
    "vision_msgs/msg/Detection2DArray":
        "RIHS01_214274120007f4a683866481336b70310268cfa107aebe9d594a6acf75bda968",
    "vision_msgs/msg/Detection3D":
        "RIHS01_ddd703be132ab0b69d33121f1bb034132bfbb3b0ac5f9fb1516005ba1c8a265b",
    "vision_msgs/msg/Detection3DArray":
        "RIHS01_793f5eab9595ac1c0da07873cc859db42eae51f0ee76056db8562515d830e018",
    "vision_msgs/msg/LabelInfo":
        "RIHS01_3d37df4015cdf660cc851c51897f2acd957e1ca6205ba0a99aebffb9406b0783",
    "vision_msgs/msg/ObjectHypothesis":
        "RIHS01_51da43cec11c01957a64d1e05a24acd18aae7745ec30b74348ad5f6d634f7f90",
    "vision_msgs/msg/ObjectHypothesisWithPose":
        "RIHS01_41c12344c0396c48b81df12467c192d99b2a0eb1463c5c37194e4223251c80bc",
    "vision_msgs/msg/Point2D":
        "RIHS01_eab0e83f44ab4de92ceaf76dd7d0e7638f2bdd1d16ffbe16c7a136c48e407247",
    "vision_msgs/msg/Pose2D":
        "RIHS01_b0b5d1d7b4c20dd4fcde3ed1d4b289a919290572007d67a97043814db25d3648",
    "vision_msgs/msg/VisionClass":
        "RIHS01_1e4a11f0fed50b5623cb8ff26ca0e37952a48a9c074d16f804b44e9164c2037a",
    "vision_msgs/msg/VisionInfo":
        "RIHS01_95d3116a17484ad91c9a2686e1d54890bbfc3ff6c6a2de137738c4950d45d284",
    "tf2_msgs/msg/TF2Error":
        "RIHS01_db2485e7d6a0ec75bf087e058ee45df682acc3a621ca7780503d10aac141809a",
    "tf2_msgs/msg/TFMessage":
        "RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f087",
    "tf2_msgs/srv/FrameGraph":
        "RIHS01_0d1fbc6222c018ba5f33822904a2fdd4063705289956d3fdde07cd8c50fe8067",
    "tf2_msgs/srv/FrameGraph_Event":
        "RIHS01_97e5494f0af64046abdb3f1fc91a91f0a3ac7f1132dcfe32f350601227daa817",
    "tf2_msgs/srv/FrameGraph_Request":
        "RIHS01_4cc565da6b64726d0b0be1ce20f3a3a695679b841a79abfca2fcdc94f562b08d",
    "tf2_msgs/srv/FrameGraph_Response":
        "RIHS01_e33d5473ce0fac04c66203779f2b719a9de0f8388b248852d3a47a019e62e36d",
    "ffmpeg_image_transport_msgs/msg/FFMPEGPacket":
        "RIHS01_648d84e0d33cbf76daf54b094d8f06154b8a24800a19c14371754df799fbaf79",
    "tf2_msgs/action/LookupTransform":
        "RIHS01_0b8adf6bc0b5958879e3265b41a457e03558fe523890a81252c70eba97a82c5d",
    "tf2_msgs/action/LookupTransform_Feedback":
        "RIHS01_2da0b02f990f04404ab8c98a2a68cf5bbc773ae747f96911f2d55499cfb51542",
    "tf2_msgs/action/LookupTransform_FeedbackMessage":
        "RIHS01_10cb89922dcb103e95c185d43e8a5efa3d38db996f733151a2f3e2ac133f4839",
    "tf2_msgs/action/LookupTransform_GetResult":
        "RIHS01_3cd1715751899e3167b5aec3e4ac194f7da9e8493a77285f9f6a4c914f5e8b24",
    "tf2_msgs/action/LookupTransform_GetResult_Event":
        "RIHS01_3260115e0f6a676d621f191f85a72a0c82f9fcb1483965c1fbaaab0b1d651a9e",
    "tf2_msgs/action/LookupTransform_GetResult_Request":
        "RIHS01_148f9bdc01f98922d6fb2072cb64468b89c57c7825d9d83b932c183deaa4697d",
    "tf2_msgs/action/LookupTransform_GetResult_Response":
        "RIHS01_954de3efc36b164c4d21116abdbdcc52746e454fd9c169b55d9cfd89e83d299d",
    "tf2_msgs/action/LookupTransform_Goal":
        "RIHS01_815efc294ad17c813c6043cdde781ff55810d49da02ed07f9237dcd20e88d498",
    "tf2_msgs/action/LookupTransform_Result":
        "RIHS01_061d4423af5352ff5314c8effef8faab133991a78f1b2bcd1fecabad80871225",
    "tf2_msgs/action/LookupTransform_SendGoal":
        "RIHS01_4646ff5706c86b04d0a1098d329951a9731a7517e16702905de6073cc72c8530",
    "tf2_msgs/action/LookupTransform_SendGoal_Event":
        "RIHS01_5ab93d3d6c35b56390325099cb088c73bae176a39123f2f6dfe119582436acc5",
    "tf2_msgs/action/LookupTransform_SendGoal_Request":
        "RIHS01_eb1312eb7aab35e35c71bb87c2ba3a94747c5a6544ea32bb2b32b0f75775b8ca",
    "tf2_msgs/action/LookupTransform_SendGoal_Response":
        "RIHS01_c1ada93304793c08813657255e7bde2e40e2114aa634b702c3f8d4b72ae098bc",
}

# Interface files each upstream package defines (and nothing else).
UPSTREAM_INTERFACES = {
    "vision_msgs": {f"msg/{n}.msg" for n in (
        "BoundingBox2D", "BoundingBox2DArray", "BoundingBox3D", "BoundingBox3DArray",
        "Classification", "Detection2D", "Detection2DArray", "Detection3D", "Detection3DArray",
        "LabelInfo", "ObjectHypothesis", "ObjectHypothesisWithPose", "Point2D", "Pose2D",
        "VisionClass", "VisionInfo")},
    "tf2_msgs": {"msg/TF2Error.msg", "msg/TFMessage.msg", "srv/FrameGraph.srv",
                 "action/LookupTransform.action"},
    "ffmpeg_image_transport_msgs": {"msg/FFMPEGPacket.msg"},
}

# The only constants upstream defines in these packages.
UPSTREAM_CONSTANTS = {
    "tf2_msgs/msg/TF2Error": [
        ("NO_ERROR", "uint8", 0), ("LOOKUP_ERROR", "uint8", 1), ("CONNECTIVITY_ERROR", "uint8", 2),
        ("EXTRAPOLATION_ERROR", "uint8", 3), ("INVALID_ARGUMENT_ERROR", "uint8", 4),
        ("TIMEOUT_ERROR", "uint8", 5), ("TRANSFORM_ERROR", "uint8", 6),
    ],
}


def _prefix_share(pkg: str) -> Path:
    """share/<pkg> of the install that Python imports the package from."""
    module = __import__(pkg)
    # <prefix>/lib/pythonX.Y/site-packages/<pkg>/__init__.py
    share = Path(module.__file__).resolve().parents[4] / "share" / pkg
    assert share.is_dir(), f"{pkg} is importable but {share} is missing"
    return share


def _built_hashes() -> dict[str, str]:
    hashes = {}
    for pkg in UPSTREAM_INTERFACES:
        for desc in _prefix_share(pkg).glob("*/*.json"):
            for entry in json.loads(desc.read_text())["type_hashes"]:
                if entry["type_name"].startswith(pkg + "/"):
                    hashes[entry["type_name"]] = entry["hash_string"]
    return hashes


def test_sources_define_exactly_the_upstream_interfaces():
    for pkg, expected in UPSTREAM_INTERFACES.items():
        found = {str(p.relative_to(INTERFACES / pkg)) for p in (INTERFACES / pkg).glob("*/*.*")
                 if p.suffix in (".msg", ".srv", ".action")}
        assert found == expected, pkg


def test_built_type_hashes_match_upstream():
    assert _built_hashes() == UPSTREAM_HASHES


def _parse(path: Path):
    from rosidl_adapter.parser import parse_action_file, parse_message_file, parse_service_file

    pkg = path.parents[1].name
    if path.suffix == ".msg":
        return [(f"{pkg}/msg/{path.stem}", parse_message_file(pkg, str(path)))]
    if path.suffix == ".srv":
        srv = parse_service_file(pkg, str(path))
        return [(f"{pkg}/srv/{path.stem}_Request", srv.request),
                (f"{pkg}/srv/{path.stem}_Response", srv.response)]
    act = parse_action_file(pkg, str(path))
    return [(f"{pkg}/action/{path.stem}_{part}", getattr(act, part.lower()))
            for part in ("Goal", "Result", "Feedback")]


def _all_specs():
    for pkg, files in UPSTREAM_INTERFACES.items():
        for rel in sorted(files):
            yield from _parse(INTERFACES / pkg / rel)


def test_constants_match_upstream():
    # Not covered by the type hash.
    constants = {name: [(c.name, str(c.type), c.value) for c in spec.constants]
                 for name, spec in _all_specs() if spec.constants}
    assert constants == UPSTREAM_CONSTANTS


def test_no_field_has_a_default_value():
    # Upstream sets no defaults in these packages; defaults are not in the hash.
    with_defaults = [(name, f.name) for name, spec in _all_specs() for f in spec.fields
                     if f.default_value is not None]
    assert with_defaults == []


def test_tf2error_constants_in_python():
    from tf2_msgs.msg import TF2Error

    assert {n: getattr(TF2Error, n) for n, _, _ in UPSTREAM_CONSTANTS["tf2_msgs/msg/TF2Error"]} == {
        n: v for n, _, v in UPSTREAM_CONSTANTS["tf2_msgs/msg/TF2Error"]}


@pytest.mark.parametrize("cls_path, fields", [
    ("vision_msgs.msg.Detection3D", [
        ("header", "std_msgs/Header"),
        ("results", "sequence<vision_msgs/ObjectHypothesisWithPose>"),
        ("bbox", "vision_msgs/BoundingBox3D"),
        ("id", "string")]),
    ("vision_msgs.msg.Detection2D", [
        ("header", "std_msgs/Header"),
        ("results", "sequence<vision_msgs/ObjectHypothesisWithPose>"),
        ("bbox", "vision_msgs/BoundingBox2D"),
        ("id", "string")]),
    ("vision_msgs.msg.ObjectHypothesis", [("class_id", "string"), ("score", "double")]),
    ("vision_msgs.msg.ObjectHypothesisWithPose", [
        ("hypothesis", "vision_msgs/ObjectHypothesis"),
        ("pose", "geometry_msgs/PoseWithCovariance")]),
    ("vision_msgs.msg.BoundingBox3D", [("center", "geometry_msgs/Pose"),
                                       ("size", "geometry_msgs/Vector3")]),
    ("vision_msgs.msg.BoundingBox2D", [("center", "vision_msgs/Pose2D"),
                                       ("size_x", "double"), ("size_y", "double")]),
    ("vision_msgs.msg.LabelInfo", [("header", "std_msgs/Header"),
                                   ("class_map", "sequence<vision_msgs/VisionClass>"),
                                   ("threshold", "float")]),
    ("vision_msgs.msg.VisionClass", [("class_id", "uint16"), ("class_name", "string")]),
    ("tf2_msgs.msg.TFMessage", [("transforms", "sequence<geometry_msgs/TransformStamped>")]),
    ("ffmpeg_image_transport_msgs.msg.FFMPEGPacket", [
        ("header", "std_msgs/Header"), ("width", "int32"), ("height", "int32"), ("encoding", "string"),
        ("pts", "uint64"), ("flags", "uint8"), ("is_bigendian", "boolean"), ("data", "sequence<uint8>")]),
])
def test_python_fields_in_upstream_order(cls_path, fields):
    module, _, name = cls_path.rpartition(".")
    cls = getattr(__import__(module, fromlist=[name]), name)
    assert list(cls.get_fields_and_field_types().items()) == fields


_PUBLISHER = textwrap.dedent("""
    import sys, time
    import rclpy
    from tf2_msgs.msg import TFMessage
    from geometry_msgs.msg import TransformStamped
    from vision_msgs.msg import Detection3D, Detection3DArray, ObjectHypothesisWithPose

    rclpy.init()
    node = rclpy.create_node("drb_interfaces_pub")
    det_pub = node.create_publisher(Detection3DArray, sys.argv[2] + "/detections", 10)
    tf_pub = node.create_publisher(TFMessage, sys.argv[2] + "/tf", 10)
    dets = Detection3DArray()
    dets.header.frame_id = "oak_rgb_camera_optical_frame"
    det = Detection3D(id="track-7")
    hyp = ObjectHypothesisWithPose()
    hyp.hypothesis.class_id = "person"
    hyp.hypothesis.score = 0.875
    det.results.append(hyp)
    det.bbox.center.position.z = 2.5
    det.bbox.size.x = 0.5
    dets.detections.append(det)
    tf = TFMessage(transforms=[TransformStamped(child_frame_id="oak_rgb_camera_frame")])
    tf.transforms[0].header.frame_id = "oak"
    deadline = time.monotonic() + float(sys.argv[1])
    try:
        while time.monotonic() < deadline:
            det_pub.publish(dets)
            tf_pub.publish(tf)
            time.sleep(0.05)
    except Exception:
        if rclpy.ok():  # not merely stopped by the test's SIGTERM
            raise
    finally:
        rclpy.try_shutdown()
""")


def test_messages_cross_dds_between_processes_with_upstream_hashes():
    assert os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE")  # set by conftest.py
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from tf2_msgs.msg import TFMessage
    from vision_msgs.msg import Detection3DArray

    # Unique topics: another test run sharing this ROS domain must not interfere.
    ns = f"/drb_test_{os.getpid()}"
    publisher = subprocess.Popen([sys.executable, "-c", _PUBLISHER, "30", ns], env=os.environ.copy())
    context = Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node("drb_interfaces_sub", context=context)
        got: dict[str, object] = {}
        node.create_subscription(Detection3DArray, f"{ns}/detections",
                                 lambda m: got.setdefault("dets", m), 10)
        node.create_subscription(TFMessage, f"{ns}/tf", lambda m: got.setdefault("tf", m), 10)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        deadline = time.monotonic() + 25.0
        while len(got) < 2 and time.monotonic() < deadline and publisher.poll() is None:
            executor.spin_once(timeout_sec=0.1)
        assert set(got) == {"dets", "tf"}, f"received only {sorted(got)}"

        det = got["dets"].detections[0]
        assert got["dets"].header.frame_id == "oak_rgb_camera_optical_frame"
        assert det.id == "track-7"
        assert det.results[0].hypothesis.class_id == "person"
        assert det.results[0].hypothesis.score == pytest.approx(0.875)
        assert (det.bbox.center.position.z, det.bbox.size.x) == (2.5, 0.5)
        assert got["tf"].transforms[0].child_frame_id == "oak_rgb_camera_frame"

        # The hash the remote endpoint advertises on the ROS graph. Graph data
        # can trail the first samples, so poll for it (this node has no
        # publishers: every publisher endpoint seen is the other process's).
        expected = {f"{ns}/detections": UPSTREAM_HASHES["vision_msgs/msg/Detection3DArray"],
                    f"{ns}/tf": UPSTREAM_HASHES["tf2_msgs/msg/TFMessage"]}
        seen: dict[str, list[str]] = {}
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline:
            seen = {t: [str(i.topic_type_hash) for i in node.get_publishers_info_by_topic(t)]
                    for t in expected}
            if all(seen.values()):
                break
            executor.spin_once(timeout_sec=0.1)
        assert seen == {t: [h] for t, h in expected.items()}
        executor.shutdown()
        node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)
        publisher.terminate()
        publisher.wait(timeout=10)
