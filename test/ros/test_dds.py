"""The node's Fast DDS profile: chosen only when the user chose nothing, and a valid profile."""
import xml.etree.ElementTree as ET

from depthai_ros_bridge.ros.dds import LARGE_FRAMES_PROFILE, use_large_frames_profile


def test_the_profile_is_used_when_nothing_else_is_chosen():
    env = {}
    assert use_large_frames_profile(env) and env["FASTDDS_DEFAULT_PROFILES_FILE"] == str(LARGE_FRAMES_PROFILE)
    env = {"RMW_IMPLEMENTATION": "rmw_fastrtps_dynamic_cpp"}
    assert use_large_frames_profile(env) and "FASTDDS_DEFAULT_PROFILES_FILE" in env


def test_a_users_profile_or_another_middleware_is_left_alone():
    for env in ({"FASTDDS_DEFAULT_PROFILES_FILE": "/mine.xml"}, {"FASTRTPS_DEFAULT_PROFILES_FILE": "/old.xml"},
                {"RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp"}):
        before = dict(env)
        assert not use_large_frames_profile(env) and env == before


def test_profile_keeps_udp_and_sizes_shared_memory_for_frames():
    ns = {"f": "http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles"}
    root = ET.parse(LARGE_FRAMES_PROFILE).getroot()
    kinds = {d.findtext("f:transport_id", namespaces=ns): d for d in root.iterfind(".//f:transport_descriptor", ns)}
    assert {d.findtext("f:type", namespaces=ns) for d in kinds.values()} == {"SHM", "UDPv4"}
    shm = next(d for d in kinds.values() if d.findtext("f:type", namespaces=ns) == "SHM")
    assert int(shm.findtext("f:segment_size", namespaces=ns)) >= 4 * 1920 * 1080 * 3     # a few 1080p frames
    participant = root.find(".//f:participant", ns)
    assert participant.get("is_default_profile") == "true"
    used = [t.text for t in participant.iterfind(".//f:userTransports/f:transport_id", ns)]
    assert sorted(used) == sorted(kinds)
    assert participant.findtext(".//f:useBuiltinTransports", namespaces=ns) == "false"
